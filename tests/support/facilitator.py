"""The facilitator of a real server, over HTTP and the console websocket: signs in with
the token link, starts a run through the console's form, and takes console actions."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2 as httpx
import pytest
import websockets

from tests.support.servers import TOKEN

T = TypeVar("T")


@dataclass
class Facilitator:
    """The facilitator's steps against the server at `url`."""

    url: str
    client: httpx.AsyncClient = field(init=False)
    room_id: str = ""
    code: str = ""
    #: The run's item ids in order, from the console's first snapshot (a run keeps its copy).
    items: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(base_url=self.url, timeout=30)

    async def aclose(self) -> None:
        await self.client.aclose()

    @property
    def cookie(self) -> str:
        return f"poll_console={self.client.cookies['poll_console']}"

    async def metrics(self) -> Any:
        """The server's /metrics: the hub's sockets, rooms, subscriptions, tasks, memory."""
        reply = await self.client.get("/metrics")
        assert reply.status_code == 200, reply.text
        return reply.json()

    async def sign_in(self) -> None:
        reply = await self.client.get(f"/console?token={TOKEN}")
        assert reply.status_code == 303, reply.text

    async def start_run(self, session: str) -> tuple[str, str]:
        """Start a run of `session` with the console's form; its room id and join code."""
        page = (await self.client.get("/console")).text
        marker = 'name="csrf" value="'
        csrf = page[page.index(marker) + len(marker) :].split('"', 1)[0]
        reply = await self.client.post("/console/rooms", data={"session_id": session, "csrf": csrf})
        assert reply.status_code == 303, reply.text
        self.room_id = reply.headers["location"].rsplit("/", 1)[1]
        snapshot = await self.snapshot("console")
        self.code = snapshot["room"]["code"]
        self.items = [item["id"] for item in snapshot["items"]]
        return self.room_id, self.code

    def ws_url(self, audience: str, base: str | None = None) -> str:
        host = (base or self.url).removeprefix("http://")
        return f"ws://{host}/ws/{audience}/{self.room_id}"

    async def snapshot(self, audience: str = "projector", base: str | None = None) -> Any:
        """A fresh snapshot, as a projector (re)opened now would get it."""
        async with websockets.connect(
            self.ws_url(audience, base), additional_headers={"Cookie": self.cookie}
        ) as ws:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "snapshot":
                    return message

    async def act(self, action: str, base: str | None = None, **fields: Any) -> None:
        """One console action, retried while the store is away (as the facilitator would)."""
        deadline = time.monotonic() + 60
        while True:
            try:
                async with websockets.connect(
                    self.ws_url("console", base), additional_headers={"Cookie": self.cookie}
                ) as ws:
                    request = {"type": "action", "action": action, "request_id": "a", **fields}
                    await ws.send(json.dumps(request))
                    while True:
                        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                        if message.get("request_id") == "a":
                            assert message["type"] == "done", message
                            return
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def go_to(self, item_id: str, base: str | None = None) -> None:
        """Move to the item with this id, wherever the script puts it."""
        assert item_id in self.items, f"no item {item_id!r} in this run: {self.items}"
        await self.act("go", base, index=self.items.index(item_id))

    async def csv_rows(self) -> list[dict[str, str]]:
        """The run's answers as the facilitator downloads them (results.csv)."""
        reply = await self.client.get(f"/console/room/{self.room_id}/results.csv")
        assert reply.status_code == 200, reply.text
        return list(csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig"))))


class BlockingFacilitator:
    """The same facilitator for tests under Playwright's sync API, whose event loop
    owns the test's thread: its steps run on a loop in a thread of its own."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.person = Facilitator(url)
        self._run(self.person.sign_in())

    def _run(self, step: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(step, self._loop).result(120)

    def start_run(self, session: str) -> tuple[str, str]:
        return self._run(self.person.start_run(session))

    def act(self, action: str, **fields: Any) -> None:
        self._run(self.person.act(action, **fields))

    def go_to(self, item_id: str) -> None:
        self._run(self.person.go_to(item_id))

    def close(self) -> None:
        self._run(self.person.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture
async def facilitator_for() -> AsyncIterator[Callable[[str], Awaitable[Facilitator]]]:
    """Signed-in facilitators for the given server URLs, closed at teardown."""
    made: list[Facilitator] = []

    async def make(url: str) -> Facilitator:
        person = Facilitator(url)
        made.append(person)
        await person.sign_in()
        return person

    yield make
    for person in made:
        await person.aclose()
