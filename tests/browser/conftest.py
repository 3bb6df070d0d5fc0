"""A real `poll serve` in a subprocess and headless Chromium to drive it.

Skips with a reason when Chromium (or Redis, for the two-process test) is
missing; POLL_REQUIRE_BROWSER=1 / POLL_REQUIRE_REDIS=1 turn that into failures.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.conftest import require_or_skip

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

    def console_link(self) -> str:
        return f"{self.url}/console?token={TOKEN}"


def start_server(tmp: Path, store: str, port: int | None = None, name: str = "server") -> Server:
    port = port or free_port()
    log = tmp / f"{name}.log"
    env = {
        **os.environ,
        "POLL_FACILITATOR_TOKEN": TOKEN,
        "POLL_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable, "-m", "poll.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--store", store, "--sessions", str(ROOT / "sessions.yaml"),
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


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
