"""Forwarded headers count only from the proxies named by --proxy-ips: by default from
nobody (uvicorn alone would believe 127.0.0.1), and never from another peer that
sends them. HSTS goes out over HTTPS only, as the trusted scheme says."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from poll.cli import main
from poll.proxies import ProxyIpsError, parse_proxy_ips, uvicorn_proxy_options
from poll.settings import Settings, SettingsError
from poll.web.csp import STRICT_TRANSPORT_SECURITY
from tests.conftest import uvicorn_options
from tests.security.test_access import own_app
from tests.support.processes import free_port
from tests.support.servers import PollServer

SPOOFED = "203.0.113.66"
#: Another loopback address: on Linux the whole of 127.0.0.0/8 is this machine.
STRANGER = "127.0.0.2"


def test_proxy_ips_are_addresses_or_networks() -> None:
    assert parse_proxy_ips("") == ()
    assert parse_proxy_ips(" 127.0.0.1 , ::0001,10.1.2.3/8,127.0.0.1") == (
        "127.0.0.1",
        "::1",
        "10.0.0.0/8",
    )
    with pytest.raises(ProxyIpsError, match="'nginx' is not an IP address or network"):
        parse_proxy_ips("127.0.0.1,nginx")
    with pytest.raises(ProxyIpsError, match="from anybody"):
        parse_proxy_ips("*")
    with pytest.raises(SettingsError, match=re.escape("POLL_PROXY_IPS: '300.1.1.1' is not")):
        Settings.from_env({"POLL_PROXY_IPS": "300.1.1.1"})
    assert Settings.from_env({"POLL_PROXY_IPS": "10.0.0.5"}).proxy_ips == ("10.0.0.5",)


def test_serve_believes_no_proxy_unless_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("POLL_PROXY_IPS", raising=False)
    default = uvicorn_options(monkeypatch, tmp_path)
    assert default["proxy_headers"] is False and default["forwarded_allow_ips"] == []
    told = uvicorn_options(monkeypatch, tmp_path, "--proxy-ips", "127.0.0.1,10.0.0.0/24")
    assert told["proxy_headers"] is True
    assert told["forwarded_allow_ips"] == ["127.0.0.1", "10.0.0.0/24"]
    monkeypatch.setenv("POLL_PROXY_IPS", "::1")
    from_env = uvicorn_options(monkeypatch, tmp_path)
    assert from_env["forwarded_allow_ips"] == ["::1"]


def test_a_bad_proxy_address_stops_serve_with_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLL_FACILITATOR_TOKEN", "t")
    code = main(["serve", "--data-dir", str(tmp_path), "--proxy-ips", "localhost"])
    assert code == 1
    assert capsys.readouterr().err == (
        "poll: --proxy-ips: 'localhost' is not an IP address or network "
        "(like 127.0.0.1, ::1 or 10.0.0.0/24)\n"
    )


# What uvicorn makes of the headers, with the options `poll serve` gives it ------------


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Says which client and scheme the server believed."""
    body = json.dumps({"client": scope["client"][0], "scheme": scope["scheme"]}).encode()
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def echo_server() -> Iterator[Any]:
    """Runs `echo` under uvicorn with the given proxy options; yields a starter."""
    import uvicorn

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(options: dict[str, Any]) -> int:
        port = free_port()
        proxy = {key: options[key] for key in ("proxy_headers", "forwarded_allow_ips")}
        config = uvicorn.Config(
            echo, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **proxy
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return port

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)


def ask(port: int, source: str, headers: dict[str, str], path: str = "/") -> tuple[str, str]:
    """One HTTP/1.0 request from `source` (a loopback address): the status line and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as s:
        lines = [f"GET {path} HTTP/1.0", "Host: 127.0.0.1"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.decode("latin-1").partition("\r\n\r\n")
    return head, body


FORWARDED = {"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"}


def test_by_default_forwarded_headers_from_localhost_are_ignored(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, echo_server: Any
) -> None:
    monkeypatch.delenv("POLL_PROXY_IPS", raising=False)
    port = echo_server(uvicorn_options(monkeypatch, tmp_path))
    _, body = ask(port, "127.0.0.1", FORWARDED)
    assert json.loads(body) == {"client": "127.0.0.1", "scheme": "http"}


def test_a_named_proxy_is_believed_and_nobody_else(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, echo_server: Any
) -> None:
    port = echo_server(uvicorn_options(monkeypatch, tmp_path, "--proxy-ips", "127.0.0.1"))
    _, body = ask(port, "127.0.0.1", FORWARDED)
    assert json.loads(body) == {"client": SPOOFED, "scheme": "https"}
    # The same headers from a peer that is not the proxy: its own address, plain HTTP.
    _, body = ask(port, STRANGER, FORWARDED)
    assert json.loads(body) == {"client": STRANGER, "scheme": "http"}
    # A client that forges a chain through the proxy gets the address the proxy saw:
    # uvicorn takes the last address that is not a trusted proxy.
    _, body = ask(port, "127.0.0.1", {"X-Forwarded-For": f"10.9.9.9, {SPOOFED}"})
    assert json.loads(body)["client"] == SPOOFED


def test_the_proxy_options_turn_uvicorns_own_default_off() -> None:
    # uvicorn's Config, given nothing, would believe FORWARDED_ALLOW_IPS or 127.0.0.1.
    assert uvicorn_proxy_options(()) == {"proxy_headers": False, "forwarded_allow_ips": []}


# HSTS ------------------------------------------------------------------------------


def test_hsts_over_https_only(tmp_path: Path) -> None:
    with TestClient(own_app(tmp_path), base_url="https://testserver") as client:
        for path in ("/", "/static/participant.js", "/r/0000000", "/healthz"):
            response = client.get(path)
            assert response.headers["strict-transport-security"] == STRICT_TRANSPORT_SECURITY
    (tmp_path / "plain").mkdir()
    with TestClient(own_app(tmp_path / "plain"), base_url="http://testserver") as client:
        for path in ("/", "/static/participant.js", "/r/0000000", "/healthz"):
            assert "strict-transport-security" not in client.get(path).headers


def hsts(head: str) -> bool:
    return "strict-transport-security:" in head.lower()


def test_a_real_server_sends_hsts_only_when_a_named_proxy_says_https(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    plain = PollServer(tmp_path / "a", f"sqlite:///{tmp_path}/a/poll.db", name="plain").start()
    try:
        head, _ = ask(plain.port, "127.0.0.1", FORWARDED)
        assert head.startswith("HTTP/1.1 200") and not hsts(head)
    finally:
        plain.stop()
    proxied = PollServer(
        tmp_path / "b",
        f"sqlite:///{tmp_path}/b/poll.db",
        name="proxied",
        extra=("--proxy-ips", "127.0.0.1"),
    ).start()
    try:
        head, _ = ask(proxied.port, "127.0.0.1", FORWARDED)
        assert hsts(head)
        head, _ = ask(proxied.port, "127.0.0.1", {})
        assert not hsts(head), "no HSTS when the proxy says the client used plain HTTP"
        head, _ = ask(proxied.port, STRANGER, FORWARDED)
        assert not hsts(head), "a stranger's X-Forwarded-Proto must not count"
    finally:
        proxied.stop()
