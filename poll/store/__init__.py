"""Stores keep rooms and responses; see `poll.store.base` for the contract.

    poll/store/
    ├── base.py        the contract: Store, RoomState, Vote, StoreError, …
    ├── fanout.py      change signals to this process's subscribers (both stores)
    ├── timestamps.py  UTC milliseconds, as both stores keep times
    ├── sqlite/        SqliteStore: one file, one server process (the default)
    └── redis/         RedisStore: several processes and hosts share one Redis

`open_store(url)` imports the store a URL names only when it is asked for: the
contract imports no store, and a store's libraries load only when it is used.
"""

from __future__ import annotations

from poll.store.base import (
    PRESENCE_TTL,
    Response,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)

__all__ = [
    "PRESENCE_TTL",
    "Response",
    "RoomNotFound",
    "RoomPatch",
    "RoomState",
    "Store",
    "StoreError",
    "Subscription",
    "Vote",
    "VoteOutcome",
    "open_store",
]


def open_store(url: str) -> Store:
    """The store for a URL: `sqlite:///path/poll.db` or `redis://host:port/db`."""
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
