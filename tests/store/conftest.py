"""The `backend` and `store` fixtures: every contract test runs on SQLite, on Redis,
and on a Redis Cluster of three masters that the test session starts itself."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from poll.store import Store, StoreError
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from tests.conftest import delete_keys, redis_url, require_or_skip
from tests.support.cluster import ClusterUnavailable, redis_cluster


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
    """One kind of store; `open_store()` starts another "worker" on the same data.

    `leftovers(room_id)` looks behind the store's back for what it still keeps
    of a room: SQLite tables with its rows, Redis keys and join-code claims.
    """

    kind: str
    make: Callable[..., Store]
    leftovers: Callable[[str], Awaitable[list[str]]]
    clock: FakeClock = field(default_factory=FakeClock)
    opened: list[Store] = field(default_factory=list)
    prefix: str = ""

    async def open_store(self, **options: Any) -> Store:
        store = self.make(clock=self.clock, **options)
        await store.open()
        self.opened.append(store)
        return store


@pytest.fixture(scope="session")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis Cluster of three masters for the whole session, stopped at its end."""
    try:
        with redis_cluster(tmp_path_factory.mktemp("redis-cluster")) as url:
            yield url
    except ClusterUnavailable as error:
        require_or_skip(f"no Redis Cluster for the store tests: {error}")


@pytest.fixture  # parametrised by `pytest_generate_tests` in tests/conftest.py
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "data" / "poll.db"
        backend = Backend(
            "sqlite",
            lambda **options: SqliteStore(path, **options),
            lambda room_id: asyncio.to_thread(_sqlite_leftovers, path, room_id),
        )
        yield backend
        for store in backend.opened:
            await store.close()
        return

    if request.param == "redis-cluster":
        url = request.getfixturevalue("cluster_url")
        async with _redis_backend(url, cluster=True) as backend:
            yield backend
        return

    async with _redis_backend(redis_url()) as backend:
        yield backend


@pytest.fixture
async def redis_backend() -> AsyncIterator[Backend]:
    """Redis alone, for what only Redis has (pub/sub between processes)."""
    async with _redis_backend(redis_url()) as backend:
        yield backend


@contextlib.asynccontextmanager
async def _redis_backend(url: str, *, cluster: bool = False) -> AsyncIterator[Backend]:
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    if cluster:
        url = url.replace("?cluster=1", "")
    backend = Backend(
        "redis",
        lambda **options: RedisStore(
            url, prefix=prefix, client_name=prefix, cluster=cluster, **options
        ),
        lambda room_id: _redis_leftovers(url, prefix, room_id, cluster=cluster),
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
        if not cluster:  # the cluster is the session's own, stopped at its end
            await asyncio.to_thread(delete_keys, url, prefix)


@pytest.fixture
async def store(backend: Backend) -> Store:
    return backend.opened[0] if backend.opened else await backend.open_store()


def _sqlite_leftovers(path: Path, room_id: str) -> list[str]:
    """Tables holding a row of the room: every table, so that a new one is not forgotten."""
    db = sqlite3.connect(path)
    try:
        listed = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [name for (name,) in listed]
        found = []
        for table in tables:
            columns = {column[1] for column in db.execute(f"PRAGMA table_info({table})")}
            column = "id" if table == "rooms" else "room_id" if "room_id" in columns else None
            if (
                column
                and db.execute(
                    f"SELECT 1 FROM {table} WHERE {column} = ? LIMIT 1", (room_id,)
                ).fetchone()
            ):
                found.append(table)
        return found
    finally:
        db.close()


async def _redis_leftovers(url: str, prefix: str, room_id: str, *, cluster: bool) -> list[str]:
    """Keys named after the room, and join-code claims and results-link index entries
    that still point at it (on every node)."""
    admin: Redis | RedisCluster = (
        RedisCluster.from_url(url, decode_responses=True)
        if cluster
        else Redis.from_url(url, decode_responses=True)
    )
    try:
        found = []
        async for key in admin.scan_iter(match=f"{prefix}:*"):
            claim = ":code:" in key or ":ended:" in key or ":link:" in key
            if room_id in key or (claim and await admin.get(key) == room_id):
                found.append(key)
        return found
    finally:
        await admin.aclose()
