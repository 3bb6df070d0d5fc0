"""Redis only: every change reaches every process's subscribers, whatever happens to pub/sub.

Pub/sub is at most once and its one connection per process can be cut, or
rebuilt by redis-py underneath the reader. The reader reconnects and resyncs,
subscribes again what it finds missing, survives any exception, and a version
check every few seconds signals a change whose message never arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

import poll.store.redis.listener as listener_module
from poll.store import StoreError
from poll.store.redis import RedisStore
from poll.store.redis.listener import Listener
from tests.conftest import redis_url
from tests.store.conftest import Backend
from tests.store.test_store_contract import ballot, new_room, next_version, open_question

#: Long enough that the version check cannot be what delivered a signal.
NEVER = 3600.0


@pytest.fixture
async def admin() -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        yield client
    finally:
        await client.aclose()


def channel_of(backend: Backend, room_id: str) -> str:
    return f"{backend.prefix}:changed:{{{room_id}}}"


async def subscribers(admin: Redis, channel: str) -> int:
    return int(dict(await admin.pubsub_numsub(channel))[channel])


async def wait_for_subscribers(admin: Redis, channel: str, count: int) -> None:
    async with asyncio.timeout(10):
        # Redis offers no event for this: poll the server's count.
        while await subscribers(admin, channel) != count:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_changes_still_arrive_after_the_pubsub_connection_is_killed(
    redis_backend: Backend, admin: Redis
) -> None:
    store = await redis_backend.open_store(verify_every=NEVER)
    room = await new_room(store)
    await open_question(store, room.id)
    async with store.subscribe(room.id) as changes:
        first = await store.vote(room.id, ballot("p0", "yes"))
        await next_version(changes, first.version)

        killed = 0
        for client in await admin.client_list(_type="pubsub"):
            if client["name"] == redis_backend.prefix:
                killed += await admin.client_kill_filter(_id=client["id"])
        assert killed >= 1

        # Keep voting until a signal of the latest vote arrives: signals sent
        # while the reader reconnects may be lost, the resync covers them.
        latest = first.version
        async with asyncio.timeout(30):
            while True:
                latest = (await store.vote(room.id, ballot(uuid.uuid4().hex, "no"))).version
                with contextlib.suppress(TimeoutError):
                    if await next_version(changes, latest, within=0.5) >= latest:
                        break

    assert (await store.room(room.id)).version >= latest


async def test_leaving_a_subscription_unsubscribes_the_channel(
    redis_backend: Backend, admin: Redis
) -> None:
    store = await redis_backend.open_store()
    room = await new_room(store)
    channel = channel_of(redis_backend, room.id)
    async with store.subscribe(room.id), store.subscribe(room.id):
        assert await subscribers(admin, channel) == 1  # one per process
    await wait_for_subscribers(admin, channel, 0)


async def test_a_change_whose_message_was_lost_is_still_signalled(
    redis_backend: Backend, admin: Redis
) -> None:
    store = await redis_backend.open_store(verify_every=0.2)
    room = await new_room(store)
    async with store.subscribe(room.id) as changes:
        # The room moves on in Redis and no message is published: what a process
        # sees when the message went out while its subscriber was reconnecting.
        key = f"{redis_backend.prefix}:room:{{{room.id}}}"
        assert await admin.exists(key), f"the room hash is not at {key}"
        version = await admin.hincrby(key, "version", 5)

        assert await next_version(changes, version) == version


async def test_a_channel_lost_under_the_reader_is_subscribed_again(
    redis_backend: Backend, admin: Redis
) -> None:
    one = await redis_backend.open_store(verify_every=NEVER)
    two = await redis_backend.open_store(verify_every=NEVER)
    room = await new_room(one)
    await open_question(one, room.id)
    channel = channel_of(redis_backend, room.id)
    async with one.subscribe(room.id) as changes:
        # As when redis-py rebuilds the connection while a SUBSCRIBE of ours is in
        # flight and fails: the connection no longer carries the room's channel.
        pubsub = one._listener._pubsub  # type: ignore[attr-defined]  # the state under test
        assert pubsub is not None
        await pubsub.unsubscribe(channel)
        await wait_for_subscribers(admin, channel, 0)

        await wait_for_subscribers(admin, channel, 1)
        outcome = await two.vote(room.id, ballot("alice", "yes"))
        assert await next_version(changes, outcome.version) >= outcome.version


#: What uvloop raises when redis-py writes to a connection Redis has just closed;
#: it ended the reader, and with it this process's share of pub/sub, in the drill.
CLOSED_TRANSPORT = (
    "unable to perform operation on <TCPTransport closed=True reading=False "
    "0x55ee4d288d70>; the handler is closed"
)


def test_a_closed_transport_means_redis_is_unreachable() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")
    unreachable = re.escape("cannot reach Redis at redis://127.0.0.1:1/0")
    with pytest.raises(StoreError, match=unreachable), store._errors():
        raise RuntimeError(CLOSED_TRANSPORT)
    with pytest.raises(RuntimeError, match="a bug of ours"), store._errors():
        raise RuntimeError("a bug of ours")


@pytest.mark.parametrize(
    "error",
    [RuntimeError(CLOSED_TRANSPORT), ValueError("something redis-py never documented")],
    ids=["closed-transport", "undocumented"],
)
async def test_the_reader_outlives_an_unexpected_error(
    redis_backend: Backend, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    one = await redis_backend.open_store(verify_every=NEVER)
    two = await redis_backend.open_store(verify_every=NEVER)
    room = await new_room(one)
    await open_question(one, room.id)
    real = PubSub.get_message
    failures = []

    async def fails_once(self: PubSub, *args: Any, **kwargs: Any) -> Any:
        if not failures and self is one._listener._pubsub:  # type: ignore[attr-defined]
            failures.append(True)
            raise error
        return await real(self, *args, **kwargs)

    async with one.subscribe(room.id) as changes:
        monkeypatch.setattr(PubSub, "get_message", fails_once)
        async with asyncio.timeout(30):
            while not failures:  # noqa: ASYNC110 - the reader calls it within a second
                await asyncio.sleep(0.05)
        outcome = await two.vote(room.id, ballot("alice", "yes"))

        assert await next_version(changes, outcome.version) >= outcome.version


async def test_a_stuck_reader_is_replaced(
    redis_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def check_nothing(self: Listener) -> None:
        """Only pub/sub may deliver the signal under test."""

    monkeypatch.setattr(listener_module, "READER_STUCK", 0.5)
    monkeypatch.setattr(Listener, "_verify", check_nothing)
    one: Any = await redis_backend.open_store(verify_every=0.1)
    two = await redis_backend.open_store(verify_every=NEVER)
    reader = one._listener  # the state under test
    room = await new_room(one)
    await open_question(one, room.id)
    real = PubSub.get_message
    stuck: list[PubSub] = []

    async def hangs_once(self: PubSub, *args: Any, **kwargs: Any) -> Any:
        if not stuck and self is reader._pubsub:
            stuck.append(self)
            await asyncio.Event().wait()  # as a read that never returns
        return await real(self, *args, **kwargs)

    async with one.subscribe(room.id) as changes:
        monkeypatch.setattr(PubSub, "get_message", hangs_once)
        first = reader._reader
        async with asyncio.timeout(30):
            while not stuck or reader._reader is first or reader._pubsub in (None, *stuck):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        outcome = await two.vote(room.id, ballot("alice", "yes"))

        assert await next_version(changes, outcome.version) >= outcome.version
    assert first.cancelled()


async def test_closing_a_store_ends_a_reader_whose_cancellation_was_lost(
    redis_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A cancellation lost inside a read that timed out at the same moment once left
    # close() waiting for the reader for ever (about 1 close in 100, in tests).
    real = PubSub.get_message
    swallowed: list[bool] = []

    async def loses_a_cancellation(self: PubSub, *args: Any, **kwargs: Any) -> Any:
        try:
            return await real(self, *args, **kwargs)
        except asyncio.CancelledError:
            if swallowed:
                raise
            swallowed.append(True)
            return None  # as the read that "timed out" instead

    store = await redis_backend.open_store(verify_every=NEVER)
    async with store.subscribe("room-1"):
        monkeypatch.setattr(PubSub, "get_message", loses_a_cancellation)
        await asyncio.sleep(0.3)  # the reader is now inside the patched read
    async with asyncio.timeout(30):
        await store.close()
    assert swallowed, "the cancellation reached the read, and was lost there"
