"""The local fan-out: change signals handed to this process's subscribers, per room.

Both stores end in the same place: a room changed, and every local subscriber
of that room must read it again. SQLite learns of a change from its writer
process (one `Fanout` per database file, shared by every store object on it);
Redis learns of it from its pub/sub reader and version check (one `Fanout`
per store object). Delivery is thread-safe and never blocks: each subscriber
holds at most one pending version.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Mapping

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


class Fanout:
    """This process's subscribers of each room, and the newest version each room was sent.

    Callable from any thread: a subscriber's signals are delivered on its own
    event loop.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, set[Signals]] = {}
        # The newest version sent to each room's subscribers, for stores that check
        # now and then whether a signal went missing (Redis's version check).
        self._sent: dict[str, int] = {}

    def add(self, signals: Signals) -> bool:
        """Start delivering to `signals`; True if it is its room's first subscriber here."""
        with self._lock:
            subscribers = self._rooms.setdefault(signals.room_id, set())
            subscribers.add(signals)
            return len(subscribers) == 1

    def remove(self, signals: Signals) -> bool:
        """Stop delivering to `signals`; True if its room has no subscriber here any more."""
        with self._lock:
            subscribers = self._rooms.get(signals.room_id)
            if subscribers is None:
                return False
            subscribers.discard(signals)
            if subscribers:
                return False
            del self._rooms[signals.room_id]
            self._sent.pop(signals.room_id, None)
            return True

    def signal(self, room_id: str, version: int) -> None:
        """Tell the room's local subscribers it changed."""
        self.signal_all({room_id: version})

    def signal_all(self, changed: Mapping[str, int]) -> None:
        """Tell each room's local subscribers it changed (room id → new version)."""
        targets: list[tuple[Signals, int]] = []
        with self._lock:
            for room_id, version in changed.items():
                subscribers = self._rooms.get(room_id)
                if not subscribers:
                    continue
                if version > self._sent.get(room_id, -1):
                    self._sent[room_id] = version
                targets.extend((signals, version) for signals in subscribers)
        for signals, version in targets:
            signals.put_threadsafe(version)

    def sent(self, room_id: str) -> int | None:
        """The newest version sent to the room's subscribers, if any was."""
        with self._lock:
            return self._sent.get(room_id)

    def rooms(self) -> list[str]:
        """Rooms with a subscriber in this process."""
        with self._lock:
            return list(self._rooms)

    def __contains__(self, room_id: object) -> bool:
        with self._lock:
            return room_id in self._rooms

    def count(self) -> int:
        """Subscriptions open in this process, over every room."""
        with self._lock:
            return sum(len(subscribers) for subscribers in self._rooms.values())
