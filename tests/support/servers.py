"""A real `poll serve` process, and a private redis-server, for the tests that need one.

Both run in a process group of their own, write their output to a log beside the
test's files (shown when a drill fails), and are waited for until they answer.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import require_or_skip
from tests.support.processes import Reaper, free_port, kill_group, serve_command, spawn
from tests.support.scripts import SCRIPT
from tests.support.waiting import eventually, eventually_sync

#: The facilitator token of every server the tests start.
TOKEN = "test-facilitator-token-0d5c1f7e9a3b"
REDIS_SERVER = os.environ.get("POLL_REDIS_SERVER", "/usr/bin/redis-server")


@dataclass
class PollServer:
    """One `poll serve` process; `kill()` and `start()` again keep its port and data.

    `start()` waits without an event loop (for Playwright's sync tests), `astart()`
    with one (for the drills). A `reaper`, when given, kills it at teardown whatever
    happened; `stop()` ends it gently.
    """

    tmp: Path
    store: str
    sessions: Path = SCRIPT
    name: str = "server"
    port: int = field(default_factory=free_port)
    public_url: str | None = None
    workers: int = 1
    log_level: str | None = "warning"
    extra: tuple[str, ...] = ()
    reaper: Reaper | None = None
    #: The open-file limit (soft and hard) to start it under, as `ulimit -n` would.
    open_files: int | None = None
    #: What runs behind `url`; the browser tests keep screenshots in a folder of that name.
    label: str = "sqlite"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.tmp / f"{self.name}.log"

    def console_link(self) -> str:
        return f"{self.url}/console?token={TOKEN}"

    def _spawn(self) -> None:
        env = {
            **os.environ,
            "POLL_FACILITATOR_TOKEN": TOKEN,
            "POLL_PUBLIC_URL": self.public_url or self.url,
        }
        command = serve_command(
            self.port, self.store, self.sessions, self.tmp / "data",
            workers=self.workers, log_level=self.log_level, extra=self.extra,
        )  # fmt: skip
        self.process = spawn(command, self.log, self.tmp, env, open_files=self.open_files)
        if self.reaper is not None:
            self.reaper.track(self.process)

    def _healthy(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited: {self.log.read_text(errors='replace')[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> PollServer:
        self._spawn()
        eventually_sync(self._healthy, f"{self.name} answers /healthz", within=60)
        return self

    async def astart(self) -> None:
        await asyncio.to_thread(self._spawn)
        await eventually(
            lambda: asyncio.to_thread(self._healthy), f"{self.name} answers /healthz", within=60
        )

    def kill(self) -> None:
        """SIGKILL, as the OOM killer or a pulled plug would: no shutdown code runs."""
        assert self.process is not None
        kill_group(self.process, signal.SIGKILL)

    def stop(self) -> None:
        if self.process is not None:
            kill_group(self.process, signal.SIGTERM)


@dataclass
class RedisServer:
    """A private redis-server for tests that stop, restart or cut Redis.

    It runs on a free port in a folder of the test's own, with `--appendonly yes` as
    production should run it: the machine's shared Redis is never touched.
    """

    tmp: Path
    reaper: Reaper
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    #: More options for redis-server, e.g. ("--appendfsync", "always").
    options: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        folder = self.tmp / "redis"
        folder.mkdir(exist_ok=True)
        command = [
            REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
            "--dir", str(folder), "--appendonly", "yes", "--save", "",
            "--daemonize", "no", "--logfile", "", *self.options,
        ]  # fmt: skip
        self.process = await asyncio.to_thread(
            spawn, command, self.tmp / "redis.log", folder, dict(os.environ)
        )
        self.reaper.track(self.process)
        await eventually(self.ping, "the private redis-server answers PING", within=30)

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

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing more reaches the append-only file."""
        if self.process is not None:
            kill_group(self.process, signal.SIGKILL)
            self.process.wait()


def need_redis_server() -> None:
    """Skip (or fail, with POLL_REQUIRE_REDIS=1) when no redis-server binary is installed."""
    if not (Path(REDIS_SERVER).exists() and shutil.which(REDIS_SERVER)):
        require_or_skip(f"redis-server not found at {REDIS_SERVER}", "POLL_REQUIRE_REDIS")


def need_shared_redis(url: str) -> None:
    """Skip (or fail) when the tests' shared Redis does not answer. Synchronous: it also
    serves tests under Playwright's sync API."""
    from redis import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except Exception as error:  # refused, timed out, wrong password: all mean "not here"
        require_or_skip(f"Redis is not reachable at {url}: {error}")
    finally:
        client.close()


@pytest.fixture
def reaper() -> Iterator[Reaper]:
    """Kills every process the test tracked, whatever happened in it."""
    keeper = Reaper()
    try:
        yield keeper
    finally:
        keeper.reap()
