"""What durable acknowledgements cost: acknowledged votes per second with each setting.

    python -m bench.durability [--votes N] [--concurrency C]

Redis: a private `redis-server --appendonly yes` on a free port in a temporary
folder, once with `--appendfsync everysec` and once with `always` (Redis then
fsyncs before it replies, once per event-loop turn for all clients, so the
votes of one pipeline share it). SQLite: the store with the writer's
`synchronous=NORMAL` and `FULL` (poll's setting). The same burst as
`bench.votes` (many coroutines in one process, a tenth changing their answer).
The last line printed is one JSON object with every figure; docs/durability.md
quotes them. Takes well under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.votes import bench_store
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_for_ping(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        for _ in range(100):
            try:
                await client.ping()
                return
            except OSError:
                await asyncio.sleep(0.1)
            except Exception:
                await asyncio.sleep(0.1)
        raise RuntimeError(f"redis-server at {url} did not answer")
    finally:
        await client.aclose()


async def run_redis(appendfsync: str, votes: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="poll-durability-") as folder:
        port = free_port()
        command = [
            REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", folder,
            "--appendonly", "yes", "--appendfsync", appendfsync, "--save", "",
            "--daemonize", "no", "--logfile", "",
        ]  # fmt: skip
        server = await asyncio.create_subprocess_exec(
            *command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            url = f"redis://127.0.0.1:{port}/0"
            await _wait_for_ping(url)
            store = RedisStore(url, prefix="bench")
            await store.open()
            try:
                result = await bench_store(store, votes, concurrency)
            finally:
                await store.close()
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 15)
    return result | {"store": "redis", "setting": f"appendfsync {appendfsync}"}


async def run_sqlite(synchronous: str, votes: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="poll-durability-") as folder:
        store = SqliteStore(Path(folder) / "bench.db", synchronous=synchronous)
        await store.open()
        try:
            result = await bench_store(store, votes, concurrency)
        finally:
            await store.close()
    return result | {"store": "sqlite", "setting": f"synchronous={synchronous}"}


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.durability", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--votes", type=int, default=10_000, help="votes per setting")
    parser.add_argument("--concurrency", type=int, default=200, help="coroutines voting at once")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = []
    runs = [
        lambda: run_redis("everysec", args.votes, args.concurrency),
        lambda: run_redis("always", args.votes, args.concurrency),
        lambda: run_sqlite("NORMAL", args.votes, args.concurrency),
        lambda: run_sqlite("FULL", args.votes, args.concurrency),
    ]
    for run in runs:
        result = await run()
        print(f"{result['store']:>7} {result['setting']:<22} {result['votes_per_s']:>8,} votes/s")
        results.append(result)
    seconds = round(time.perf_counter() - started, 1)
    print(json.dumps({"benchmark": "durability", "seconds": seconds, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
