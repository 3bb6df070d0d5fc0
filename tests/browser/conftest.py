"""A real `poll serve` in a subprocess (tests.support.servers) and headless Chromium
(tests.support.browser) to drive it, on the tests' own script (tests/fixtures).

Skips with a reason when Chromium (or Redis, for the two-process test) is
missing; POLL_REQUIRE_BROWSER=1 / POLL_REQUIRE_REDIS=1 turn that into failures.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import delete_keys, pipe, redis_url
from tests.support.browser import browser  # noqa: F401 - the fixture, re-exported
from tests.support.processes import free_port
from tests.support.servers import PollServer, need_shared_redis

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PollServer]:
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db").start()
    yield running
    running.stop()


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
def any_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PollServer]:
    """One poll on SQLite, or two poll processes on one Redis behind a round robin."""
    if request.param == "sqlite":
        running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db").start()
        yield running
        running.stop()
        return
    base = redis_url()
    need_shared_redis(base)
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    ports = [free_port(), free_port()]
    front = RoundRobin(ports)
    servers: list[PollServer] = []
    try:
        for n, port in enumerate(ports):
            (tmp_path / str(n)).mkdir()
            store = f"{base}?prefix={prefix}"
            servers.append(
                PollServer(
                    tmp_path / str(n), store, name=str(n), port=port, public_url=front.url
                ).start()
            )
        # The browser sees the front: the first server as reached through its port.
        yield dataclasses.replace(servers[0], port=front.port, label="redis-two-processes")
        assert front.turn > 10, "the round robin should have carried the session"
    finally:
        for running in servers:
            running.stop()
        front.stop()
        delete_keys(base, prefix)


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
