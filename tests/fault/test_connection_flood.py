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
import statistics
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import websockets

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
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _one(self, trickle: bool) -> None:
        request = b"GET / HTTP/1.1\r\nHost: x\r\n"
        while True:
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
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
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
