"""The baseline server's least live poll as a bare ASGI app on uvicorn, with poll's settings.

    python -m bench.baseline_asgi --port 8765

It answers exactly as bench/baseline_server.py does (the same room, snapshot and
acks), but through uvicorn, httptools and the `websockets-sansio` protocol that
`poll serve` runs on, with per-message deflate and uvicorn's pings off. So its
figures against the websockets baseline are what the web stack itself costs,
and poll's against it what poll's own code costs (`python -m bench load
--baseline-server uvicorn`; docs/performance.md, "Where a join's time goes").
"""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

import uvicorn

from bench.baseline_server import Room, start

Send = Any  # an ASGI send callable
Message = dict[str, Any]


class AsgiRoom(Room):
    """The baseline's room, its sockets kept as their ASGI `send`."""

    def __init__(self) -> None:
        super().__init__()
        self.phone_sends: dict[object, Send] = {}
        self.screen_sends: dict[object, Send] = {}

    async def coalesce(self) -> None:
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            _broadcast(self.screen_sends.values(), self.snapshot())
            await asyncio.sleep(0.1)


#: Sends under way (the event loop keeps only weak references to tasks).
_SENDING: set[asyncio.Future[None]] = set()


def _broadcast(sends: Any, text: str) -> None:
    """Written to every socket without awaiting any (as websockets' `broadcast`)."""
    message = {"type": "websocket.send", "text": text}
    for send in list(sends):
        sending = asyncio.ensure_future(send(message))
        _SENDING.add(sending)
        sending.add_done_callback(_SENDING.discard)


class App:
    def __init__(self) -> None:
        self.room: AsgiRoom | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.lifespan(receive, send)
        elif scope["type"] == "http":
            await self.http(scope, send)
        else:
            assert self.room is not None
            await self.socket(self.room, scope, receive, send)

    async def lifespan(self, receive: Any, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.room = AsgiRoom()
                self._coalescer = asyncio.create_task(self.room.coalesce())
                await send({"type": "lifespan.startup.complete"})
            else:
                self._coalescer.cancel()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def http(self, scope: dict[str, Any], send: Send) -> None:
        headers = [(b"content-type", b"text/plain")]
        if scope["path"].startswith("/r/"):
            cookie = f"poll_pid={secrets.token_urlsafe(16)}; Path=/; HttpOnly"
            headers.append((b"set-cookie", cookie.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"baseline\n"})

    async def socket(self, room: AsgiRoom, scope: dict[str, Any], receive: Any, send: Send) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        key = object()
        phone = scope["path"].startswith("/ws/participant/")
        sends = room.phone_sends if phone else room.screen_sends
        participant = _participant(scope) if phone else ""
        sends[key] = send
        try:
            await send({"type": "websocket.send", "text": room.snapshot()})
            while True:
                message = await receive()
                if message["type"] != "websocket.receive":
                    return
                data: dict[str, Any] = json.loads(message.get("text") or "{}")
                if phone:
                    await self.vote(room, participant, data, send)
                else:
                    await self.action(room, data, send)
        finally:
            sends.pop(key, None)

    async def vote(self, room: AsgiRoom, participant: str, data: Message, send: Send) -> None:
        if data.get("type") == "vote":
            await send({"type": "websocket.send", "text": room.vote(participant, data)})

    async def action(self, room: AsgiRoom, data: Message, send: Send) -> None:
        if data.get("type") != "action":
            return
        moved, done = room.act(data)
        if moved:
            sends = [*room.phone_sends.values(), *room.screen_sends.values()]
            _broadcast(sends, room.snapshot())
        await send({"type": "websocket.send", "text": done})


def _participant(scope: dict[str, Any]) -> str:
    for name, value in scope["headers"]:
        if name == b"cookie":
            found = value.decode("latin-1").partition("poll_pid=")[2].split(";")[0]
            if found:
                return found
    return secrets.token_hex(8)


if __name__ == "__main__":
    args = start(__doc__)
    # poll/cli.py's settings, but its guarded protocols (they hold poll's limits).
    uvicorn.run(
        App(),
        host=args.host,
        port=args.port,
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        ws_ping_interval=None,
        server_header=False,
        log_level="warning",
        access_log=False,
    )
