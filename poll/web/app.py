"""The Starlette application factory.

`create_app(settings)` builds the app; `app_from_env()` is the factory that
`poll serve` hands to uvicorn as an import string, so that each worker process
builds its own app (and its own store connections) from the POLL_* environment.
The store is opened inside the lifespan, on the server's own event loop.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from poll.live import Hub
from poll.rooms import Rooms
from poll.store.base import Store, open_store
from poll.web import console, live_ws, participant, projector
from poll.web.auth import Auth, load_or_create_token
from poll.web.csp import SecurityHeaders
from poll.web.errors import exception_handlers
from poll.web.resources import resource_dir
from poll.web.script_watch import ScriptWatch
from poll.web.settings import Settings
from poll.web.state import PollState, poll_state

log = logging.getLogger("poll.web")


async def healthz(request: Request) -> JSONResponse:
    state = poll_state(request)
    store = await state.store.health()
    ok = bool(store.get("ok"))
    return JSONResponse(
        {
            "ok": ok,
            "process": state.process_id,
            "store": store,
            "rooms_with_sockets": len(state.hub.channels),
            "script_ok": state.watch.error is None,
        },
        status_code=200 if ok else 503,
        headers={"cache-control": "no-store"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, name="healthz"),
        *participant.routes(),
        *console.routes(),
        *projector.routes(),
        *live_ws.routes(),
        Mount("/static", app=StaticFiles(directory=str(resource_dir("static"))), name="static"),
    ]


def create_app(
    settings: Settings | None = None, *, store_factory: Callable[[], Store] | None = None
) -> Starlette:
    """Build the app. Raises ScriptError (bad script) or TokenError at once.

    `store_factory` (tests) replaces opening `settings.store`; it is called in
    the lifespan, on the server's own event loop.
    """
    settings = settings or Settings.from_env()
    token = load_or_create_token(settings.data_dir, settings.token)
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    state = PollState(
        settings=settings,
        auth=Auth(token, secure_cookies=secure),
        watch=ScriptWatch(settings.sessions),
        process_id=f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}",
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = store_factory() if store_factory is not None else open_store(settings.store)
        await store.open()
        rooms = Rooms(store, state.watch.current)
        hub = Hub(rooms, process_id=state.process_id)
        await hub.start()
        state._store, state._rooms, state._hub = store, rooms, hub
        try:
            yield
        finally:
            await hub.stop()
            await store.close()
            state._store = state._rooms = state._hub = None

    app = Starlette(
        routes=routes(),
        middleware=[Middleware(SecurityHeaders)],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.poll = state
    return app


def app_from_env() -> Starlette:
    """The uvicorn factory (`poll.web.app:app_from_env`, factory=True)."""
    return create_app(Settings.from_env())
