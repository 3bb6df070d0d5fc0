"""A whole session through a real `poll serve`, then its log read line by line: no client
address or port, no join code, no token, no query string, at any log level.

The server listens on 127.0.0.3 and every client connects from 127.0.0.1, so any
"127.0.0.1" in the log is a client's address. Its standard output and standard
error both go to the log file, as they would to systemd's journal.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import socket
import struct
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import websockets

from tests.fault.conftest import OPEN, SESSION
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, phones_for
from tests.support.processes import Reaper
from tests.support.servers import TOKEN, PollServer

CLIENT = "127.0.0.1"
SERVER = "127.0.0.3"


class AliasServer(PollServer):
    """`poll serve --host 127.0.0.3` (the last --host given wins)."""

    @property
    def url(self) -> str:
        return f"http://{SERVER}:{self.port}"


def text_frame(payload: bytes) -> bytes:
    """A masked websocket text frame with these bytes as they are, valid UTF-8 or not."""
    mask = secrets.token_bytes(4)
    masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
    return struct.pack("!BB", 0x81, 0x80 | len(payload)) + mask + masked


async def raw_request(port: int, request: bytes, ports: list[int]) -> bytes:
    """Send raw bytes, keep the client's own port for the search, return the answer."""
    reader, writer = await asyncio.open_connection(SERVER, port)
    ports.append(writer.get_extra_info("sockname")[1])
    writer.write(request)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()


async def refused_socket(url: str, **headers: str) -> None:
    with contextlib.suppress(websockets.exceptions.WebSocketException, OSError, TimeoutError):
        async with websockets.connect(url, additional_headers=headers, open_timeout=10) as ws:
            with contextlib.suppress(websockets.exceptions.ConnectionClosed, TimeoutError):
                while True:
                    await asyncio.wait_for(ws.recv(), 10)


async def a_whole_session(server: AliasServer) -> dict[str, Any]:
    """Sign in, start a run, phones join and vote, and everything that goes wrong."""
    facilitator = Facilitator(server.url)
    ports: list[int] = []
    try:
        await facilitator.sign_in()
        await facilitator.start_run(SESSION)
        await facilitator.go_to(OPEN)
        code = facilitator.code
        spaced = f"{code[:3]} {code[3:]}"
        # Phones open the short link, type the code (spaced, as on the screen), join, vote.
        async with httpx.AsyncClient(base_url=server.url, timeout=20) as phone:
            assert (await phone.get(f"/j/{code}")).status_code == 303
            assert (await phone.get("/join", params={"code": spaced})).status_code == 303
            assert (await phone.get("/join", params={"code": "0000000"})).status_code == 404
            assert (await phone.get(f"/nothing-here?token={TOKEN}&code={code}")).status_code == 404
            assert (await phone.get("/r/0000001?from=qr")).status_code == 404
            health = await phone.get("/healthz")
            assert health.json() == {"status": "ok"}
            assert "server" not in health.headers, "no server banner"
        phones = await phones_for(3, [server.url], code, Tally())
        for n, phone in enumerate(phones):
            await phone.vote(OPEN, {"text": f"idea {n}"}, f"s-{n}")
        cookie = phones[0].cookie
        ws = f"ws://{SERVER}:{server.port}"
        # Handshakes refused: no cookie, a wrong code, a console socket with the token in
        # its query instead of the cookie, a foreign origin.
        await refused_socket(f"{ws}/ws/participant/{code}?token={TOKEN}")
        await refused_socket(f"{ws}/ws/participant/7654321", Cookie=cookie)
        await refused_socket(f"{ws}/ws/console/{facilitator.room_id}?token={TOKEN}")
        await refused_socket(f"{ws}/ws/participant/{code}", Cookie=cookie, Origin="http://evil")
        # A text frame that is not UTF-8, on a phone's live socket.
        async with websockets.connect(
            f"{ws}/ws/participant/{code}?v=1", additional_headers={"Cookie": cookie}
        ) as live:
            ports.append(live.transport.get_extra_info("sockname")[1])
            await asyncio.wait_for(live.recv(), 20)
            live.transport.write(text_frame(b'{"type": "vote", "x": "\xff\xfe"}'))
            with contextlib.suppress(websockets.exceptions.ConnectionClosed):
                while True:
                    await asyncio.wait_for(live.recv(), 20)
            assert live.close_code == 1007
        # Requests no parser accepts, with the code and the token in them.
        await raw_request(server.port, f"GET /r/{code}?token={TOKEN} HTTP/1.1\r\n\x00\r\n\r\n"
                          .encode(), ports)  # fmt: skip
        await raw_request(server.port, b"NOT HTTP AT ALL\r\n\r\n", ports)
        return {"code": code, "spaced": spaced, "ports": ports}
    finally:
        await facilitator.aclose()


@pytest.mark.parametrize(
    ("level", "extra"),
    [(None, ()), ("debug", ("--access-log",))],
    ids=["default", "debug-with-access-log"],
)
async def test_a_whole_session_leaves_no_address_code_or_token_in_the_log(
    tmp_path: Path, reaper: Reaper, level: str | None, extra: tuple[str, ...]
) -> None:
    server = AliasServer(
        tmp_path, f"sqlite:///{tmp_path}/poll.db", name="serve", log_level=level,
        extra=("--host", SERVER, *extra), reaper=reaper,
    )  # fmt: skip
    try:
        with socket.socket() as probe:
            probe.bind((SERVER, 0))
    except OSError:
        pytest.skip(f"{SERVER} is not a loopback address here (Linux has all of 127/8)")
    await server.astart()
    try:
        seen = await a_whole_session(server)
    finally:
        await asyncio.to_thread(server.stop)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    lines = log.splitlines()
    # We did read the right log, and it did see the session.
    assert any(f"Uvicorn running on http://{SERVER}:{server.port}" in line for line in lines), log
    assert any("not valid UTF-8" in line for line in lines), log
    assert "sign in with the token in" in log
    if extra:
        assert any('"WebSocket /ws/participant/{code}" [accepted]' in line for line in lines), log
        assert any('"GET /r/{code} HTTP/1.1" 200' in line for line in lines), log
    else:
        assert not any("WebSocket" in line for line in lines), log
    problems = []
    for line in lines:
        if CLIENT in line:
            problems.append(f"client address: {line}")
        if seen["code"] in line or seen["spaced"] in line:
            problems.append(f"join code: {line}")
        if TOKEN in line or "token=" in line:
            problems.append(f"token: {line}")
        if re.search(r"/[\w/{}-]*\?", line):
            problems.append(f"query string: {line}")
        if "Traceback" in line:
            problems.append(f"traceback: {line}")
        for port in re.findall(r"(?<![\d.])\d{4,5}(?![\d.])", line):
            if int(port) in seen["ports"] and int(port) != server.port:
                problems.append(f"client port {port}: {line}")
    assert not problems, "\n".join(problems) + "\n\n" + log
