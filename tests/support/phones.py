"""Phones and projectors that speak the live protocol over a real websocket.

A `Phone` joins by code (the room page sets its cookie), votes, and resends until
the server acknowledges, as static/participant.js does; a `Watcher` is a projector
left open. Both reconnect the way the pages do.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

import httpx2 as httpx
import pytest
import websockets
from itsdangerous import URLSafeTimedSerializer

from poll.cancel import raise_if_cancelling


def participant_of(cookie_value: str) -> str:
    """The participant id inside a poll_pid cookie (its payload is signed, not secret)."""
    _, payload = URLSafeTimedSerializer("unused").loads_unsafe(cookie_value)
    return str(payload)


@dataclass
class Tally:
    """What the phones saw, summed over all of them: the drill's figures."""

    sent: int = 0
    acked: dict[str, str] = field(default_factory=dict)  # submission id → text
    refused_retry: int = 0
    refused_final: list[dict[str, Any]] = field(default_factory=list)
    reconnects: int = 0
    acked_by_base: dict[str, int] = field(default_factory=dict)


class Phone:
    """A participant's phone, at protocol level: joins by code, votes, retries like the page.

    A vote is pending until its `ack`; `refused` with retry, or a lost socket,
    means "send it again with the same submission id" after a pause, exactly as
    static/participant.js does. `bases` are the addresses it may reach the
    server at, tried in turn after a failure (a DNS name with two addresses).
    """

    def __init__(self, name: str, bases: list[str], code: str, tally: Tally) -> None:
        self.name = name
        self.bases = bases
        self.code = code
        self.tally = tally
        self.cookie = ""
        self.participant = ""
        self._base = 0
        self._ws: Any = None
        self.snapshots = 0

    @property
    def base(self) -> str:
        return self.bases[self._base % len(self.bases)]

    async def join(self) -> None:
        """Open /r/CODE as a phone's browser would: that page sets the participant cookie."""
        deadline = time.monotonic() + 120
        while True:
            try:
                async with httpx.AsyncClient(base_url=self.base, timeout=20) as client:
                    reply = await client.get(f"/r/{self.code}")
                    if reply.status_code == 200:
                        value = client.cookies["poll_pid"]
                        break
            except (httpx.HTTPError, KeyError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} could not open the room page")
            self._base += 1
            await asyncio.sleep(0.5)
        self.cookie = f"poll_pid={value}"
        self.participant = participant_of(SimpleCookie(self.cookie)["poll_pid"].value)

    async def _connect(self, deadline: float) -> Any:
        delay = 0.2
        while True:
            base = self.base.removeprefix("http://")
            try:
                ws = await websockets.connect(
                    f"ws://{base}/ws/participant/{self.code}",
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=20,
                    max_size=None,
                )
                return ws
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                pass  # refused, reset, or a 5xx while the store is away: try again
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name} could not reconnect before the deadline")
            self._base += 1  # the next address, if it has several
            await asyncio.sleep(delay * (0.6 + random.random() * 0.8))
            delay = min(delay * 2, 2.0)

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
            self._ws = None

    async def vote(self, question_id: str, answer: dict[str, Any], submission_id: str) -> None:
        """Send until acknowledged (or refused for good); connect and reconnect as needed."""
        deadline = time.monotonic() + 240
        message = json.dumps(
            {
                "type": "vote",
                "question_id": question_id,
                "submission_id": submission_id,
                "answer": answer,
            }
        )
        while True:
            if self._ws is None:
                self._ws = await self._connect(deadline)
            ws = self._ws
            try:
                await ws.send(message)
                self.tally.sent += 1
                outcome = await self._await_answer(ws, submission_id)
            except (websockets.exceptions.WebSocketException, OSError, TimeoutError):
                outcome = "lost"
            if outcome == "acked":
                self.tally.acked[submission_id] = answer.get("text") or json.dumps(answer)
                self.tally.acked_by_base[self.base] = self.tally.acked_by_base.get(self.base, 0) + 1
                return
            if outcome == "final":
                return
            if outcome == "lost":
                self.tally.reconnects += 1
                with contextlib.suppress(Exception):
                    await ws.close()
                self._ws = None
            if time.monotonic() > deadline:
                pytest.fail(f"{self.name}: vote {submission_id} never acknowledged")
            await asyncio.sleep(0.2 + random.random() * 0.5)

    async def _await_answer(self, ws: Any, submission_id: str) -> str:
        # The page resends after 5 s without an answer; a loaded drill machine gets 30.
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            kind = message["type"]
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong", "t": message["t"]}))
            elif kind == "snapshot":
                self.snapshots += 1
            elif kind == "ack" and message["submission_id"] == submission_id:
                return "acked"
            elif kind == "refused" and message["submission_id"] == submission_id:
                if message["retry"]:
                    self.tally.refused_retry += 1
                    return "retry"
                self.tally.refused_final.append(message)
                return "final"


async def phones_for(count: int, bases: list[str], code: str, tally: Tally) -> list[Phone]:
    phones = [Phone(f"phone-{i}", bases[i % len(bases) :] + bases[: i % len(bases)], code, tally)
              for i in range(count)]  # fmt: skip
    await asyncio.gather(*(phone.join() for phone in phones))
    return phones


class Watcher:
    """A projector left open: counts the snapshots it gets and keeps the latest.

    It reconnects like static/live.js when its socket is closed, and counts that:
    a projector that had to reconnect proves less about the server's own recovery.
    """

    def __init__(self, url: str, cookie: str, *, reconnect: bool = True) -> None:
        self.url = url
        self.cookie = cookie
        self.reconnect = reconnect
        self.snapshots = 0
        self.latest: dict[str, Any] = {}
        self.reconnects = 0
        self.closed_codes: list[int | None] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def texts(self) -> list[str]:
        results = self.latest.get("results") or {}
        return [entry["text"] for entry in results.get("texts", [])]

    async def _run(self) -> None:
        delay = 0.2
        while True:
            raise_if_cancelling()  # a cancel a library swallowed still ends the loop
            try:
                async with websockets.connect(
                    self.url, additional_headers={"Cookie": self.cookie}, max_size=None
                ) as ws:
                    delay = 0.2
                    async for raw in ws:
                        message = json.loads(raw)
                        if message["type"] == "snapshot":
                            self.snapshots += 1
                            self.latest = message
                        elif message["type"] == "ping":
                            await ws.send(json.dumps({"type": "pong", "t": message["t"]}))
                    self.closed_codes.append(ws.close_code)
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                pass
            if not self.reconnect:
                return
            self.reconnects += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
