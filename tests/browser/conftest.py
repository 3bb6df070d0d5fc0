"""A real `poll serve` in a subprocess and headless Chromium to drive it.

Skips with a reason when Chromium (or Redis, for the two-process test) is
missing; POLL_REQUIRE_BROWSER=1 / POLL_REQUIRE_REDIS=1 turn that into failures.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.conftest import delete_keys, pipe, redis_url, require_or_skip

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("POLL_CHROMIUM", "/usr/bin/chromium")
TOKEN = "browser-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    label: str = "sqlite"  # what runs behind `url`: screenshots go in a folder of that name

    def console_link(self) -> str:
        return f"{self.url}/console?token={TOKEN}"


def start_server(
    tmp: Path,
    store: str,
    port: int | None = None,
    name: str = "server",
    public_url: str | None = None,
    sessions: Path = ROOT / "sessions.yaml",
) -> Server:
    port = port or free_port()
    log = tmp / f"{name}.log"
    env = {
        **os.environ,
        "POLL_FACILITATOR_TOKEN": TOKEN,
        "POLL_PUBLIC_URL": public_url or f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable, "-m", "poll.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--store", store, "--sessions", str(sessions),
        "--data-dir", str(tmp / "data"), "--log-level", "warning",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"poll serve exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"poll serve did not start: {log.read_text()}")


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        require_or_skip(f"Chromium not found at {CHROMIUM}", "POLL_REQUIRE_BROWSER")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = start_server(tmp_path, f"sqlite:///{tmp_path}/poll.db")
    yield running
    stop_server(running)


class RoundRobin:
    """A TCP front spreading connections over several poll processes in turn, as a
    load balancer would: every page load and websocket of a browser may land on
    another process, while the browser sees one origin. Runs in a thread of its own
    (Playwright's sync API owns this thread's event loop)."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.turn = 0
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="round-robin", daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._ready.set()
        try:
            self.loop.run_forever()
        finally:
            server.close()
            self.loop.run_until_complete(server.wait_closed())
            self.loop.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = self.backends[self.turn % len(self.backends)]
        self.turn += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(params=["sqlite", "redis, two processes"])
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """One poll on SQLite, or two poll processes on one Redis behind a round robin."""
    if request.param == "sqlite":
        running = start_server(tmp_path, f"sqlite:///{tmp_path}/poll.db")
        yield running
        stop_server(running)
        return
    from tests.browser.redis_helpers import redis_available

    base = redis_url()
    redis_available(base)
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    ports = [free_port(), free_port()]
    front = RoundRobin(ports)
    servers: list[Server] = []
    try:
        for n, port in enumerate(ports):
            (tmp_path / str(n)).mkdir()
            servers.append(
                start_server(tmp_path / str(n), f"{base}?prefix={prefix}", port, str(n), front.url)
            )
        yield Server(front.url, servers[0].process, servers[0].log, "redis-two-processes")
        assert front.turn > 10, "the round robin should have carried the session"
    finally:
        for running in servers:
            stop_server(running)
        front.stop()
        delete_keys(base, prefix)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
