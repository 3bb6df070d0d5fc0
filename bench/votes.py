"""Acknowledged votes per second for each store, from many coroutines in one process.

    .venv/bin/python -m bench.votes [--store URL ...] [--votes N] [--concurrency C]

Without --store it measures both stores: SQLite in a temporary directory and
Redis at redis://127.0.0.1:6379/15 under a unique key prefix that is removed
afterwards. A raw redis-py SET round-trip loop at the same concurrency shows
what the client and server cost without the store's work. The last line printed
is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis

from poll.answers import Answer
from poll.store import RoomPatch, Store, StoreError, Vote
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore

DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
OPTIONS = ("a", "b", "c", "d")


async def fan_out(total: int, concurrency: int, work: Callable[[int], Awaitable[object]]) -> float:
    """Run work(0..total-1) from `concurrency` coroutines; the seconds it took."""
    counter = iter(range(total))

    async def worker() -> None:
        for n in counter:
            await work(n)

    started = time.perf_counter()
    # A TaskGroup stops every worker when one fails, so nothing writes after cleanup.
    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(worker())
    return time.perf_counter() - started


async def bench_store(store: Store, votes: int, concurrency: int) -> dict[str, Any]:
    room = await store.create_room(
        session_id="bench",
        session_spec={"id": "bench"},
        question_ids=["q1"],
        new_code=lambda: f"{random.randrange(10**6, 10**7)}",
    )
    await store.update(
        room.id, RoomPatch(current=1, current_question="q1", statuses={"q1": "open"})
    )
    # A tenth of the votes are participants changing their answer.
    participants = max(1, votes - votes // 10)

    async def vote(n: int) -> None:
        outcome = await store.vote(
            room.id,
            Vote(
                question_id="q1",
                participant=f"p{n % participants}",
                submission_id=uuid.uuid4().hex,
                answer=Answer(keys=(OPTIONS[n % len(OPTIONS)],)),
                mode="replace",
                max_entries=1,
                allow_change=True,
            ),
        )
        if outcome.status != "saved":
            raise RuntimeError(f"vote {n} was not saved: {outcome.status}")

    seconds = await fan_out(votes, concurrency, vote)
    aggregate = (await store.aggregates(room.id))["q1"]
    if aggregate.respondents != participants or sum(aggregate.counts.values()) != participants:
        raise RuntimeError(f"counters are off after the run: {aggregate}")
    await store.update(room.id, RoomPatch(end=True))
    return {
        "store": store.kind,
        "votes": votes,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "votes_per_s": round(votes / seconds),
    }


async def bench_raw_redis(url: str, prefix: str, total: int, concurrency: int) -> dict[str, Any]:
    # The same pool as RedisStore's: waits for a free connection rather than failing.
    pool = BlockingConnectionPool.from_url(url, max_connections=64, timeout=None)
    client = Redis(connection_pool=pool)
    try:
        await client.ping()
        seconds = await fan_out(
            total, concurrency, lambda n: client.set(f"{prefix}:raw:{n % 1000}", n)
        )
    finally:
        await client.aclose(close_connection_pool=True)
    return {
        "store": "raw-redis-set",
        "round_trips": total,
        "concurrency": concurrency,
        "seconds": round(seconds, 3),
        "round_trips_per_s": round(total / seconds),
    }


async def delete_prefix(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 500):
            await client.delete(*keys[start : start + 500])
    finally:
        await client.aclose()


async def run_sqlite(url: str | None, votes: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="poll-bench-") as tmp:
        store = SqliteStore.from_url(url) if url else SqliteStore(Path(tmp) / "bench.db")
        await store.open()
        try:
            return await bench_store(store, votes, concurrency)
        finally:
            await store.close()


async def run_redis(url: str, votes: int, concurrency: int) -> list[dict[str, Any]]:
    # A unique prefix keeps the run apart from real data; everything under it goes after.
    prefix = f"pollbench-{uuid.uuid4().hex[:8]}"
    store = RedisStore(url, prefix=prefix)
    await store.open()
    try:
        result = await bench_store(store, votes, concurrency)
        await store.purge(datetime.now(UTC) + timedelta(seconds=1))
    finally:
        await store.close()
        await delete_prefix(url, prefix)
    try:
        raw = await bench_raw_redis(url, prefix, votes, concurrency)
    finally:
        await delete_prefix(url, prefix)
    return [result, raw]


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.votes", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--store",
        action="append",
        metavar="URL",
        help="sqlite:///PATH or redis://HOST:PORT/DB; repeat for several (default: both)",
    )
    parser.add_argument("--votes", type=int, default=20_000, help="votes per store")
    parser.add_argument("--concurrency", type=int, default=200, help="coroutines voting at once")
    args = parser.parse_args(argv)
    urls: list[str | None] = list(args.store or [None, DEFAULT_REDIS])

    results: list[dict[str, Any]] = []
    for url in urls:
        try:
            if url is None or url.startswith("sqlite:"):
                found = [await run_sqlite(url, args.votes, args.concurrency)]
            else:
                found = await run_redis(url, args.votes, args.concurrency)
        except StoreError as error:
            print(f"skipped {url}: {error}", file=sys.stderr)
            continue
        for result in found:
            rate = result.get("votes_per_s") or result.get("round_trips_per_s")
            unit = "acknowledged votes/s" if "votes_per_s" in result else "round trips/s"
            print(f"{result['store']:>14}: {rate:>8,} {unit}  ({result['seconds']} s)")
        results.extend(found)
    print(json.dumps({"benchmark": "votes", "results": results}))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
