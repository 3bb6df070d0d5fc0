"""A venue's wifi falls over: 2,000 phones connected at once all vanish at once.

Three storms in a row, each of 2,000 live sockets (plus half-open handshakes)
cut without a close frame. After each, the server's /metrics must come back to
its baseline: no sockets, no rooms held, no subscriptions, no extra tasks; and
memory must not keep growing from one storm to the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import resource
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.fault.conftest import OPEN, SESSION, record
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

SOCKETS = 2000
HALF_OPEN = 200  # TCP connections that start a handshake and vanish mid-way
STORMS = 3
COOKIES = 400  # phones reload and open several tabs (at most 8 each): fewer people than sockets
MB = 1024 * 1024


def enough_file_descriptors(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"needs {wanted} open files; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def storm(server: PollServer, code: str, cookies: list[str]) -> int:
    """Open SOCKETS participant sockets (a few hundred handshakes at a time), then cut all."""
    gate = asyncio.Semaphore(200)
    url = f"ws://127.0.0.1:{server.port}/ws/participant/{code}"

    async def one(n: int) -> Any:
        async with gate:
            for _ in range(20):
                try:
                    ws = await websockets.connect(
                        url,
                        additional_headers={"Cookie": cookies[n % len(cookies)]},
                        open_timeout=60,
                        ping_interval=None,
                    )
                    await asyncio.wait_for(ws.recv(), 60)  # its first snapshot: it is live
                    return ws
                except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                    await asyncio.sleep(0.5)
            pytest.fail("a phone could not connect during the storm")

    async def half_open() -> None:
        _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"GET /ws/participant/{code} HTTP/1.1\r\nHost: x\r\nUpgr".encode())
        await writer.drain()
        writer.transport.abort()

    sockets = await asyncio.gather(*(one(n) for n in range(SOCKETS)))
    await asyncio.gather(*(half_open() for _ in range(HALF_OPEN)), return_exceptions=True)
    # The wifi falls over: every connection is cut at once, no close frames.
    for ws in sockets:
        ws.transport.abort()
    for ws in sockets:
        with contextlib.suppress(Exception):
            await ws.wait_closed()
    return len(sockets)


async def test_two_thousand_phones_vanish_and_leave_nothing_behind(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    enough_file_descriptors(3 * (SOCKETS + HALF_OPEN) + 1000)
    server = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", reaper=reaper)
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)
    await facilitator.go_to(OPEN)
    phones = await phones_for(COOKIES, [server.url], facilitator.code, Tally())
    cookies = [phone.cookie for phone in phones]

    async def idle() -> bool:
        hub = (await facilitator.metrics())["hub"]
        return bool(hub["sockets"] == 0 and hub["rooms"] == 0)

    # The facilitator's console sockets are gone and their room let go: the baseline.
    await eventually(idle, "no sockets and no rooms before the storm")
    baseline = await facilitator.metrics()

    async def drained() -> bool:
        now = await facilitator.metrics()
        hub = now["hub"]
        return bool(
            hub["sockets"] == 0
            and hub["rooms"] == 0
            and hub["subscriptions"] == 0
            and now["tasks"] <= baseline["tasks"]
        )

    peaks: list[int] = []
    rss: list[int] = []
    for _ in range(STORMS):
        opened = await storm(server, facilitator.code, cookies)
        assert opened == SOCKETS
        # The hub keeps a room a few seconds after its last socket (reloads): then lets go.
        await eventually(drained, "the hub back at its baseline after the storm", within=120)
        after = await facilitator.metrics()
        rss.append(after["rss_bytes"])
        peaks.append(opened)

    growth_mb = [round((b - a) / MB, 1) for a, b in itertools.pairwise(rss)]
    record(
        "connection-storm",
        {
            "storms": STORMS,
            "sockets_per_storm": SOCKETS,
            "half_open_per_storm": HALF_OPEN,
            "baseline": {"tasks": baseline["tasks"], "rss_mb": round(baseline["rss_bytes"] / MB)},
            "after_each_storm_rss_mb": [round(r / MB) for r in rss],
            "rss_growth_between_storms_mb": growth_mb,
            "leftover_sockets_rooms_subscriptions": [0, 0, 0],
        },
    )
    # The first storm grows the allocator's pools; the later ones must reuse them.
    assert rss[-1] - rss[0] < 40 * MB, f"memory keeps growing storm after storm: {growth_mb} MB"
