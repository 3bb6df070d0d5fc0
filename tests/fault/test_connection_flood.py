"""One client cannot stop new connections.

A server started under `ulimit -n 1024` (the common default) is flooded from
127.0.0.1 with 1,100 connections that send `GET / HTTP/1.1\\r\\nHost: x\\r\\n` and
never finish it; one in ten sends its request a byte every 3 s instead. Every
connection the server cuts is opened again at once, so the pressure never lets
up. Meanwhile a phone from 127.0.0.2 joins and votes, and the facilitator's
console loads from 127.0.0.3 (Linux routes all of 127/8 to loopback).

Before the time limits and caps (poll/web/connections.py) the half-open
connections stayed for minutes, the process ran out of descriptors and every
new client, `/healthz` included, was reset.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import websockets

from poll.cancel import raise_if_cancelling, settle
from tests.fault.conftest import SESSION, YESNO, record
from tests.fault.test_connection_storm import enough_file_descriptors
from tests.support.facilitator import Facilitator
from tests.support.processes import Reaper
from tests.support.servers import TOKEN, PollServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

OPEN_FILES = 1024
HALF_OPEN = 1100
ATTACKER = "127.0.0.1"
PHONE = "127.0.0.2"
CONSOLE = "127.0.0.3"
#: Pause before opening again after the server refused a connection at once:
#: the attack keeps its pressure without spending the test machine's two cores.
REFUSED_PAUSE = 1.0


@pytest.fixture(autouse=True)
def loopback_aliases() -> None:
    """The drills tell clients apart by their loopback address (Linux routes all of 127/8)."""
    for address in (PHONE, CONSOLE):
        try:
            with socket.socket() as probe:
                probe.bind((address, 0))
        except OSError:
            pytest.skip(f"{address} is not a loopback address on this machine")


class Flood:
    """HALF_OPEN connections from ATTACKER, each opened again whenever it ends."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.open_now = 0
        #: Seconds from opening to the server's cut, for connections it accepted.
        self.cut_after: list[float] = []
        self.trickle_cut_after: list[float] = []
        self.refused = 0
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._one(n % 10 == 0)) for n in range(HALF_OPEN)]

    async def stop(self) -> None:
        stuck = await settle(self._tasks, 30, "stopping the flood")
        assert not stuck, f"{len(stuck)} flood connection(s) outlived their cancel"

    async def _one(self, trickle: bool) -> None:
        request = b"GET / HTTP/1.1\r\nHost: x\r\n"
        while True:
            # Python 3.11's wait_for (the trickle's) returns a read that ended as the
            # cancel came instead of raising it: the loop would go on and stop() wait.
            raise_if_cancelling()
            try:
                reader, writer = await asyncio.open_connection(
                    "127.0.0.1", self.port, local_addr=(ATTACKER, 0)
                )
            except OSError:
                self.refused += 1
                await asyncio.sleep(REFUSED_PAUSE)
                continue
            opened = time.monotonic()
            self.open_now += 1
            try:
                if trickle:
                    for byte in request:
                        raise_if_cancelling()
                        writer.write(bytes([byte]))
                        # The answer, if any, ends the wait early: the server cut it.
                        with contextlib.suppress(TimeoutError):
                            if not await asyncio.wait_for(reader.read(1024), 3):
                                break
                else:
                    writer.write(request)
                    await reader.read(1024)  # b"" (or a reset) when the server cuts it
            except OSError:
                pass
            finally:
                self.open_now -= 1
                writer.transport.abort()
            lasted = time.monotonic() - opened
            if lasted < 1.0:
                self.refused += 1  # closed as soon as accepted
                await asyncio.sleep(REFUSED_PAUSE)
            else:
                (self.trickle_cut_after if trickle else self.cut_after).append(lasted)


async def phone_joins_and_votes(url: str, code: str) -> dict[str, Any]:
    """A phone from PHONE: the room page (its cookie), the live socket, a vote, its ack."""
    transport = httpx.AsyncHTTPTransport(local_address=PHONE)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        page = await client.get(f"/r/{code}")
        assert page.status_code == 200, page.text[:300]
        cookie = f"poll_pid={client.cookies['poll_pid']}"
    ws_url = url.replace("http://", "ws://") + f"/ws/participant/{code}"
    async with websockets.connect(
        ws_url, additional_headers={"Cookie": cookie}, local_addr=(PHONE, 0), open_timeout=30
    ) as ws:
        vote = {"type": "vote", "question_id": YESNO, "submission_id": "flood-1",
                "answer": {"choice": "yes"}}  # fmt: skip
        await ws.send(json.dumps(vote))
        # One deadline for the answer: the server's pings alone would keep a loop of
        # per-message timeouts waiting for ever.
        async with asyncio.timeout(60):
            while True:
                message = json.loads(await ws.recv())
                if message["type"] in ("ack", "refused"):
                    return dict(message)


async def console_loads(url: str) -> str:
    transport = httpx.AsyncHTTPTransport(local_address=CONSOLE)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200, health.text
        page = await client.get(f"/console?token={TOKEN}", follow_redirects=True)
        assert page.status_code == 200, page.text[:300]
        return page.text


async def test_a_flood_of_half_open_connections_stops_no_phone_and_not_the_console(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    enough_file_descriptors(HALF_OPEN + 1000)
    server = PollServer(
        tmp_path, f"sqlite:///{tmp_path}/poll.db", reaper=reaper, open_files=OPEN_FILES
    )
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)
    await facilitator.go_to(YESNO)
    await facilitator.aclose()  # its connections come from the attacker's address

    flood = Flood(server.port)
    flood.start()
    try:

        async def saturated() -> bool:
            # The server holds what it gives one address, and refuses the rest.
            return flood.open_now >= 600 and flood.refused >= HALF_OPEN - flood.open_now

        await eventually(saturated, "the flood holds the attacker's share of the server", 120)
        held = flood.open_now
        answer = await phone_joins_and_votes(server.url, facilitator.code)
        assert answer["type"] == "ack", answer
        page = await console_loads(server.url)
        assert facilitator.code[:3] in page  # the run's code is on the console

        async def cut_both_kinds() -> bool:
            return len(flood.cut_after) >= 100 and len(flood.trickle_cut_after) >= 10

        # The half-open connections are cut, and opened again: the pressure lasts.
        await eventually(cut_both_kinds, "the server cuts slow connections", 120)
        answer = await phone_joins_and_votes(server.url, facilitator.code)
        assert answer["type"] == "ack", answer  # the same vote again: acknowledged again
    finally:
        await flood.stop()
    log = server.log.read_text(encoding="utf-8", errors="replace")
    notes = [line for line in log.splitlines() if "connections refused or cut" in line]
    assert notes, log[-3000:]
    assert all(address not in line for line in notes for address in (ATTACKER, PHONE, CONSOLE))
    record(
        "connection-flood",
        {
            "open_file_limit": OPEN_FILES,
            "half_open_connections_attempted": HALF_OPEN,
            "held_by_the_attacker_at_once": held,
            "refused_at_once": flood.refused,
            "cut_after_s_median": round(statistics.median(flood.cut_after), 1),
            "cut_after_s_max": round(max(flood.cut_after), 1),
            "trickle_cut_after_s_max": round(max(flood.trickle_cut_after), 1),
            "phone_from_another_address": "joined and voted (ack)",
            "console_from_another_address": "loaded",
        },
    )


async def cookie_from(url: str, code: str, address: str) -> str:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30) as client:
        page = await client.get(f"/r/{code}")
        assert page.status_code == 200, page.text[:300]
        return f"poll_pid={client.cookies['poll_pid']}"


async def live_sockets(url: str, code: str, address: str, count: int) -> list[Any]:
    """Up to `count` idle phone sockets from `address`, seven to a cookie (one phone's
    tabs), until the server refuses one with 503: its share is full."""
    cookies = [await cookie_from(url, code, address) for _ in range(-(-count // 7))]
    ws_url = url.replace("http://", "ws://") + f"/ws/participant/{code}"
    sockets = []
    for n in range(count):
        try:
            ws = await websockets.connect(
                ws_url, additional_headers={"Cookie": cookies[n // 7]}, local_addr=(address, 0)
            )
        except websockets.exceptions.InvalidStatus as refused:
            assert refused.response.status_code == 503
            break
        await asyncio.wait_for(ws.recv(), 30)  # its first snapshot: it is live
        sockets.append(ws)
    return sockets


async def test_past_the_phones_share_only_the_facilitator_and_health_checks_get_in(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    """Under `ulimit -n 256` the phones' share is 128 connections, 96 per address. Two
    addresses fill it with live phone sockets; a third address then gets 503 for a
    phone's page and socket, and still reaches /healthz, the console and its socket.
    A request whose body never comes is cut meanwhile."""
    files = 256
    server = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", reaper=reaper, open_files=files)
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)
    code = facilitator.code
    await facilitator.aclose()

    # A form post whose body never comes (Content-Length 1,000, ten bytes sent).
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, local_addr=(PHONE, 0))
    writer.write(b"POST /join HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
    slow_body_sent = time.monotonic()

    held = await live_sockets(server.url, code, "127.0.0.1", 120)
    assert len(held) <= 96, "one address holds no more than its cap"
    held += await live_sockets(server.url, code, PHONE, 70)
    assert len(held) < 128, "the phones' share is full"
    try:
        transport = httpx.AsyncHTTPTransport(local_address=CONSOLE)
        async with httpx.AsyncClient(base_url=server.url, transport=transport, timeout=30) as late:
            refused = await late.get(f"/r/{code}", headers={"accept-language": "nl"})
            assert refused.status_code == 503 and refused.headers["retry-after"]
            assert "De server is nu vol" in refused.text
            assert (await late.get("/healthz")).status_code == 200
            console = await late.get(f"/console?token={TOKEN}", follow_redirects=True)
            assert console.status_code == 200 and code[:3] in console.text
            cookie = f"poll_console={late.cookies['poll_console']}"
        ws_url = server.url.replace("http://", "ws://")
        with pytest.raises(websockets.exceptions.InvalidStatus) as phone_refused:
            await websockets.connect(
                f"{ws_url}/ws/participant/{code}", local_addr=(CONSOLE, 0),
                additional_headers={"Cookie": held[0].request.headers["Cookie"]},
            )  # fmt: skip
        assert phone_refused.value.response.status_code == 503
        async with websockets.connect(
            f"{ws_url}/ws/console/{facilitator.room_id}",
            additional_headers={"Cookie": cookie}, local_addr=(CONSOLE, 0),
        ) as console_socket:  # fmt: skip
            snapshot = json.loads(await asyncio.wait_for(console_socket.recv(), 30))
            assert snapshot["type"] == "snapshot"
        # The slow body is cut (the server closes; nothing is answered).
        assert await asyncio.wait_for(reader.read(1024), 120) == b""
        body_cut_after = time.monotonic() - slow_body_sent
    finally:
        writer.transport.abort()
        await asyncio.gather(*(ws.close() for ws in held), return_exceptions=True)
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "refused (server full)" in log and "cut (body too slow)" in log, log[-3000:]
    record(
        "connection-reserve",
        {
            "open_file_limit": files,
            "live_phone_sockets_held": len(held),
            "late_phone_page_and_socket": "503",
            "late_console_healthz_and_console_socket": "served",
            "slow_body_cut_after_s": round(body_cut_after, 1),
        },
    )
