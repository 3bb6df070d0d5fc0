"""The deployment of docs/deploy.md, run: nginx from Debian as the TLS reverse proxy
(deploy/nginx.conf, a self-signed certificate) in front of two `poll serve`
processes on Redis that believe forwarded addresses from nginx alone.

Real Chromium goes through the proxy only: the facilitator opens a run, a phone
joins and votes over a websocket through nginx, and the projector shows the vote.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from poll.web.csp import STRICT_TRANSPORT_SECURITY
from tests.browser.test_session import LIVE, PHONE, Console, expect, saved, shot, vote_button
from tests.conftest import delete_keys, redis_url
from tests.deploy.test_systemd import UNIT
from tests.support.artifacts import artifacts
from tests.support.browser import browser  # noqa: F401 - the fixture, re-exported
from tests.support.nginx import SITE, Nginx
from tests.support.processes import Reaper, free_port
from tests.support.scripts import number_of
from tests.support.servers import TOKEN, PollServer, need_shared_redis, reaper  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def deployment(tmp_path: Path, reaper: Reaper) -> Iterator[tuple[Nginx, list[PollServer]]]:  # noqa: F811
    """nginx on free ports in front of two poll processes sharing the test Redis."""
    base = redis_url()
    need_shared_redis(base)
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    ports = [free_port(), free_port()]
    nginx = Nginx(ports, reaper)
    servers: list[PollServer] = []
    try:
        for n, port in enumerate(ports):
            (tmp_path / str(n)).mkdir()
            servers.append(
                PollServer(
                    tmp_path / str(n),
                    f"{base}?prefix={prefix}",
                    name=f"poll-{n}",
                    port=port,
                    public_url=nginx.url,
                    extra=("--proxy-ips", "127.0.0.1"),
                    reaper=reaper,
                ).start()
            )
        yield nginx.start(), servers
    finally:
        for server in servers:
            server.stop()
        nginx.cleanup()
        delete_keys(base, prefix)


@pytest.mark.browser
@pytest.mark.redis
def test_a_session_through_nginx_with_tls(
    browser: Any,  # noqa: F811
    deployment: tuple[Nginx, list[PollServer]],
) -> None:
    nginx, servers = deployment
    shots = artifacts("deploy")
    facilitator = browser.new_context(
        viewport={"width": 1400, "height": 1000}, locale="en-US", ignore_https_errors=True
    )
    page = facilitator.new_page()
    sockets: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    response = page.goto(f"{nginx.url}/console?token={TOKEN}")
    assert response is not None and response.ok
    assert response.headers.get("strict-transport-security") == STRICT_TRANSPORT_SECURITY
    assert page.url.startswith(nginx.url), "the console stays behind the proxy"
    page.get_by_role("button", name=re.compile("Start a new run.*Gemengde wijken")).click()
    code = re.search(r"(\d{3}) (\d{4})", page.locator(".topbar .mono").inner_text())
    assert code, "no join code on the console"
    digits = code.group(1) + code.group(2)
    console = Console(page)

    projector = facilitator.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.on("websocket", lambda ws: sockets.append(ws.url))
    projector.goto(nginx.url + (page.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator(".big-code")).to_have_text(f"{digits[:3]} {digits[3:]}")
    # The projector shows the address phones use: the proxy's, over https.
    expect(projector.locator("body")).to_contain_text(f"127.0.0.1:{nginx.https_port}")

    phone_context = browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, ignore_https_errors=True
    )
    phone = phone_context.new_page()
    phone.on("websocket", lambda ws: sockets.append(ws.url))
    joined = phone.goto(f"{nginx.url}/r/{digits}")
    assert joined is not None and joined.ok
    assert joined.headers.get("strict-transport-security") == STRICT_TRANSPORT_SECURITY
    cookies = {c["name"]: c for c in phone_context.cookies()}
    assert cookies["poll_pid"]["secure"], "behind TLS the participant cookie is Secure"
    expect(page.locator(".current .meta")).to_contain_text("1 connected now", timeout=LIVE * 3)

    console.go(number_of("herkennen"))
    expect(phone.locator("h1.prompt")).to_have_text(re.compile("Herkennen jullie"), timeout=LIVE)
    vote_button(phone, "Ja").click()
    saved(phone)
    expect(projector.locator(".bars")).to_contain_text(re.compile(r"Ja.*1", re.S), timeout=LIVE)
    shot(projector, shots, "nginx-projector")
    shot(phone, shots, "nginx-phone")

    # One process stops (an upgrade restarts them one at a time): nginx sends
    # everybody to the other, and the phone finds its vote there, from Redis.
    servers[0].stop()
    with httpx.Client(verify=False) as client:
        for _ in range(4):
            assert client.get(f"{nginx.url}/r/{digits}").status_code == 200
    phone.reload()
    expect(phone.locator("button[aria-pressed=true]")).to_have_text(re.compile("^Ja"), timeout=LIVE)

    # Every live socket went through nginx, over TLS.
    assert sockets and all(
        url.startswith(f"wss://127.0.0.1:{nginx.https_port}/") for url in sockets
    )
    for context in (facilitator, phone_context):
        context.close()

    # Plain HTTP on the proxy only redirects to HTTPS, without HSTS (browsers ignore it there).
    plain = httpx.get(f"http://127.0.0.1:{nginx.http_port}/r/{digits}")
    assert plain.status_code == 301
    assert plain.headers["location"].startswith("https://127.0.0.1/r/")
    assert "strict-transport-security" not in plain.headers
    # Straight to a backend over plain HTTP (no proxy in between): no HSTS either.
    direct = httpx.get(f"{servers[1].url}/r/{digits}")
    assert direct.status_code == 200 and "strict-transport-security" not in direct.headers


@pytest.mark.parametrize(("fence", "path"), [("nginx", SITE), ("ini", UNIT)])
def test_the_docs_show_the_files_the_tests_run(fence: str, path: Path) -> None:
    docs = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    shown = f"```{fence}\n{path.read_text(encoding='utf-8')}```\n"
    assert shown in docs, f"docs/deploy.md must show {path.relative_to(ROOT)} as it is"
