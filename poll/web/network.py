"""Addresses: which one phones can reach, and which origins may open websockets."""

from __future__ import annotations

import ipaddress
import socket
from functools import cache, lru_cache
from urllib.parse import urlsplit

from starlette.datastructures import URL
from starlette.requests import HTTPConnection

_LOCAL_NAMES = {"localhost", "testserver", "localhost.localdomain"}


@cache
def lan_address() -> str | None:
    """This machine's address on the local network, or None.

    Connecting a UDP socket sends nothing; it only makes the kernel pick the
    interface it would route through, whose address phones on the LAN can use.
    """
    for probe in ("10.255.255.255", "192.168.255.255", "8.8.8.8"):
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 1))
                address: str = sock.getsockname()[0]
        except OSError:
            continue
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def is_local_host(host: str) -> bool:
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def join_base(conn: HTTPConnection, public_url: str | None) -> str:
    """The base URL phones use: the public URL, else the address the page was
    opened at, unless that is localhost, which phones cannot reach: then the LAN address."""
    if public_url:
        return public_url.rstrip("/")
    scope = conn.scope
    host = next((value for name, value in scope["headers"] if name == b"host"), None)
    server = scope.get("server")
    return _join_base(scope.get("scheme", "http"), host, None if server is None else tuple(server))


@lru_cache(maxsize=64)
def _join_base(scheme: str, host_header: bytes | None, server: tuple[str, int] | None) -> str:
    """`join_base` of a request: it depends on these three alone, and every phone of
    an audience joining sends the same (kept for a few: the Host header is the client's)."""
    headers = [] if host_header is None else [(b"host", host_header)]
    url = URL(scope={"scheme": scheme, "server": server, "path": "/", "headers": headers})
    host = url.hostname or "localhost"
    scheme = "https" if url.scheme in ("https", "wss") else "http"
    port = f":{url.port}" if url.port else ""
    if is_local_host(host):
        lan = lan_address()
        if lan is not None:
            host = lan
    return f"{scheme}://{host}{port}"


def short_address(base: str) -> str:
    """`http://192.168.1.20:8000` → `192.168.1.20:8000`: what people type."""
    parts = urlsplit(base)
    return (parts.netloc + parts.path).rstrip("/")


def origin_allowed(conn: HTTPConnection, public_url: str | None) -> bool:
    """A websocket handshake's Origin must be this server (its Host, or the public URL).

    Browsers always send Origin; other clients (load tools) may omit it and
    cannot be abused by a foreign page, so a missing Origin is allowed.
    """
    origin = conn.headers.get("origin")
    if origin is None:
        return True
    netloc = urlsplit(origin).netloc.lower()
    if not netloc:
        return False
    allowed = {conn.headers.get("host", "").lower()}
    if public_url:
        allowed.add(urlsplit(public_url).netloc.lower())
    return netloc in allowed
