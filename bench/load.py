"""Load generator: N phones, one projector and a facilitator against a real poll server.

    python -m bench load --participants N [--question TYPE] [--store URL] [--workers W]
                         [--url URL --token T] [--clients C] [--no-baseline] [--json FILE]
                         [--spread SECONDS] [--change-share SHARE] [--profile FILE]
                         [--profile-from join|burst|storm]
                         [--reconnect-storm [SECONDS]]

`--store redis-cluster` starts a Redis Cluster of three masters on loopback
for the run (tests/support/cluster.py) and stops it afterwards.

Without --url it starts `poll serve` itself on the bench's own script,
bench/sessions.yaml (a free port, a temporary data directory, a known
facilitator token; a Redis store gets a key prefix of its own, whose keys are
deleted afterwards). It creates a run of the session "bench" through the
console (token link, then the "start a new run" form), opens the console and
projector websockets, and moves to the question of the workload chosen with
--question (bench/workloads.py: one per question type, default yesno). Then,
with the participants spread over C client processes:

- join: every phone loads /r/CODE (cookie) and opens its websocket; a phone is
  in when its first snapshot arrives;
- vote burst: every phone answers at a uniformly random moment within 3 s
  (--spread), one in ten (--change-share) answers again 0.2–1 s after its
  "saved" (a changed answer, or one more entry where the question takes
  several); vote-to-ack and vote-to-projector latency (see
  `projector_latencies`), votes/s;
- correctness: the final tally (console snapshot) and the CSV export against
  every phone's acknowledged answers, counted by the workload: lost or
  doubled units (votes, ticks, ratings, places, texts, words);
- reconnect storm (with --reconnect-storm): every phone drops at once (no close
  handshake) and reconnects with its cookie within 5 s, mid-question; time until
  every phone is back with a snapshot of the question and exactly the answers
  its last ack listed (`mine`); phones back wrong are counted;
- fan-out: the facilitator moves on; time until every phone has the new item.

Server CPU and peak memory (RSS summed over the server's process tree, sampled
every 0.1 s) and the generator's own CPU are recorded; the CPU compared with
the baseline leaves out the storm and the CSV export the bench reads for its
check (neither has a counterpart in the baseline), which are given apart.
The same generator then measures bench/baseline_server.py (the machine's own
limit) with the same N, unless --no-baseline, and for a Redis store the raw
Redis round trip. With --baseline-server uvicorn the baseline is
bench/baseline_asgi.py instead: the same least server on poll's web stack, so
that the two baselines part what the stack costs from what poll's own code
costs. The baseline speaks only the yes/no answer, so it is always measured on yes/no:
for another --question its figures are the machine's limit for the same
number of phones, sockets and votes, and the output says so. The last line
printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import csv
import io
import json
import math
import multiprocessing
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psutil  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection, connect

from bench import clients, workloads
from bench.baseline_server import ITEMS as BASELINE_ITEMS
from bench.http import request
from bench.workloads import Item, Workload

# Shared with the tests (run from the repository root, so `tests` is importable).
from tests.support.cluster import redis_cluster
from tests.support.processes import free_port, serve_command

ROOT = Path(__file__).resolve().parent.parent
#: The bench's own script: one question of each type (see bench/workloads.py).
SESSIONS = ROOT / "bench" / "sessions.yaml"
SESSION = "bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"
#: Seconds over which the votes of the burst are spread (uniformly).
SPREAD = 3.0
#: Share of participants who change their answer after it was saved.
CHANGE_SHARE = 0.1
#: Seconds within which every phone reconnects in the reconnect storm.
STORM = 5.0
BASELINE_CODE = "1234567"
#: The only answer the baseline server reads.
BASELINE_QUESTION = "yesno"


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99/max in milliseconds (nearest rank)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50": round(rank(0.50) * 1000, 1),
        "p95": round(rank(0.95) * 1000, 1),
        "p99": round(rank(0.99) * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


# The server ----------------------------------------------------------------------------


class Monitor:
    """CPU seconds and peak RSS of a process and all its children, sampled in a thread."""

    #: Seconds between looks for new processes in the tree (workers, the SQLite writer):
    #: a look reads every process of the machine (/proc), which on a busy machine
    #: cost the generator more than the sampling itself when made every 0.1 s.
    TREE_EVERY = 2.0

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self._cpu: dict[int, float] = {}
        self._procs: list[psutil.Process] = []
        self._procs_at = -math.inf
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _tree(self, fresh: bool = False) -> list[psutil.Process]:
        with self._lock:
            now = time.monotonic()
            if fresh or now - self._procs_at >= self.TREE_EVERY:
                self._procs_at = now
                with contextlib.suppress(psutil.Error):
                    self._procs = [self.root, *self.root.children(recursive=True)]
            return list(self._procs)

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for proc in self._tree():
                with contextlib.suppress(psutil.Error):
                    rss += proc.memory_info().rss
                    times = proc.cpu_times()
                    # Keep the last figure of a process that has gone meanwhile.
                    self._cpu[proc.pid] = times.user + times.system
            self.peak_rss = max(self.peak_rss, rss)
            self._stop.wait(0.1)

    def cpu(self) -> float:
        for proc in self._tree(fresh=True):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                self._cpu[proc.pid] = times.user + times.system
        return sum(self._cpu.values())

    def rss(self) -> int:
        total = 0
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Target:
    """A server under test and how to reach its room."""

    kind: str  # "poll" or "baseline"
    http_url: str
    token: str = ""
    store: str = ""
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None
    data_dir: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    room_id: str = ""
    code: str = ""
    log: Any = None

    @property
    def ws_url(self) -> str:
        return "ws" + self.http_url.removeprefix("http")


async def wait_until_up(target: Target, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    path = "/healthz" if target.kind == "poll" else "/"
    while True:
        if target.process is not None and target.process.poll() is not None:
            raise RuntimeError(f"the {target.kind} server exited with {target.process.returncode}")
        with contextlib.suppress(OSError, asyncio.TimeoutError, ValueError, IndexError):
            reply = await request(target.http_url + path, within=2)
            if reply.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {target.kind} server did not answer within {within:.0f} s")
        await asyncio.sleep(0.2)


def start_poll(store: str, workers: int, log_dir: str) -> Target:
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="poll-bench-")
    token = secrets.token_urlsafe(18)
    if store == "sqlite":
        store = f"sqlite:///{data_dir}/poll.db"
    elif store.startswith("redis") and "prefix=" not in store:
        # A key prefix of its own, so the run can delete everything it made.
        joiner = "&" if "?" in store else "?"
        store = f"{store}{joiner}prefix=pollbench-{secrets.token_hex(6)}"
    # Every simulated phone comes from 127.0.0.1: lift the per-address connection cap.
    env = {**os.environ, "POLL_FACILITATOR_TOKEN": token, "PYTHONUNBUFFERED": "1",
           "POLL_CONNECTIONS_PER_ADDRESS": "1000000"}  # fmt: skip
    log = open(Path(log_dir) / f"poll-{port}.log", "wb")  # noqa: SIM115 - closed in stop()
    process = subprocess.Popen(
        serve_command(port, store, SESSIONS, Path(data_dir), workers=workers),
        cwd=data_dir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Target(
        "poll",
        f"http://127.0.0.1:{port}",
        token=token,
        store=store,
        workers=workers,
        process=process,
        data_dir=data_dir,
        log=log,
    )


#: The baseline servers (`--baseline-server`): the module each runs.
BASELINE_SERVERS = {"websockets": "bench.baseline_server", "uvicorn": "bench.baseline_asgi"}


def start_baseline(log_dir: str, server: str = "websockets") -> Target:
    port = free_port()
    log = open(Path(log_dir) / f"baseline-{port}.log", "wb")  # noqa: SIM115 - closed in stop()
    process = subprocess.Popen(
        [sys.executable, "-m", BASELINE_SERVERS[server], "--port", str(port)],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Target(
        "baseline",
        f"http://127.0.0.1:{port}",
        process=process,
        log=log,
        room_id="baseline",
        code=BASELINE_CODE,
    )


def listener(url: str) -> int | None:
    """The process serving a loopback URL (the top one, for uvicorn's workers), if visible."""
    port = urlsplit(url).port
    try:
        pids: set[int] = {
            c.pid
            for c in psutil.net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid
        }
    except psutil.Error:
        return None
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            if psutil.Process(pid).ppid() not in pids:
                return pid
    return None


def start_profiler(target: Target, path: str) -> subprocess.Popen[bytes]:
    """py-spy on the server and its workers for the whole run (raw folded stacks)."""
    if target.process is None:
        raise SystemExit("--profile needs a server started by the bench (no --url)")
    tool = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [
            *(tool, "record", "--pid", str(target.process.pid), "--subprocesses"),
            *("--nonblocking", "--gil", "--rate", "100", "--format", "raw", "--output", path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(target: Target) -> None:
    if target.process is not None and target.process.poll() is None:
        target.process.terminate()
        try:
            target.process.wait(15)
        except subprocess.TimeoutExpired:
            target.process.kill()
            target.process.wait()
    if target.log is not None:
        target.log.close()
    if target.data_dir:
        shutil.rmtree(target.data_dir, ignore_errors=True)


def plain_redis_url(store: str) -> tuple[str, str | None]:
    """The store URL without poll's `?prefix=` and `?cluster=` (redis-py knows no such
    options), and the prefix."""
    parts = urlsplit(store)
    query = parse_qsl(parts.query)
    prefix = next((value for key, value in query if key == "prefix"), None)
    rest = urlencode([(key, value) for key, value in query if key not in ("prefix", "cluster")])
    return urlunsplit(parts._replace(query=rest)), prefix


def redis_client(store: str) -> Any:
    """A redis-py client of the store's Redis: a cluster client for `?cluster=1`."""
    from redis.asyncio import Redis
    from redis.asyncio.cluster import RedisCluster

    url = plain_redis_url(store)[0]
    return RedisCluster.from_url(url) if "cluster=1" in store else Redis.from_url(url)


async def cleanup_redis(store: str) -> int:
    """Delete every key of the run: all of them carry the run's own prefix."""
    prefix = plain_redis_url(store)[1]
    if prefix is None:
        return 0  # a server we did not start: its keys are not ours to delete
    client = redis_client(store)
    deleted = 0
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        for start in range(0, len(keys), 500):
            deleted += int(await client.delete(*keys[start : start + 500]))
    finally:
        await client.aclose()
    return deleted


# The facilitator ------------------------------------------------------------------------


async def open_run(target: Target) -> None:
    """Sign in with the token link and start a run through the console's own form."""
    reply = await request(f"{target.http_url}/console?token={target.token}")
    if reply.status != 303 or "poll_console" not in reply.cookies:
        raise RuntimeError(f"console sign-in failed: HTTP {reply.status}")
    target.cookies = {"poll_console": reply.cookies["poll_console"]}
    page = await request(f"{target.http_url}/console", cookies=target.cookies)
    found = re.search(rb'name="csrf" value="([^"]+)"', page.body)
    if found is None:
        raise RuntimeError("no CSRF token in the console page")
    reply = await request(
        f"{target.http_url}/console/rooms",
        method="POST",
        cookies=target.cookies,
        form={"csrf": found.group(1).decode(), "session_id": SESSION},
    )
    location = reply.header("location") or ""
    if reply.status != 303 or "/console/room/" not in location:
        raise RuntimeError(
            f"starting a run of the session {SESSION!r} failed: HTTP {reply.status}; "
            f"a server given with --url must run on the bench's script ({SESSIONS})"
        )
    target.room_id = location.rsplit("/", 1)[1]


class Screen:
    """A facilitator websocket (console or projector) that keeps every snapshot's time."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.snapshots: list[tuple[float, dict[str, Any]]] = []
        self.replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, target: Target, audience: str) -> Screen:
        cookie = "; ".join(f"{k}={v}" for k, v in target.cookies.items())
        ws = await connect(
            f"{target.ws_url}/ws/{audience}/{target.room_id}",
            additional_headers={"Cookie": cookie} if cookie else None,
            compression=None,
            ping_interval=None,
            proxy=None,
            max_size=2**22,
        )
        return cls(ws)

    async def _read(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                now = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "snapshot":
                    self.snapshots.append((now, message))
                    self.changed.set()
                elif kind in ("done", "error"):
                    future = self.replies.pop(str(message.get("request_id")), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "ping":
                    await self.ws.send(json.dumps({"type": "pong", "t": message.get("t")}))

    @property
    def latest(self) -> dict[str, Any]:
        return self.snapshots[-1][1] if self.snapshots else {}

    async def wait_for(self, check: Any, within: float) -> dict[str, Any] | None:
        deadline = time.monotonic() + within
        while True:
            if self.snapshots and check(self.latest):
                return self.latest
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def action(self, action: str, **fields: Any) -> dict[str, Any]:
        request_id = uuid.uuid4().hex[:8]
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        message = {"type": "action", "action": action, "request_id": request_id, **fields}
        await self.ws.send(json.dumps(message))
        return await asyncio.wait_for(future, 30)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self.task.cancel()


# The phones (client processes) -----------------------------------------------------------


class Clients:
    def __init__(self, target: Target, participants: int, processes: int, code: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs: list[Any] = []
        for n in range(processes):
            mine, theirs = context.Pipe()
            config = {
                "http_url": target.http_url,
                "ws_url": target.ws_url,
                "code": code,
                "indices": list(range(n, participants, processes)),
                "seed": n + 1,
            }
            proc = context.Process(target=clients.main, args=(theirs, config), daemon=True)
            proc.start()
            self.pipes.append(mine)
            self.procs.append(proc)
        self.pids = [pipe.recv()[1] for pipe in self.pipes]

    async def ask(self, *command: Any) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        return await asyncio.gather(*(asyncio.to_thread(pipe.recv) for pipe in self.pipes))

    def cpu(self) -> float:
        total = 0.0
        for pid in self.pids:
            with contextlib.suppress(psutil.Error):
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system
        return total

    async def close(self) -> float:
        replies = await self.ask("close")
        for proc in self.procs:
            proc.join(10)
        return float(sum(reply["cpu"] for reply in replies))


# Measures -------------------------------------------------------------------------------


def projector_latencies(
    votes: list[dict[str, Any]], snapshots: list[tuple[float, dict[str, Any]]]
) -> list[float]:
    """Vote-to-projector latency of every acknowledged vote.

    The ack carries the room version the vote produced. A projector snapshot
    is read after the state it reports, so a snapshot with version >= V
    includes every vote acknowledged with version V (first votes and changes
    alike). A vote's latency is the first such snapshot's arrival minus the
    moment the phone sent the vote.
    """
    times: list[float] = []
    best: list[int] = []  # running maximum of versions (a snapshot may arrive reordered)
    top = -1
    for at, message in snapshots:
        top = max(top, int(message.get("version", -1)))
        times.append(at)
        best.append(top)
    latencies: list[float] = []
    for vote in votes:
        if vote["acked"] is None or vote["version"] < 0:
            continue
        i = bisect.bisect_left(best, vote["version"])
        if i < len(times):
            latencies.append(max(0.0, times[i] - vote["sent"]))
    return latencies


def compare(expected: Counter[str], found: Counter[str]) -> dict[str, int]:
    lost = sum(max(0, expected[k] - found.get(k, 0)) for k in expected)
    doubled = sum(max(0, n - expected.get(k, 0)) for k, n in found.items())
    return {"lost": lost, "doubled": doubled}


def differences(expected: Counter[str], found: Counter[str], most: int = 10) -> dict[str, Any]:
    """A few units that are missing from `found` or too many in it, to see what went wrong."""
    missing = expected - found
    extra = found - expected
    shown: dict[str, Any] = {}
    if missing:
        shown["missing"] = dict(missing.most_common(most))
    if extra:
        shown["extra"] = dict(extra.most_common(most))
    return shown


async def read_csv(target: Target, question_id: str) -> list[dict[str, str]]:
    """The CSV export's rows (answers) for the question, by column name."""
    reply = await request(
        f"{target.http_url}/console/room/{target.room_id}/responses.csv", cookies=target.cookies
    )
    if reply.status != 200:
        raise RuntimeError(f"CSV export failed: HTTP {reply.status}")
    rows = list(csv.DictReader(io.StringIO(reply.body.decode("utf-8-sig"))))
    return [row for row in rows if row["question_id"] == question_id]


async def store_cpu(store: str) -> float | None:
    """CPU seconds the Redis server has used so far (INFO cpu), for a plain Redis URL:
    the store's work is not in the server's process tree, so it is reported apart."""
    if not store.startswith("redis://") or "cluster=1" in store:
        return None
    client = redis_client(store)
    try:
        info = await client.info("cpu")
    finally:
        await client.aclose()
    return float(info["used_cpu_sys"]) + float(info["used_cpu_user"])


async def redis_round_trip(store: str) -> dict[str, Any]:
    """The store's floor: PING round trips from redis-py, and redis-benchmark if installed."""
    client = redis_client(store)
    samples: list[float] = []
    try:
        for _ in range(2000):
            started = time.perf_counter()
            await client.ping()
            samples.append(time.perf_counter() - started)
    finally:
        await client.aclose()
    figures: dict[str, Any] = {"redis_py_ping": percentiles(samples)}
    tool = shutil.which("redis-benchmark")
    if tool is not None and store.startswith("redis://") and "cluster=1" not in store:
        host_port = store.removeprefix("redis://").split("/")[0]
        host, _, port = host_port.partition(":")
        # PING only: the benchmark's SET/GET would write keys outside our database.
        command = [tool, "-h", host, "-p", port or "6379", "-t", "ping", "-n", "50000"]
        done = await asyncio.to_thread(
            subprocess.run,
            [*command, "-c", "50", "-q", "--csv"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        out = done.stdout
        for line in out.splitlines():
            cells = [c.strip('"') for c in line.split(",")]
            if cells and cells[0] == "PING_MBULK":
                figures["redis_benchmark_ping_rps"] = float(cells[1])
    return figures


# One run --------------------------------------------------------------------------------


async def measure(
    target: Target,
    participants: int,
    processes: int,
    workload: Workload,
    profile: tuple[str, Callable[[], None], Callable[[], None]] | None = None,
    change_share: float = CHANGE_SHARE,
    spread: float = SPREAD,
    storm: float = 0.0,
) -> dict[str, Any]:
    await wait_until_up(target)
    if target.kind == "poll" and not target.room_id:
        await open_run(target)
    console = await Screen.open(target, "console")
    projector = await Screen.open(target, "projector")
    first = await console.wait_for(lambda s: True, 30)
    if first is None:
        raise RuntimeError("the console got no snapshot")
    target.code = str(first.get("room", {}).get("code") or target.code)
    # The baseline's snapshots list no items; it has the bench's yes/no question and the next.
    items = [i["id"] for i in first.get("items", [])] or BASELINE_ITEMS
    question = workload.question_id
    if question not in items[:-1]:
        raise RuntimeError(
            f"the session {SESSION!r} has no question {question!r} followed by another item "
            f"(items: {', '.join(items)}); the {workload.type_name} workload needs it, "
            f"as in {SESSIONS}"
        )
    question_index = items.index(question)
    next_item = items[question_index + 1]
    await console.action("go", index=question_index)
    shown = await console.wait_for(lambda s: s.get("item", {}).get("id") == question, 30)
    if shown is None:
        raise RuntimeError(f"the console never showed {question}")
    item: Item = shown["item"]
    item_type = workload.item_type or workload.type_name
    if item.get("type", item_type) != item_type:
        raise RuntimeError(
            f"{question!r} is a {item.get('type')} item; "
            f"the {workload.type_name} workload needs a {item_type}"
        )

    pid = target.process.pid if target.process is not None else listener(target.http_url)
    monitor = Monitor(pid) if pid is not None else None
    idle_rss = monitor.rss() if monitor is not None else 0
    redis_cpu0 = await store_cpu(target.store or "")
    result: dict[str, Any] = {
        "target": target.kind,
        "store": target.store.split("://")[0] if target.store else None,
        "workers": target.workers,
        "participants": participants,
        "client_processes": processes,
        "question": {
            "type": workload.type_name,
            "id": question,
            "answer_mode": item.get("answer_mode", "replace"),
        },
    }
    phones = Clients(target, participants, processes, target.code)
    generator_cpu0 = psutil.Process().cpu_times()
    peak_before_storm = 0

    def generator_cpu() -> float:
        """CPU seconds of the client processes and this one, so far."""
        own = psutil.Process().cpu_times()
        return phones.cpu() + float(own.user + own.system)

    try:
        # Join.
        if profile is not None and profile[0] == "join":
            profile[1]()
        cpu0 = monitor.cpu() if monitor else 0.0
        gen0 = generator_cpu()
        joins = await phones.ask("join")
        started = min(j["started"] for j in joins)
        joined = sorted(t for j in joins for t in j["joined"])
        failures: Counter[str] = Counter()
        for j in joins:
            failures.update(j["failures"])
        wall1 = time.monotonic()
        cpu1 = monitor.cpu() if monitor else 0.0
        gen1 = generator_cpu()
        result["join"] = {
            "joined": len(joined),
            "failed": sum(failures.values()),
            "failures": dict(failures),
            "seconds_all_in": round(joined[-1] - started, 2) if joined else None,
            "per_second": round(len(joined) / max(1e-9, joined[-1] - started), 1)
            if joined
            else None,
            "server_cpu_s": round(cpu1 - cpu0, 2),
            **generator_share(gen1 - gen0, cpu1 - cpu0 if monitor else None),
        }

        # Vote burst.
        if profile is not None and profile[0] == "join":
            profile[2]()  # the join's profile ends here
        if profile is not None and profile[0] == "burst":
            profile[1]()  # and the burst's starts, to run to the end
        start = time.monotonic() + 0.5
        replies = await phones.ask("vote", start, spread, change_share, workload.type_name, item)
        votes = [v for reply in replies for v in reply["votes"]]
        lags = [lag for reply in replies for lag in reply["lag"]]
        wall2 = time.monotonic()
        cpu2 = monitor.cpu() if monitor else 0.0
        gen2 = generator_cpu()
        # A phone on a slide answers nothing: its sync's snapshot is its acknowledgement.
        acked = [v for v in votes if v["status"] in ("saved", "duplicate", "synced")]
        top_version = max((v["version"] for v in acked), default=-1)
        settled = await projector.wait_for(lambda s: s.get("version", -1) >= top_version, 30)
        await console.wait_for(lambda s: s.get("version", -1) >= top_version, 30)
        statuses = Counter(v["status"] for v in votes)
        ack_latency = [v["acked"] - v["sent"] for v in acked]
        proj_latency = projector_latencies(votes, projector.snapshots)
        span = max((v["acked"] for v in acked), default=start) - min(
            (v["sent"] for v in votes), default=start
        )
        result["vote"] = {
            "sent": len(votes),
            "first": sum(1 for v in votes if v["kind"] == "first"),
            "changes": sum(1 for v in votes if v["kind"] == "change"),
            # The answers' shapes by their keys: a Q&A's questions and upvotes apart.
            "shapes": dict(
                Counter("+".join(sorted(workloads.sendable(v["answer"]))) for v in votes)
            ),
            "statuses": dict(statuses),
            "not_acked": len(votes) - len(acked),
            "ack_ms": percentiles(ack_latency),
            "projector_ms": percentiles(proj_latency),
            "projector_settled": settled is not None,
            "projector_snapshots": sum(
                1 for at, _ in projector.snapshots if start <= at <= wall2 + 1
            ),
            "votes_per_s": round(len(acked) / span, 1) if span > 0 else None,
            "server_cpu_s": round(cpu2 - cpu1, 2),
            **generator_share(gen2 - gen1, cpu2 - cpu1 if monitor else None),
            # How late the client processes' event loops ran during the burst: every
            # latency above includes up to this much of the generator's own delay.
            "generator_lag_ms": percentiles(lags),
            "wall_s": round(wall2 - wall1, 2),
        }

        # Correctness: the console's tally and the CSV against the phones' acknowledged answers.
        expected = workload.expected(item, votes)
        tally = console.latest.get("results") or {}
        found = +workload.from_results(item, tally)
        correct: dict[str, Any] = {
            "units": sum(expected.units.values()),
            "respondents": tally.get("respondents", 0 if not workload.answers else None),
            "expected_respondents": expected.respondents,
            **compare(expected.units, found),
        }
        if len(expected.units | found) <= 20:  # the whole count, when it is short
            correct["expected"] = dict(expected.units)
            correct["tally"] = dict(found)
        elif differences(expected.units, found):
            correct["tally_differences"] = differences(expected.units, found)
        if target.kind == "poll" and workload.answers:
            before_csv = monitor.cpu() if monitor else 0.0
            rows = await read_csv(target, question)
            # The export is the bench's check, not part of the session (the baseline has
            # none): its CPU is left out of the server's, like the storm's, and given apart.
            if monitor is not None:
                correct["csv_server_cpu_s"] = round(monitor.cpu() - before_csv, 2)
            csv_found = workload.from_csv(item, rows)
            check = compare(expected.units, csv_found)
            correct["csv_rows"] = len(rows)
            correct["csv_lost"] = check["lost"]
            correct["csv_doubled"] = check["doubled"]
            if differences(expected.units, csv_found):
                correct["csv_differences"] = differences(expected.units, csv_found)
        correct["ok"] = (
            correct["lost"] == 0
            and correct["doubled"] == 0
            and correct.get("csv_lost", 0) == 0
            and correct.get("csv_doubled", 0) == 0
            and correct["respondents"] == expected.respondents
        )
        result["correct"] = correct

        # Peak memory and CPU before the storm: what the baseline, which has no
        # storm, is compared with (the storm's own figures are reported apart).
        if monitor is not None:
            peak_before_storm = monitor.peak_rss
        if storm > 0:
            if profile is not None and profile[0] == "storm":
                profile[1]()
            result["storm"] = await reconnect_storm(phones, monitor, storm, question)
            if profile is not None and profile[0] == "storm":
                profile[2]()

        # Fan-out: the facilitator moves on.
        cpu3 = monitor.cpu() if monitor else 0.0
        moved = time.monotonic()
        await console.action("next")
        await projector.wait_for(lambda s: s.get("item", {}).get("id") == next_item, 30)
        deadline = time.monotonic() + 30
        while True:
            seen = [t for reply in await phones.ask("seen", next_item) for t in reply]
            have = [t for t in seen if t is not None]
            if len(have) >= len(joined) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        cpu4 = monitor.cpu() if monitor else 0.0
        result["fanout"] = {
            "ms": percentiles([t - moved for t in have]),
            "reached": len(have),
            "missed": len(joined) - len(have),
            "server_cpu_s": round(cpu4 - cpu3, 2),
        }
    finally:
        client_cpu = await phones.close()
        generator_cpu1 = psutil.Process().cpu_times()
        await console.close()
        await projector.close()
        if monitor is not None:
            monitor.stop()
    own = (generator_cpu1.user + generator_cpu1.system) - (
        generator_cpu0.user + generator_cpu0.system
    )
    redis_cpu1 = await store_cpu(target.store or "")
    storm_cpu = float(result.get("storm", {}).get("server_cpu_s", 0.0))
    # Left out of the CPU compared with the baseline: the storm and the CSV check.
    apart = storm_cpu + float(result.get("correct", {}).get("csv_server_cpu_s", 0.0))
    peak = peak_before_storm if storm > 0 else (monitor.peak_rss if monitor else 0)
    result["server"] = {
        # With a storm: the peak before it, and the CPU without it (see above).
        "peak_rss_mib": round(peak / 2**20, 1) if monitor else None,
        "peak_rss_with_storm_mib": round(monitor.peak_rss / 2**20, 1)
        if monitor and storm > 0
        else None,
        "idle_rss_mib": round(idle_rss / 2**20, 1),
        "cpu_s": round(monitor.cpu() - cpu0 - apart, 2) if monitor else None,
        # Everything: with the storm and the CSV check.
        "cpu_s_with_storm": round(monitor.cpu() - cpu0, 2) if monitor and storm > 0 else None,
        # What each phone adds, apart from what the idle server holds (poll's idle
        # process tree, with the SQLite writer or a second worker, is larger than
        # the baseline's whole run at 1,000 phones).
        "rss_per_phone_kib": round((peak - idle_rss) / 1024 / participants, 1) if monitor else None,
        # The Redis server's CPU over the whole run (storm included), apart.
        "redis_cpu_s": round(redis_cpu1 - redis_cpu0, 2)
        if redis_cpu0 is not None and redis_cpu1 is not None
        else None,
    }
    server_cpu = monitor.cpu() - cpu0 if monitor else None
    whole = generator_share(client_cpu + own, server_cpu)
    result["generator"] = {"cpu_s": whole["generator_cpu_s"], "share": whole["generator_share"]}
    return result


def generator_share(generator_cpu: float, server_cpu: float | None) -> dict[str, float | None]:
    """The generator's CPU seconds, and its share of the CPU that generator and server
    used together: on two cores what the generator takes, the server lacks."""
    share = None
    if server_cpu is not None and generator_cpu + server_cpu > 0:
        share = round(generator_cpu / (generator_cpu + server_cpu), 2)
    return {"generator_cpu_s": round(generator_cpu, 2), "generator_share": share}


async def reconnect_storm(
    phones: Clients, monitor: Monitor | None, window: float, question: str
) -> dict[str, Any]:
    """Every phone drops at once and reconnects within `window` seconds, mid-question,
    its answers stored. Back: a snapshot of the current item and exactly the answers
    its last ack listed (`mine`); timed from the drop until the last phone is back."""
    cpu0 = monitor.cpu() if monitor else 0.0
    start = time.monotonic() + 0.5
    reports = [r for reply in await phones.ask("storm", start, window, question) for r in reply]
    cpu1 = monitor.cpu() if monitor else 0.0
    failures = Counter(r["failure"] for r in reports if r["failure"])
    wrong_item = [r["participant"] for r in reports if r["back"] and r["item"] != question]
    wrong_answers = [r["participant"] for r in reports if r["back"] and r["mine"] != r["expected"]]
    right = set(wrong_item) | set(wrong_answers)
    back = [r for r in reports if r["back"] and r["participant"] not in right]
    return {
        "phones": len(reports),
        "window_s": window,
        "back": len(back),
        "failed": sum(failures.values()),
        "failures": dict(failures),
        "wrong_item": len(wrong_item),
        "wrong_answers": len(wrong_answers),
        "wrong_examples": (wrong_item + wrong_answers)[:10],
        "with_answers": sum(1 for r in back if r["expected"]),
        # From each phone's new connection to its snapshot and answers.
        "reconnect_ms": percentiles([r["back"] - r["connected"] for r in back]),
        "seconds_all_back": round(max(r["back"] for r in back) - start, 2) if back else None,
        "server_cpu_s": round(cpu1 - cpu0, 2),
    }


def ratios(poll: dict[str, Any], base: dict[str, Any]) -> dict[str, float | None]:
    """poll's figure divided by the baseline's (>1: poll is slower or bigger)."""

    def ratio(a: float | None, b: float | None) -> float | None:
        if a is None or b is None or b <= 0:
            return None
        return round(a / b, 2)

    return {
        "ack_p99": ratio(poll["vote"]["ack_ms"]["p99"], base["vote"]["ack_ms"]["p99"]),
        "projector_p99": ratio(
            poll["vote"]["projector_ms"]["p99"], base["vote"]["projector_ms"]["p99"]
        ),
        "fanout_p99": ratio(poll["fanout"]["ms"]["p99"], base["fanout"]["ms"]["p99"]),
        "join_s": ratio(poll["join"]["seconds_all_in"], base["join"]["seconds_all_in"]),
        "peak_rss": ratio(poll["server"]["peak_rss_mib"], base["server"]["peak_rss_mib"]),
        "server_cpu": ratio(poll["server"]["cpu_s"], base["server"]["cpu_s"]),
        "rss_per_phone": ratio(
            poll["server"].get("rss_per_phone_kib"), base["server"].get("rss_per_phone_kib")
        ),
        "join_server_cpu": ratio(poll["join"]["server_cpu_s"], base["join"]["server_cpu_s"]),
    }


async def run(options: argparse.Namespace) -> dict[str, Any]:
    # The servers and client processes it starts inherit the limit.
    clients.raise_nofile(clients.UNIT_NOFILE)
    # The servers' logs: shown when a run fails, removed whatever happened.
    log_dir = tempfile.mkdtemp(prefix="poll-bench-logs-")
    try:
        return await measure_targets(options, log_dir)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


async def measure_targets(options: argparse.Namespace, log_dir: str) -> dict[str, Any]:
    """poll, then (unless --no-baseline) the baseline server, with the same phones."""
    summary: dict[str, Any] = {"participants": options.participants}
    store = options.store or "sqlite"
    with contextlib.ExitStack() as stack:
        if store == "redis-cluster" and not options.url:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="poll-bench-cluster-"))
            store = stack.enter_context(redis_cluster(Path(folder)))
        return await measure_on(options, log_dir, store, summary)


async def measure_on(
    options: argparse.Namespace, log_dir: str, store: str, summary: dict[str, Any]
) -> dict[str, Any]:
    """The measurements of `measure_targets` on one store."""
    participants: int = options.participants
    processes = client_processes(options)
    if options.url:
        target = Target("poll", options.url.rstrip("/"), token=options.token or "", store=store)
    else:
        target = start_poll(store, options.workers, log_dir)
    profiler: subprocess.Popen[bytes] | None = None

    def profile() -> None:
        nonlocal profiler
        if options.profile:
            profiler = start_profiler(target, options.profile)

    def unprofile() -> None:
        """Stop py-spy (with --profile-from join: once every phone is in)."""
        nonlocal profiler
        if profiler is not None:
            profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            profiler.wait(60)
            profiler = None

    workload = workloads.get(options.question)
    summary["question"] = workload.type_name
    try:
        summary["poll"] = await measure(
            target,
            participants,
            processes,
            workload,
            (options.profile_from, profile, unprofile) if options.profile else None,
            options.change_share,
            options.spread,
            options.reconnect_storm,
        )
    except Exception:
        if target.log is not None:
            target.log.flush()
            text = await asyncio.to_thread(Path(target.log.name).read_text, errors="replace")
            sys.stderr.write(text[-3000:])
        raise
    finally:
        unprofile()
        stop(target)
        if target.store.startswith("redis") and target.room_id and not options.url:
            await cleanup_redis(target.store)
    if target.store.startswith("redis"):
        summary["redis"] = await redis_round_trip(target.store)
    if options.baseline:
        summary["baseline"] = await measure_baseline(options, log_dir, options.baseline_server)
        summary["baseline_server"] = options.baseline_server
        if workload.type_name != BASELINE_QUESTION:
            summary["baseline_note"] = baseline_note(workload)
        summary["ratio_to_baseline"] = ratios(summary["poll"], summary["baseline"])
    return summary


async def run_baseline(options: argparse.Namespace, server: str) -> dict[str, Any]:
    """One baseline server alone (`bench table`'s second baseline), as `run` measures it."""
    clients.raise_nofile(clients.UNIT_NOFILE)
    log_dir = tempfile.mkdtemp(prefix="poll-bench-logs-")
    try:
        return await measure_baseline(options, log_dir, server)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)


async def measure_baseline(
    options: argparse.Namespace, log_dir: str, server: str
) -> dict[str, Any]:
    """The baseline `server` (`BASELINE_SERVERS`) with the phones of `options`, on yes/no."""
    participants: int = options.participants
    base = start_baseline(log_dir, server)
    try:
        return await measure(
            base,
            participants,
            client_processes(options),
            workloads.get(BASELINE_QUESTION),
            change_share=options.change_share,
            spread=options.spread,
        )
    finally:
        stop(base)


def client_processes(options: argparse.Namespace) -> int:
    """Generator processes: as asked, else one per 2,500 phones (at most four)."""
    participants: int = options.participants
    return int(options.clients or max(1, min(4, math.ceil(participants / 2500))))


def baseline_note(workload: Workload) -> str:
    return (
        f"the baseline server reads only yes/no answers: it was measured on yes/no, "
        f"poll on {workload.type_name}; its figures (and the ratios) are the machine's "
        "limit for as many phones, sockets and votes"
    )


def report(summary: dict[str, Any]) -> None:
    for name in ("poll", "baseline"):
        result = summary.get(name)
        if result is None:
            continue
        v, f, j, s = result["vote"], result["fanout"], result["join"], result["server"]
        print(
            f"{name:>8} {result['question']['type']} N={result['participants']} "
            f"store={result['store']} "
            f"workers={result['workers']}: join {j['joined']} in {j['seconds_all_in']} s "
            f"({j['failed']} failed); ack p50/p99 {v['ack_ms']['p50']}/{v['ack_ms']['p99']} ms; "
            f"projector p50/p99 {v['projector_ms']['p50']}/{v['projector_ms']['p99']} ms; "
            f"fan-out p50/p99 {f['ms']['p50']}/{f['ms']['p99']} ms; "
            f"{v['votes_per_s']} votes/s; lost {result['correct']['lost']} "
            f"doubled {result['correct']['doubled']}; peak RSS {s['peak_rss_mib']} MiB; "
            f"server CPU {s['cpu_s']} s, generator CPU {result['generator']['cpu_s']} s "
            f"(share {result['generator']['share']}; join "
            f"{j['generator_share']}, burst {v['generator_share']}); generator loop lag in "
            f"the burst p99/max {v['generator_lag_ms']['p99']}/{v['generator_lag_ms']['max']} ms",
            file=sys.stderr,
        )
        storm = result.get("storm")
        if storm is not None:
            print(
                f"{'':>8} reconnect storm within {storm['window_s']:g} s: {storm['back']} of "
                f"{storm['phones']} back with their item and answers in "
                f"{storm['seconds_all_back']} s (reconnect p50/p99 "
                f"{storm['reconnect_ms']['p50']}/{storm['reconnect_ms']['p99']} ms; "
                f"{storm['failed']} failed, {storm['wrong_item']} wrong item, "
                f"{storm['wrong_answers']} wrong answers); server CPU {storm['server_cpu_s']} s",
                file=sys.stderr,
            )
    if "baseline_note" in summary:
        print(f"    note: {summary['baseline_note']}", file=sys.stderr)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench load", description=__doc__.splitlines()[0])
    p.add_argument("--participants", "-n", type=int, default=1000)
    p.add_argument(
        "--question",
        choices=workloads.names(),
        default="yesno",
        metavar="TYPE",
        help="the question type the phones answer, one of: "
        f"{', '.join(workloads.names())} (default: yesno); its question is in "
        "bench/sessions.yaml, and the baseline stays on yes/no",
    )
    p.add_argument(
        "--spread",
        type=float,
        default=SPREAD,
        metavar="SECONDS",
        help=f"the first answers are sent within this many seconds (default: {SPREAD:g})",
    )
    p.add_argument(
        "--change-share",
        type=float,
        default=CHANGE_SHARE,
        metavar="SHARE",
        help="share of phones that answer again after their first answer was saved "
        f"(default: {CHANGE_SHARE})",
    )
    p.add_argument(
        "--url",
        help="a running poll server on bench/sessions.yaml (needs --token); default: start one",
    )
    p.add_argument("--token", help="the running server's facilitator token")
    p.add_argument(
        "--store",
        help=f"store URL for the started server (default: SQLite; e.g. {DEFAULT_REDIS}),"
        " or redis-cluster: a three-master Redis Cluster started for the run",
    )
    p.add_argument("--workers", type=int, default=1, help="server worker processes (Redis only)")
    p.add_argument("--clients", type=int, help="client processes (default: one per 2,500)")
    p.add_argument(
        "--reconnect-storm",
        type=float,
        nargs="?",
        const=STORM,
        default=0.0,
        metavar="SECONDS",
        help="after the vote burst, every phone drops at once and reconnects within "
        f"SECONDS (default {STORM:g}); measures until every phone is back with its item "
        "and its own answers (poll only, not the baseline)",
    )
    p.add_argument("--no-baseline", dest="baseline", action="store_false")
    p.add_argument(
        "--baseline-server",
        choices=sorted(BASELINE_SERVERS),
        default="websockets",
        help="the baseline: the least server on websockets' own (default), or the same "
        "as a bare ASGI app on uvicorn with poll's settings (what the web stack costs)",
    )
    p.add_argument("--json", help="also write the summary to this file")
    p.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the server (from the vote burst on, or see --profile-from); "
        "folded stacks to FILE",
    )
    p.add_argument(
        "--profile-from",
        choices=("join", "burst", "storm"),
        default="burst",
        help="what --profile records: the join alone, from the vote burst on (default), "
        "or the reconnect storm alone",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    options = parser().parse_args(argv)
    if options.url and not options.token:
        parser().error("--url needs --token")
    if options.reconnect_storm < 0:
        parser().error(f"--reconnect-storm is a number of seconds, not {options.reconnect_storm}")
    if options.spread < 0:
        parser().error(f"--spread is a number of seconds, 0 or more, not {options.spread}")
    if not 0 <= options.change_share <= 1:
        parser().error(f"--change-share is a share from 0 to 1, not {options.change_share}")
    try:
        import uvloop

        summary = uvloop.run(run(options))
    except ImportError:
        summary = asyncio.run(run(options))
    report(summary)
    line = json.dumps(summary)
    if options.json:
        Path(options.json).write_text(line + "\n")
    print(line)
    return 0
