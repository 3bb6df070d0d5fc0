"""Pieces both stores share: the bounded change-signal subscription and time helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from poll.store.base import Subscription


class Signals(Subscription):
    """Change signals for one room, bounded to a single pending version.

    A reader that falls behind must not make the store buffer every vote: a newer
    signal replaces an unread older one, which is enough because a signal only
    says "read the room again".
    """

    def __init__(self, room_id: str) -> None:
        self.room_id = room_id
        self.loop = asyncio.get_running_loop()
        self._pending: int | None = None
        self._ready = asyncio.Event()
        self._closed = False

    def put(self, version: int) -> None:
        """Deliver a signal; call from the subscription's own event loop."""
        if self._closed:
            return
        if self._pending is None or version > self._pending:
            self._pending = version
        self._ready.set()

    def put_threadsafe(self, version: int) -> None:
        """Deliver a signal from any thread or event loop."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.put(version)
        elif not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.put, version)

    def close(self) -> None:
        self._closed = True
        self._ready.set()

    async def __aiter__(self) -> AsyncIterator[int]:
        while True:
            await self._ready.wait()
            if self._closed:
                return
            self._ready.clear()
            version = self._pending
            self._pending = None
            if version is not None:
                yield version


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def from_ms(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: pass an aware UTC datetime")
    return int(value.timestamp() * 1000)
