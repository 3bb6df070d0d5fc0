"""A real `poll serve` in a subprocess (tests.support.servers) and headless Chromium
(tests.support.browser) to drive it, on the tests' own script (tests/fixtures).

Skips with a reason when Chromium (or Redis, for the two-process test) is
missing; POLL_REQUIRE_BROWSER=1 / POLL_REQUIRE_REDIS=1 turn that into failures.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import delete_keys, redis_url
from tests.support.artifacts import artifacts as artifacts_folder
from tests.support.browser import browser  # noqa: F401 - the fixture, re-exported
from tests.support.fronts import Front
from tests.support.processes import free_port
from tests.support.servers import PollServer, need_shared_redis


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PollServer]:
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db").start()
    yield running
    running.stop()


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
    front = Front(ports, in_turn=True)
    front.start_in_thread()
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
        assert front.accepted > 10, "the round robin should have carried the session"
    finally:
        for running in servers:
            running.stop()
        front.stop_in_thread()
        delete_keys(base, prefix)


@pytest.fixture
def artifacts() -> Path:
    return artifacts_folder()
