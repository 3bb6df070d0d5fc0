"""What one phone's fresh snapshot costs as the room's stored answers grow.

    python -m bench snapshot [--store URL ...] [--phones N] [--small A] [--large B]

A phone that connects or syncs gets the room's snapshot (built once for all
phones, see poll/live.py) and its own answers to the current question, read
from the store for it alone (`Room.mine`, encoded as a `mine` message). After
a venue's wifi comes back every phone does this at once, so its cost must not
grow with the answers the room holds. Two rooms of the bench's session are
filled, one with A answers to the yes/no question (default 1,000), one with B
(default 10,000), one per participant; then N phones of each (default 500)
read their answers one after another. Printed: wall time and this process's
CPU per phone in each room, and their ratio (large / small; 1 is the aim).

Without --store both stores are measured: SQLite in a temporary directory and
Redis at redis://127.0.0.1:6379/15 under a unique key prefix that is removed
afterwards. The last line printed is one JSON object with every figure.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.votes import DEFAULT_REDIS, delete_prefix, fan_out
from poll import protocol
from poll.answers import Answer
from poll.rooms import Room, Rooms
from poll.script import load_script
from poll.store import Store, StoreError, Vote
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = ROOT / "bench" / "sessions.yaml"
QUESTION = "yesno"


async def filled_room(rooms: Rooms, answers: int) -> Room:
    """A run of the bench session on its yes/no question with `answers` stored."""
    room = await rooms.create("bench")
    await room.go(room.session.index_of(QUESTION))

    async def vote(n: int) -> None:
        outcome = await rooms.store.vote(
            room.id,
            Vote(
                question_id=QUESTION,
                participant=f"phone-{n}",
                submission_id=uuid.uuid4().hex,
                answer=Answer(("yes" if n % 3 else "no",)),
                mode="replace",
                max_entries=1,
                allow_change=True,
            ),
        )
        if not outcome.stored:
            raise RuntimeError(f"a vote was not stored: {outcome.status}")

    await fan_out(answers, 200, vote)
    return room


async def per_phone(room: Room, answers: int, phones: int) -> dict[str, Any]:
    """Seconds of wall time and of CPU per phone for its answers, read and encoded."""
    rng = random.Random(answers)
    sample = [f"phone-{rng.randrange(answers)}" for _ in range(phones)]
    for who in sample[:50]:  # warm the caches and the connection
        await room.mine(who)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for who in sample:
        mine = await room.mine(who)
        if len(mine) != 1:
            raise RuntimeError(f"{who} has {len(mine)} answers stored, not 1")
        protocol.encode(protocol.mine(QUESTION, mine, room.state.version))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return {
        "answers": answers,
        "phones": phones,
        "wall_ms_per_phone": round(wall / phones * 1000, 3),
        "cpu_ms_per_phone": round(cpu / phones * 1000, 3),
    }


async def measure(store: Store, small: int, large: int, phones: int) -> dict[str, Any]:
    script = load_script(SESSIONS)
    rooms = Rooms(store, lambda: script)
    results = []
    for answers in (small, large):
        room = await filled_room(rooms, answers)
        results.append(await per_phone(room, answers, phones))
    low, high = results

    def ratio(key: str) -> float | None:
        return round(high[key] / low[key], 2) if low[key] > 0 else None

    return {
        "store": store.kind,
        "rooms": results,
        "ratio_wall": ratio("wall_ms_per_phone"),
        "ratio_cpu": ratio("cpu_ms_per_phone"),
    }


async def run_sqlite(url: str | None, small: int, large: int, phones: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="poll-bench-") as tmp:
        store = SqliteStore.from_url(url) if url else SqliteStore(Path(tmp) / "bench.db")
        await store.open()
        try:
            return await measure(store, small, large, phones)
        finally:
            await store.close()


async def run_redis(url: str, small: int, large: int, phones: int) -> dict[str, Any]:
    prefix = f"pollbench-{uuid.uuid4().hex[:8]}"
    store = RedisStore(url, prefix=prefix)
    await store.open()
    try:
        result = await measure(store, small, large, phones)
        await store.purge(datetime.now(UTC) + timedelta(seconds=1))
        return result
    finally:
        await store.close()
        await delete_prefix(url, prefix)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench snapshot", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--store",
        action="append",
        metavar="URL",
        help="sqlite:///PATH or redis://HOST:PORT/DB; repeat for several (default: both)",
    )
    parser.add_argument("--phones", type=int, default=500, help="phones timed in each room")
    parser.add_argument("--small", type=int, default=1_000, help="answers in the first room")
    parser.add_argument("--large", type=int, default=10_000, help="answers in the second room")
    args = parser.parse_args(argv)
    if not 0 < args.small < args.large:
        parser.error("--small and --large are answer counts, the first below the second")
    urls: list[str | None] = list(args.store or [None, DEFAULT_REDIS])

    results: list[dict[str, Any]] = []
    for url in urls:
        try:
            if url is None or url.startswith("sqlite:"):
                found = await run_sqlite(url, args.small, args.large, args.phones)
            else:
                found = await run_redis(url, args.small, args.large, args.phones)
        except StoreError as error:
            print(f"skipped {url}: {error}", file=sys.stderr)
            continue
        low, high = found["rooms"]
        print(
            f"{found['store']:>7}: one phone's answers at {low['answers']:,} / "
            f"{high['answers']:,} stored: {low['wall_ms_per_phone']} / "
            f"{high['wall_ms_per_phone']} ms wall, {low['cpu_ms_per_phone']} / "
            f"{high['cpu_ms_per_phone']} ms CPU (ratio {found['ratio_wall']} wall, "
            f"{found['ratio_cpu']} CPU)",
            file=sys.stderr,
        )
        results.append(found)
    print(json.dumps({"benchmark": "snapshot", "results": results}))
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
