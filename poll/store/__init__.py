"""Stores keep rooms and responses; see `poll.store.base` for the contract."""

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
    open_store,
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
