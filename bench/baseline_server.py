"""The machine's own limit: the least a live-poll server must do, with no poll code.

    python -m bench.baseline_server --port 8765

It speaks just enough of docs/protocol.md for the load generator: `GET /r/CODE`
sets a `poll_pid` cookie; a participant's `vote` (a yes/no answer, `{"choice":
…}`: the only one it reads) is counted in memory, acked,
and marks the room dirty; the projector gets a counter snapshot at most 10
times a second; the console's `{"type": "action", "action": "next"}` sends a
snapshot with the next item to every socket at once (encoded once). No store,
no templates, no auth: whatever poll takes beyond this is poll's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import secrets
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

#: The yes/no question of the bench's script (bench/sessions.yaml) and the item after it:
#: the load generator moves from one to the other.
ITEMS = ["yesno", "open"]


class Room:
    def __init__(self) -> None:
        self.version = 0
        self.index = 0
        self.answers: dict[str, str] = {}  # participant → choice
        self.participants: set[ServerConnection] = set()
        self.projectors: set[ServerConnection] = set()
        self.dirty = asyncio.Event()

    def snapshot(self) -> str:
        counts: dict[str, int] = {}
        for choice in self.answers.values():
            counts[choice] = counts.get(choice, 0) + 1
        return json.dumps(
            {
                "type": "snapshot",
                "version": self.version,
                "item": {"id": ITEMS[self.index]},
                "status": "open",
                "answers": len(self.answers),
                "results": {
                    "respondents": len(self.answers),
                    "options": [{"id": k, "count": v} for k, v in sorted(counts.items())],
                },
            }
        )

    def vote(self, participant: str, message: dict[str, Any]) -> str:
        """Count a phone's yes/no answer; its ack (the projector's snapshot follows)."""
        self.answers[participant] = str(message["answer"]["choice"])
        self.version += 1
        self.dirty.set()
        ack = {
            "type": "ack",
            "submission_id": message["submission_id"],
            "status": "saved",
            "version": self.version,
        }
        return json.dumps(ack)

    def act(self, message: dict[str, Any]) -> tuple[bool, str]:
        """Carry out the console's action: whether the item moved on (every socket
        then gets the new snapshot), and the `done` reply."""
        moved = message.get("action") == "next"
        if moved:
            self.index = min(self.index + 1, len(ITEMS) - 1)
            self.answers.clear()
            self.version += 1
        done = {"type": "done", "request_id": message.get("request_id"), "version": self.version}
        return moved, json.dumps(done)

    async def coalesce(self) -> None:
        """At most 10 projector snapshots a second, however many votes arrive."""
        while True:
            await self.dirty.wait()
            self.dirty.clear()
            broadcast(self.projectors, self.snapshot())
            await asyncio.sleep(0.1)


ROOM = Room()


def http(connection: ServerConnection, request: Request) -> Response | None:
    if request.path.startswith("/ws/"):
        return None  # a websocket handshake
    headers = Headers({"Content-Type": "text/plain"})
    if request.path.startswith("/r/"):
        headers["Set-Cookie"] = f"poll_pid={secrets.token_urlsafe(16)}; Path=/; HttpOnly"
    return Response(HTTPStatus.OK, "OK", headers, b"baseline\n")


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else ""
    room = ROOM
    if path.startswith("/ws/participant/"):
        cookie = ws.request.headers.get("Cookie", "") if ws.request is not None else ""
        participant = cookie.partition("poll_pid=")[2].split(";")[0] or secrets.token_hex(8)
        room.participants.add(ws)
        try:
            await ws.send(room.snapshot())
            async for raw in ws:
                message: dict[str, Any] = json.loads(raw)
                if message.get("type") == "vote":
                    await ws.send(room.vote(participant, message))
        finally:
            room.participants.discard(ws)
    else:  # projector and console
        room.projectors.add(ws)
        try:
            await ws.send(room.snapshot())
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") != "action":
                    continue
                moved, done = room.act(message)
                if moved:
                    # Encoded once, written to every socket without awaiting any.
                    broadcast(room.participants | room.projectors, room.snapshot())
                await ws.send(done)
        finally:
            room.projectors.discard(ws)


def tune_gc() -> None:
    """The collector settings of `poll serve` (poll/web/app.py), for a fair comparison."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 2, 1_000)


async def main(host: str, port: int) -> None:
    coalescer = asyncio.create_task(ROOM.coalesce())
    async with serve(
        handler,
        host,
        port,
        process_request=http,
        compression=None,
        ping_interval=None,
        max_queue=64,
        backlog=4096,
    ) as server:
        print(f"baseline listening on http://{host}:{port}", flush=True)
        await server.serve_forever()
    coalescer.cancel()


def start(doc: str) -> argparse.Namespace:
    """A baseline server's command line (`--host`, `--port`), its collector tuned."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    tune_gc()
    return args


if __name__ == "__main__":
    args = start(__doc__)
    try:
        import uvloop

        uvloop.run(main(args.host, args.port))
    except ImportError:
        asyncio.run(main(args.host, args.port))
