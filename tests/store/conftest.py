"""The `backend` and `store` fixtures: every contract test runs on SQLite and on Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from poll.store import Store, StoreError
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from tests.conftest import delete_keys, redis_url, require_or_skip


class FakeClock:
    """Wall-clock seconds that a test moves by hand (presence expiry without sleeping)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Backend:
    """One kind of store; `open_store()` starts another "worker" on the same data."""

    kind: str
    make: Callable[..., Store]
    clock: FakeClock = field(default_factory=FakeClock)
    opened: list[Store] = field(default_factory=list)
    prefix: str = ""

    async def open_store(self, **options: Any) -> Store:
        store = self.make(clock=self.clock, **options)
        await store.open()
        self.opened.append(store)
        return store


@pytest.fixture(params=["sqlite", "redis"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "data" / "poll.db"
        backend = Backend("sqlite", lambda **options: SqliteStore(path, **options))
        yield backend
        for store in backend.opened:
            await store.close()
        return

    async with _redis_backend() as backend:
        yield backend


@pytest.fixture
async def redis_backend() -> AsyncIterator[Backend]:
    """Redis alone, for what only Redis has (pub/sub between processes)."""
    async with _redis_backend() as backend:
        yield backend


@contextlib.asynccontextmanager
async def _redis_backend() -> AsyncIterator[Backend]:
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    url = redis_url()
    backend = Backend(
        "redis",
        lambda **options: RedisStore(url, prefix=prefix, client_name=prefix, **options),
        prefix=prefix,
    )
    try:
        await backend.open_store()
    except StoreError as error:
        require_or_skip(f"Redis is not reachable for the store tests: {error}")
    try:
        yield backend
    finally:
        for store in backend.opened:
            await store.close()
        await asyncio.to_thread(delete_keys, url, prefix)


@pytest.fixture
async def store(backend: Backend) -> Store:
    return backend.opened[0] if backend.opened else await backend.open_store()
