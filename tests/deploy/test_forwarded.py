"""Behind deploy/nginx.conf, a server with `poll serve --proxy-ips 127.0.0.1`'s uvicorn
options sees the phone's own address and https, whatever forwarded headers the phone
sent: nginx replaces them, and poll believes nginx alone. (Apart from the browser
test's module: uvicorn_options runs `poll serve`, which may not share Playwright's
running event loop.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.conftest import uvicorn_options
from tests.security.test_proxies import SPOOFED, echo_server  # noqa: F401 - a fixture
from tests.support.nginx import Nginx
from tests.support.processes import Reaper
from tests.support.servers import reaper  # noqa: F401 - the fixture


def test_nginx_hands_poll_the_address_it_saw_and_drops_a_forged_one(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    echo_server: Any,  # noqa: F811
    reaper: Reaper,  # noqa: F811
) -> None:
    options = uvicorn_options(monkeypatch, tmp_path, "--proxy-ips", "127.0.0.1")
    nginx = Nginx([echo_server(options), echo_server(options)], reaper)
    try:
        nginx.start()
        forged = {"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "http"}
        with httpx.Client(verify=False) as client:
            seen = [json.loads(client.get(nginx.url, headers=forged).text) for _ in range(4)]
    finally:
        nginx.cleanup()
    assert seen == [{"client": "127.0.0.1", "scheme": "https"}] * 4
