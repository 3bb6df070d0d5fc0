"""An acknowledged vote survives a crash of Redis: with `appendfsync always` Redis
writes each event-loop turn's commands to disk before it replies, so SIGKILL right
after a burst of acknowledgements loses none of them. And where Redis has WAITAOF
(7.2+), votes wait for it; on the Redis here (7.0) they cannot, and say so."""

from __future__ import annotations

import asyncio
import random
import uuid
from pathlib import Path

import pytest

from poll.answers import Answer
from poll.store.base import RoomPatch, StoreError, Vote
from poll.store.redis import RedisStore
from poll.store.redis.pipeline import ScriptPipeline
from poll.store.redis.store import has_waitaof
from tests.fault.conftest import record
from tests.support.processes import Reaper
from tests.support.servers import RedisServer, need_redis_server

#: Coroutines voting at once, and how many acknowledgements before the crash.
VOTERS = 100
ACKS_BEFORE_CRASH = 3000


async def _room(store: RedisStore) -> str:
    room = await store.create_room(
        session_id="s",
        session_spec={"id": "s"},
        question_ids=["q1"],
        new_code=lambda: f"{random.randrange(10**6, 10**7)}",
    )
    await store.update(
        room.id, RoomPatch(current=1, current_question="q1", statuses={"q1": "open"})
    )
    return room.id


def _vote(participant: str) -> Vote:
    return Vote(
        question_id="q1",
        participant=participant,
        submission_id=uuid.uuid4().hex,
        answer=Answer(keys=("yes",)),
        mode="replace",
        max_entries=1,
        allow_change=True,
    )


async def test_sigkill_right_after_a_burst_loses_no_acknowledged_vote(
    tmp_path: Path, reaper: Reaper
) -> None:
    need_redis_server()
    redis = RedisServer(tmp_path, reaper, options=("--appendfsync", "always"))
    await redis.start()
    store = RedisStore(redis.url, prefix="durable")
    await store.open()
    room_id = await _room(store)
    acknowledged: list[str] = []
    crashed = asyncio.Event()

    async def voter(worker: int) -> None:
        n = 0
        while not crashed.is_set():
            participant = f"p{worker}-{n}"
            n += 1
            try:
                outcome = await store.vote(room_id, _vote(participant))
            except StoreError:
                return  # Redis is gone: this vote was never acknowledged
            assert outcome.status == "saved"
            acknowledged.append(participant)
            if len(acknowledged) >= ACKS_BEFORE_CRASH and not crashed.is_set():
                crashed.set()
                redis.kill()  # votes of the other voters are still on their way

    await asyncio.gather(*(voter(w) for w in range(VOTERS)))
    await store.close()

    await redis.start()  # the same folder: Redis replays its append-only file
    again = RedisStore(redis.url, prefix="durable")
    await again.open()
    try:
        stored = {r.participant async for r in again.responses(room_id) if r.question_id == "q1"}
        aggregate = (await again.aggregates(room_id))["q1"]
    finally:
        await again.close()
        redis.stop()
    lost = [p for p in acknowledged if p not in stored]
    record(
        "redis_sigkill_appendfsync_always",
        {"acknowledged": len(acknowledged), "stored": len(stored), "lost": len(lost)},
    )
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged votes were lost"
    assert aggregate.respondents == len(stored)


async def test_votes_wait_for_waitaof_only_where_redis_has_it(
    tmp_path: Path, reaper: Reaper
) -> None:
    need_redis_server()
    assert has_waitaof("7.2.0") and has_waitaof("7.4.1") and has_waitaof("8.0.2")
    assert not has_waitaof("7.0.15") and not has_waitaof("6.2.6") and not has_waitaof("")
    redis = RedisServer(tmp_path, reaper)
    await redis.start()
    store = RedisStore(redis.url, prefix="waitaof")
    await store.open()
    try:
        version = str((await redis.command("INFO", "server"))["redis_version"])
        assert store._votes.wait_aof == has_waitaof(version)
        room_id = await _room(store)
        # Told to wait on a server without WAITAOF, the votes still go through,
        # and the store stops asking.
        store._votes.wait_aof = True
        outcome = await store.vote(room_id, _vote("p1"))
        assert outcome.status == "saved"
        assert store._votes.wait_aof == has_waitaof(version)
    finally:
        await store.close()
        redis.stop()


def test_votes_not_on_disk_in_time_are_not_acknowledged() -> None:
    pipeline = ScriptPipeline("redis://127.0.0.1:1/0", lambda: None, str, str, calls="votes")  # type: ignore[arg-type,return-value]
    with pytest.raises(StoreError, match="did not write the votes to its append-only file"):
        pipeline._check_synced([0, 0])
    pipeline._check_synced([1, 0])  # on disk: nothing to say
