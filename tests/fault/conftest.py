"""The machinery of the fault drills: real `poll serve` processes, a private
`redis-server`, a facilitator, and phones that speak the live protocol.

Every process a drill starts runs in its own process group and is killed in
the fixture's teardown, whatever happened in the test. The machine's shared
Redis is never touched: drills that stop or restart Redis start their own on a
free port, in a temporary directory, with `--appendonly yes` as production
should run it.

Nothing here measures time: waits poll a condition until a generous deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import websockets
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import pipe, require_or_skip

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "tests" / "artifacts" / "faults"
TOKEN = "fault-drill-token"
CHROMIUM = os.environ.get("POLL_CHROMIUM", "/usr/bin/chromium")
REDIS_SERVER = os.environ.get("POLL_REDIS_SERVER", "/usr/bin/redis-server")
PHONE_VIEWPORT = {"width": 390, "height": 844}

#: The drill's own script: a slide, a yes/no for the browser phones, an open
#: question that takes 20 answers per phone (every vote its own CSV row, so each
#: acknowledged vote can be looked up by its text), and a closing slide.
SCRIPT = """\
sessions:
  drill:
    title: Fault drill
    language: en
    items:
      - type: slide
        title: Welcome to the drill
        body: Phones join now.
      - type: yesno
        id: ready
        prompt: Are you ready?
      - type: open
        id: ideas
        prompt: Send your ideas
        max_length: 400
        max_answers: 20
      - type: slide
        title: Thank you
        body: That was the drill.
"""
SESSION = "drill"
YESNO, YESNO_INDEX = "ready", 1
OPEN, OPEN_INDEX = "ideas", 2
END_INDEX = 3
ANSWERS_PER_PHONE = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def expect(locator: Any) -> Any:
    """Playwright's async `expect`, imported late: only the browser drills need Playwright."""
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    within: float = 60.0,
    every: float = 0.2,
) -> None:
    """Wait until `check()` is true; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:.0f} s waiting for: {what}")
        await asyncio.sleep(every)


# Processes -----------------------------------------------------------------------


class Reaper:
    """Every process a drill started; killed (whole group) at teardown, whatever happened."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def track(self, process: subprocess.Popen[bytes]) -> None:
        self.processes.append(process)

    def reap(self) -> None:
        for process in self.processes:
            kill_group(process)


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the process's whole group (uvicorn workers too), then reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(15)
    if process.poll() is None:  # SIGTERM ignored: no leftovers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(15)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed drill shows the end of every server's and Redis's log beside it."""
    report = yield
    tmp = getattr(item, "funcargs", {}).get("tmp_path")
    if report.failed and report.when == "call" and isinstance(tmp, Path):
        for log in sorted(tmp.glob("*.log")):
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            report.sections.append((f"log {log.name} (end)", tail))
    return report


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    keeper = Reaper()
    try:
        yield keeper
    finally:
        keeper.reap()


def _spawn(
    command: list[str], log: Path, cwd: Path, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True
        )


@dataclass
class PollServer:
    """One `poll serve` process; `kill()` and `start()` again keep port and data."""

    tmp: Path
    store: str
    reaper: Reaper
    name: str = "server"
    port: int = field(default_factory=free_port)
    public_url: str | None = None
    workers: int = 1
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.tmp / f"{self.name}.log"

    async def start(self) -> None:
        script = self.tmp / "sessions.yaml"
        if not script.exists():
            script.write_text(SCRIPT, encoding="utf-8")
        env = {
            **os.environ,
            "POLL_FACILITATOR_TOKEN": TOKEN,
            "POLL_PUBLIC_URL": self.public_url or self.url,
        }
        command = [
            sys.executable, "-m", "poll.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--store", self.store, "--sessions", str(script),
            "--data-dir", str(self.tmp / "data"), "--log-level", "warning",
            "--workers", str(self.workers),
        ]  # fmt: skip
        self.process = await asyncio.to_thread(_spawn, command, self.log, self.tmp, env)
        self.reaper.track(self.process)
        await eventually(self._healthy, f"{self.name} answers /healthz", within=60)

    async def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited: {self.log.read_text(errors='replace')[-3000:]}")
        try:
            async with httpx.AsyncClient(timeout=3) as client:
                return (await client.get(f"{self.url}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: no shutdown code runs."""
        assert self.process is not None
        kill_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process, signal.SIGTERM)


@dataclass
class RedisServer:
    """A private redis-server for drills that stop, restart or cut Redis."""

    tmp: Path
    reaper: Reaper
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        folder = self.tmp / "redis"
        folder.mkdir(exist_ok=True)
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(folder), "--appendonly", "yes", "--save", "",
            "--daemonize", "no", "--logfile", "",
        ]  # fmt: skip
        self.process = await asyncio.to_thread(
            _spawn, command, self.tmp / "redis.log", folder, dict(os.environ)
        )
        self.reaper.track(self.process)
        await eventually(self.ping, "the drill's redis-server answers PING", within=30)

    async def ping(self) -> bool:
        try:
            return bool(await self.command("PING"))
        except (OSError, RuntimeError):
            return False

    async def command(self, *args: str) -> Any:
        from redis.asyncio import Redis

        client = Redis.from_url(self.url, decode_responses=True, socket_connect_timeout=2)
        try:
            return await client.execute_command(*args)
        except Exception as exc:
            raise RuntimeError(str(exc)) from exc
        finally:
            await client.aclose()

    def stop(self) -> None:
        """SIGTERM: Redis writes and syncs its append-only file, then exits."""
        if self.process is not None:
            kill_group(self.process, signal.SIGTERM)


def need_redis_server() -> None:
    if not (Path(REDIS_SERVER).exists() and shutil.which(REDIS_SERVER)):
        require_or_skip(f"redis-server not found at {REDIS_SERVER}", "POLL_REQUIRE_REDIS")


# The facilitator ---------------------------------------------------------------------


@dataclass
class Facilitator:
    """The facilitator's steps, over HTTP and the console websocket."""

    url: str
    client: httpx.AsyncClient = field(init=False)
    room_id: str = ""
    code: str = ""

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(base_url=self.url, timeout=30)

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def cookie(self) -> str:
        return f"poll_console={self.client.cookies['poll_console']}"

    async def metrics(self) -> Any:
        """The server's /metrics: the hub's sockets, rooms, subscriptions, tasks, memory."""
        reply = await self.client.get("/metrics")
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def sign_in(self) -> None:
        reply = await self.client.get(f"/console?token={TOKEN}")
        assert reply.status_code == 303, reply.text

    async def start_run(self) -> None:
        page = (await self.client.get("/console")).text
        marker = 'name="csrf" value="'
        csrf = page[page.index(marker) + len(marker) :].split('"', 1)[0]
        reply = await self.client.post("/console/rooms", data={"session_id": SESSION, "csrf": csrf})
        assert reply.status_code == 303, reply.text
        self.room_id = reply.headers["location"].rsplit("/", 1)[1]
        self.code = (await self.snapshot("console"))["room"]["code"]

    def ws_url(self, audience: str, base: str | None = None) -> str:
        host = (base or self.url).removeprefix("http://")
        return f"ws://{host}/ws/{audience}/{self.room_id}"

    async def snapshot(self, audience: str = "projector", base: str | None = None) -> Any:
        """A fresh snapshot, as a projector (re)opened now would get it."""
        async with websockets.connect(
            self.ws_url(audience, base), additional_headers={"Cookie": self.cookie}
        ) as ws:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "snapshot":
                    return message

    async def act(self, action: str, base: str | None = None, **fields: Any) -> None:
        """One console action, retried while the store is away (as the facilitator would)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                async with websockets.connect(
                    self.ws_url("console", base), additional_headers={"Cookie": self.cookie}
                ) as ws:
                    request = {"type": "action", "action": action, "request_id": "a", **fields}
                    await ws.send(json.dumps(request))
                    while True:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if message.get("request_id") == "a":
                            assert message["type"] == "done", message
                            return
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def go(self, index: int, base: str | None = None) -> None:
        await self.act("go", base, index=index)

    async def csv_rows(self) -> list[dict[str, str]]:
        """The run's answers as the facilitator downloads them (results.csv)."""
        reply = await self.client.get(f"/console/room/{self.room_id}/results.csv")
        assert reply.status_code == 200, reply.text
        return list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))


@pytest.fixture
async def facilitator_for() -> AsyncIterator[Callable[[str], Awaitable[Facilitator]]]:
    made: list[Facilitator] = []

    async def make(url: str) -> Facilitator:
        person = Facilitator(url)
        made.append(person)
        await person.sign_in()
        return person

    yield make
    for person in made:
        await person.aclose()


# Phones ------------------------------------------------------------------------------


def participant_of(cookie_value: str) -> str:
    """The participant id inside a poll_pid cookie (its payload is signed, not secret)."""
    _, payload = URLSafeTimedSerializer("unused").loads_unsafe(cookie_value)
    return str(payload)


@dataclass
class Tally:
    """What the phones saw, summed over all of them: the drill's figures."""

    sent: int = 0
    acked: dict[str, str] = field(default_factory=dict)  # submission id → text
    refused_retry: int = 0
    refused_final: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    acked_by_base: dict[str, int] = field(default_factory=dict)


class Phone:
    """A participant's phone, at protocol level: joins by code, votes, retries like the page.

    A vote is pending until its `ack`; `refused` with retry, or a lost socket,
    means "send it again with the same submission id" after a pause, exactly as
    static/participant.js does. `bases` are the addresses it may reach the
    server at, tried in turn after a failure (a DNS name with two addresses).
    """

    def __init__(self, name: str, bases: list[str], code: str, tally: Tally) -> None:
        self.name = name
        self.bases = bases
        self.code = code
        self.tally = tally
        self.cookie = ""
        self.participant = ""
        self._base = 0
        self._ws: Any = None
        self.snapshots = 0

    @property
    def base(self) -> str:
        return self.bases[self._base % len(self.bases)]

    async def join(self) -> None:
        """Open /r/CODE as a phone's browser would: that page sets the participant cookie."""
        deadline = time.monotonic() + 120
        while True:
            try:
                async with httpx.AsyncClient(base_url=self.base, timeout=20) as client:
                    reply = await client.get(f"/r/{self.code}")
                    if reply.status_code == 200:
                        value = client.cookies["poll_pid"]
                        break
            except (httpx.HTTPError, KeyError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} could not open the room page")
            self._base += 1
            await asyncio.sleep(0.5)
        self.cookie = f"poll_pid={value}"
        self.participant = participant_of(SimpleCookie(self.cookie)["poll_pid"].value)

    async def _connect(self, deadline: float) -> Any:
        delay = 0.2
        while True:
            base = self.base.removeprefix("http://")
            try:
                ws = await websockets.connect(
                    f"ws://{base}/ws/participant/{self.code}",
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=20,
                    max_size=None,
                )
                return ws
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                pass  # refused, reset, or a 5xx while the store is away: try again
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} could not reconnect before the deadline")
            self._base += 1  # the next address, if it has several
            await asyncio.sleep(delay * (0.6 + random.random() * 0.8))
            delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def vote(self, question_id: str, answer: dict[str, Any], submission_id: str) -> None:
        """Send until acknowledged (or refused for good); connect and reconnect as needed."""
        deadline = time.monotonic() + 240
        message = json.dumps(
            {
                "type": "vote",
                "question_id": question_id,
                "submission_id": submission_id,
                "answer": answer,
            }
        )
        while True:
            if self._ws is None:
                self._ws = await self._connect(deadline)
            ws = self._ws
            try:
                await ws.send(message)
                self.tally.sent += 1
                outcome = await self._await_answer(ws, submission_id)
            except (websockets.exceptions.WebSocketException, OSError, TimeoutError):
                outcome = "lost"
            if outcome == "acked":
                self.tally.acked[submission_id] = answer.get("text") or json.dumps(answer)
                self.tally.acked_by_base[self.base] = self.tally.acked_by_base.get(self.base, 0) + 1
                return
            if outcome == "final":
                return
            if outcome == "lost":
                self.tally.reconnects += 1
                with contextlib.suppress(Exception):
                    await ws.close()
                self._ws = None
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: vote {submission_id} never acknowledged")
            await asyncio.sleep(0.2 + random.random() * 0.5)

    async def _await_answer(self, ws: Any, submission_id: str) -> str:
        # The page resends after 5 s without an answer; a loaded drill machine gets 30.
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            kind = message["type"]
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong", "t": message["t"]}))
            elif kind == "snapshot":
                self.snapshots += 1
            elif kind == "ack" and message["submission_id"] == submission_id:
                return "acked"
            elif kind == "refused" and message["submission_id"] == submission_id:
                if message["retry"]:
                    self.tally.refused_retry += 1
                    return "retry"
                self.tally.refused_final.append(message)
                return "final"


async def phones_for(count: int, bases: list[str], code: str, tally: Tally) -> list[Phone]:
    phones = [Phone(f"phone-{i}", bases[i % len(bases) :] + bases[: i % len(bases)], code, tally)
              for i in range(count)]  # fmt: skip
    await asyncio.gather(*(phone.join() for phone in phones))
    return phones


async def burst(phones: list[Phone], answers: int = ANSWERS_PER_PHONE, pad: int = 0) -> None:
    """Every phone sends `answers` ideas, one after another, each until acknowledged."""

    async def one(phone: Phone) -> None:
        for n in range(answers):
            submission = f"{phone.name}-{n}-{random.getrandbits(32):08x}"
            text = f"idea {submission}" + " and more" * (pad // 9)
            await phone.vote(OPEN, {"text": text}, submission)

    try:
        await asyncio.gather(*(one(phone) for phone in phones))
    finally:
        await asyncio.gather(*(phone.close() for phone in phones), return_exceptions=True)


def open_texts(rows: list[dict[str, str]]) -> list[str]:
    return [row["answer"] for row in rows if row["question_id"] == OPEN]


def record(name: str, figures: dict[str, Any]) -> None:
    """Print a drill's figures and keep them for docs/security.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\n{name}: {json.dumps(figures)}")


# Chromium ------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    if not shutil.which(CHROMIUM):
        require_or_skip(f"Chromium not found at {CHROMIUM}", "POLL_REQUIRE_BROWSER")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            await browser.close()


async def phone_page(browser: Any, url: str) -> Any:
    context = await browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(url)
    return page


class Watcher:
    """A projector left open: counts the snapshots it gets and keeps the latest.

    It reconnects like static/live.js when its socket is closed, and counts that:
    a projector that had to reconnect proves less about the server's own recovery.
    """

    def __init__(self, url: str, cookie: str, *, reconnect: bool = True) -> None:
        self.url = url
        self.cookie = cookie
        self.reconnect = reconnect
        self.snapshots = 0
        self.latest: dict[str, Any] = {}
        self.reconnects = 0
        self.closed_codes: list[int | None] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def texts(self) -> list[str]:
        results = self.latest.get("results") or {}
        return [entry["text"] for entry in results.get("texts", [])]

    async def _run(self) -> None:
        delay = 0.2
        while True:
            try:
                async with websockets.connect(
                    self.url, additional_headers={"Cookie": self.cookie}, max_size=None
                ) as ws:
                    delay = 0.2
                    async for raw in ws:
                        message = json.loads(raw)
                        if message["type"] == "snapshot":
                            self.snapshots += 1
                            self.latest = message
                        elif message["type"] == "ping":
                            await ws.send(json.dumps({"type": "pong", "t": message["t"]}))
                    self.closed_codes.append(ws.close_code)
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                pass
            if not self.reconnect:
                return
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


class FrontProxy:
    """A tiny TCP front, as a venue's load balancer: each new connection goes to the
    first backend that accepts it, so when one process dies its phones land on the next.

    It knows nothing of HTTP or websockets; the phones' browser sees one origin.
    """

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.connections: Counter[int] = Counter()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, backlog=512)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            for port in self.backends:
                try:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    continue  # that backend is down: try the next
                self.connections[port] += 1
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
                return
        finally:
            writer.close()
            self._pipes.discard(task)
