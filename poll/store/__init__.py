"""Stores keep rooms and responses; see `poll.store.base` for the contract.

    poll/store/
    ├── base.py        the contract: Store, RoomState, Vote, StoreError, …
    ├── fanout.py      change signals to this process's subscribers (both stores)
    ├── timestamps.py  UTC milliseconds, as both stores keep times
    ├── timing.py      any store with its calls timed (store latency in /metrics)
    ├── sqlite/        SqliteStore: one file, one server process (the default)
    └── redis/         RedisStore: several processes and hosts share one Redis

`open_store(url)` imports the store a URL names only when it is asked for: the
contract imports no store, and a store's libraries load only when it is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from poll.store.base import (
    PRESENCE_TTL,
    Response,
    ResultsLink,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)

if TYPE_CHECKING:
    from poll.store.sqlite.backup import BackupReport

__all__ = [
    "PRESENCE_TTL",
    "Response",
    "ResultsLink",
    "RoomNotFound",
    "RoomPatch",
    "RoomState",
    "Store",
    "StoreError",
    "Subscription",
    "Vote",
    "VoteOutcome",
    "backup_store",
    "open_store",
]


def open_store(url: str) -> Store:
    """The store for a URL: `sqlite:///path/poll.db`, `redis://host:port/db`, or a Redis
    Cluster through any of its nodes: `redis://host:port/0?cluster=1`."""
    if url.startswith("sqlite:"):
        from poll.store.sqlite import SqliteStore

        return SqliteStore.from_url(url)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from poll.store.redis import RedisStore

        return RedisStore.from_url(url)
    raise StoreError(
        f"unknown store URL {url!r}: use sqlite:///PATH/poll.db or redis://HOST:PORT/DB",
        retry=False,
    )


def backup_store(url: str, dest: Path, *, overwrite: bool = False) -> BackupReport:
    """A consistent copy of the store at `url` in `dest`, taken while it is in use.

    The SQLite store only: Redis keeps its own files (see docs/deploy.md).
    """
    if url.startswith(("redis://", "rediss://", "unix://")):
        raise StoreError(
            "poll backup copies the SQLite store; back up Redis with Redis itself "
            "(BGSAVE, then copy its dump.rdb, or copy its appendonly directory): "
            "see docs/deploy.md",
            retry=False,
        )
    if not url.startswith("sqlite:"):
        open_store(url)  # raises the error that names the URL forms poll knows
    from poll.store.sqlite import SqliteStore
    from poll.store.sqlite.backup import backup_database

    return backup_database(SqliteStore.from_url(url).path, dest, overwrite=overwrite)
