"""Redis only: script calls made in one turn of the event loop share one round trip,
whichever scripts they run; a script Redis lost is loaded again; a join code found
once costs one round trip, and its room is checked every time."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from poll.store.base import RoomPatch
from poll.store.redis import RedisStore
from poll.store.redis.pipeline import QueuedCall, ScriptPipeline
from tests.store.conftest import Backend
from tests.store.test_store_contract import ballot, new_room, open_question


@pytest.fixture
def redis_store(redis_backend: Backend) -> RedisStore:
    store = redis_backend.opened[0]
    assert isinstance(store, RedisStore)
    return store


def record_batches(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The scripts of each pipeline sent, in order."""
    batches: list[list[str]] = []
    send = ScriptPipeline._evalsha_all

    async def recorded(self: ScriptPipeline, client: Any, batch: list[QueuedCall]) -> list[Any]:
        batches.append([queued.script for queued in batch])
        return await send(self, client, batch)

    monkeypatch.setattr(ScriptPipeline, "_evalsha_all", recorded)
    return batches


async def test_a_phones_join_and_the_read_of_her_answers_share_one_round_trip(
    redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = redis_store
    room = await new_room(store)
    await open_question(store, room.id)
    await store.vote(room.id, ballot("p1", "a"))
    batches = record_batches(monkeypatch)
    joined, answers = await asyncio.gather(
        store.join(room.id, "p1"), store.answers_of(room.id, "p1")
    )
    assert batches == [["join", "answers_of"]]
    assert joined is True
    assert [answer.keys for answer in answers["q1"]] == [("a",)]
    # Alone, each still goes at once.
    assert await store.join(room.id, "p1") is False
    assert batches[1:] == [["join"]]


async def test_a_script_redis_lost_is_loaded_again_beside_the_others(
    redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = redis_store
    room = await new_room(store)
    batches = record_batches(monkeypatch)
    # As after a restart of Redis or a SCRIPT FLUSH, for one of the two scripts: the
    # first call of `join` names a digest Redis does not know.
    real = store._scripts["join"]
    unknown = type("Unknown", (), {"sha": "0" * 40})()
    store._scripts["join"] = unknown  # type: ignore[assignment]
    loads: list[str] = []
    client = store._client
    load = client.script_load

    async def script_load(source: str) -> str:
        loads.append(source)
        store._scripts["join"] = real
        return str(await load(source))

    monkeypatch.setattr(client, "script_load", script_load)
    joined, answers = await asyncio.gather(
        store.join(room.id, "p2"), store.answers_of(room.id, "p2")
    )
    assert joined is True and answers == {}
    assert batches == [["join", "answers_of"], ["join"]]
    assert loads == [store._source("join")]


async def test_a_code_found_once_costs_one_round_trip_and_is_checked_every_time(
    redis_backend: Backend, redis_store: RedisStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = redis_store
    room = await new_room(store, "1234567")
    claims: list[str] = []
    client = store._client
    get = client.get

    async def counted(key: str) -> Any:
        claims.append(key)
        return await get(key)

    monkeypatch.setattr(client, "get", counted)
    for _ in range(3):
        found = await store.room_by_code("1234567")
        assert found is not None and found.id == room.id
    assert len(claims) == 1  # the claim was read for the first lookup only
    # Another process ends the run, and a new one takes the code over: the remembered
    # room fails its check, and the claim leads to the new run.
    other = await redis_backend.open_store()
    await other.update(room.id, RoomPatch(end=True))
    assert await store.room_by_code("1234567") is None
    newer = await new_room(other, "1234567")
    found = await store.room_by_code("1234567")
    assert found is not None and found.id == newer.id
    assert len(claims) == 3
