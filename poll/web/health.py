"""`GET /healthz`: is this process able to serve? Details for the facilitator only.

Load balancers, systemd watchdogs and monitoring ask this without credentials, so
a stranger gets one word: `{"status": "ok"}` (200) or `{"status": "unavailable"}`
(503). The details (host name and PID in the process id, the store's path or
URL and its latency, the rooms with sockets) say things about the host that
nobody outside needs; they are added only for a signed-in facilitator (the
console cookie).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from poll.web.state import poll_state


async def healthz(request: Request) -> JSONResponse:
    state = poll_state(request)
    store = await state.rooms.health()
    ok = bool(store.get("ok"))
    body: dict[str, Any] = {"status": "ok" if ok else "unavailable"}
    if state.auth.console_nonce(request) is not None:
        body |= {
            "ok": ok,
            "process": state.process_id,
            "store": store,
            "rooms_with_sockets": len(state.hub.channels),
            "script_ok": state.watch.error is None,
        }
    return JSONResponse(body, status_code=200 if ok else 503, headers={"cache-control": "no-store"})
