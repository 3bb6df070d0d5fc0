"""A projector that stops reading (a laptop asleep with the page open, a phone in a
dead spot) slows nobody else: its queue stays at one snapshot, the others keep
getting theirs, and the server drops it after its send limit."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.fault.conftest import OPEN, SESSION, burst, record
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, Watcher, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

PHONES = 30
HEALTHY = 3


def stalled_socket(port: int, path: str, cookie: str) -> socket.socket:
    """Open a websocket by hand with a tiny receive buffer, read the 101, then never read."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(30)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert b" 101 " in head.split(b"\r\n", 1)[0], head
    return sock


def closed_by_server(sock: socket.socket, timeout: float) -> bool:
    """Read what is buffered; True once the server has closed the connection."""
    deadline = time.monotonic() + timeout
    sock.settimeout(2)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(1 << 20):
                return True
        except TimeoutError:
            continue
        except OSError:  # reset: closed too
            return True
    return False


async def test_a_stalled_projector_slows_nobody_and_is_dropped(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    server = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", reaper=reaper)
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)
    await facilitator.go_to(OPEN)

    screens = [
        Watcher(facilitator.ws_url("projector"), facilitator.cookie, reconnect=False)
        for _ in range(HEALTHY)
    ]
    for screen in screens:
        screen.start()
    path = f"/ws/projector/{facilitator.room_id}"
    stalled = await asyncio.to_thread(stalled_socket, server.port, path, facilitator.cookie)
    try:

        async def projectors() -> int:
            return int((await facilitator.metrics())["hub"]["sockets_by_audience"]["projector"])

        await eventually(lambda: _equals(projectors, HEALTHY + 1), "four projectors connected")

        # Thirty phones send 600 long ideas: every snapshot carries them all (~200 KB).
        tally = Tally()
        phones = await phones_for(PHONES, [server.url], facilitator.code, tally)
        voting = asyncio.create_task(burst(phones, pad=300))
        queued_max = 0
        during_stall: list[int] = []
        # Then the facilitator shows and hides the results until the stalled one is dropped:
        # each change is another big snapshot the stalled socket cannot take.
        async with websockets.connect(
            facilitator.ws_url("console"), additional_headers={"Cookie": facilitator.cookie}
        ) as console:
            # The console reads what it is sent (unlike the stalled one).
            draining = asyncio.create_task(_drain(console))
            deadline = time.monotonic() + 180
            counts_at_stall: list[int] | None = None
            toggles = 0
            while True:
                metrics = await facilitator.metrics()
                queued_max = max(queued_max, metrics["hub"]["queued_max"])
                if metrics["hub"]["queued_max"] and counts_at_stall is None:
                    counts_at_stall = [screen.snapshots for screen in screens]
                if metrics["hub"]["sockets_by_audience"]["projector"] == HEALTHY and voting.done():
                    break
                assert time.monotonic() < deadline, "the stalled projector was never dropped"
                if voting.done():
                    toggles += 1
                    action = "show" if toggles % 2 else "hide"
                    await console.send(json.dumps({"type": "action", "action": action}))
                await asyncio.sleep(0.3)
            if toggles and toggles % 2 == 0:
                # The last toggle hid the results: show them, since they are checked next
                # (how many toggles it takes depends on when the stalled socket goes).
                await console.send(json.dumps({"type": "action", "action": "show"}))
            draining.cancel()
            counts_after = [screen.snapshots for screen in screens]
            if counts_at_stall is not None:
                during_stall = [b - a for a, b in zip(counts_at_stall, counts_after, strict=True)]
        await voting

        acked = Counter(tally.acked.values())
        for screen in screens:
            await eventually(
                lambda s=screen: Counter(s.texts()) == acked,  # type: ignore[misc]
                "every healthy projector shows every acknowledged idea",
            )
        dropped = await asyncio.to_thread(closed_by_server, stalled, 60)
        record(
            "stalled-projector",
            {
                "healthy_projectors": HEALTHY,
                "votes_acked": len(tally.acked),
                "snapshots_per_healthy_projector": [s.snapshots for s in screens],
                "snapshots_while_one_was_stalled": during_stall,
                "largest_queue_seen": queued_max,
                "stalled_socket_closed_by_server": dropped,
                "healthy_projectors_dropped": sum(1 for s in screens if s.closed_codes),
            },
        )
        assert dropped, "the server kept the stalled socket open"
        assert queued_max <= 3, "a socket's queue grew: newer snapshots must replace older"
        assert not any(s.closed_codes for s in screens), "a healthy projector was dropped"
        assert during_stall and min(during_stall) >= 3, (
            "healthy projectors stopped getting snapshots while one was stalled"
        )
    finally:
        with contextlib.suppress(OSError):
            stalled.close()
        await asyncio.gather(*(screen.stop() for screen in screens))


async def _equals(count: Any, wanted: int) -> bool:
    return bool(await count() == wanted)


async def _drain(ws: Any) -> None:
    with contextlib.suppress(websockets.exceptions.WebSocketException):
        async for _ in ws:
            pass
