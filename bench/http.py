"""A tiny HTTP/1.1 client on asyncio streams, for the load generator.

Thousands of phones each make one `GET /r/CODE` for their cookie; a full
client library costs more CPU per request than the request itself, and the
generator shares two cores with the server it measures. One request per
connection (`Connection: close`), loopback only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    cookies: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in headers:
        if key == "set-cookie":
            pair = value.split(";", 1)[0]
            name, _, val = pair.partition("=")
            found[name.strip()] = val.strip()
    return found


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


async def request(
    url: str,
    *,
    method: str = "GET",
    cookies: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    within: float = 60.0,
) -> Reply:
    """One request on a fresh connection, answered `within` seconds; no redirects followed."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    body = urlencode(form).encode() if form is not None else b""
    lines = [
        f"{method} {target} HTTP/1.1",
        f"Host: {host}:{port}",
        "Connection: close",
        "User-Agent: poll-bench",
    ]
    if cookies:
        lines.append(f"Cookie: {cookie_header(cookies)}")
    if form is not None:
        lines.append("Content-Type: application/x-www-form-urlencoded")
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    async def exchange() -> Reply:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(head)
            raw = await reader.read(-1)  # Connection: close, so the reply ends at EOF
        finally:
            writer.close()
        header_blob, _, payload = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = header_blob.decode("latin-1").split("\r\n")
        headers = []
        for line in header_lines:
            key, _, value = line.partition(":")
            headers.append((key.strip().lower(), value.strip()))
        status = int(status_line.split(" ", 2)[1])
        if ("transfer-encoding", "chunked") in headers:
            payload = _dechunk(payload)
        return Reply(status, headers, payload, _cookies(headers))

    return await asyncio.wait_for(exchange(), within)


def _dechunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)
