"""The Starlette application factory.

`create_app(settings)` builds the app; `app_from_env()` is the factory that
`poll serve` hands to uvicorn as an import string, so that each worker process
builds its own app (and its own store connections) from the POLL_* environment.
The store is opened inside the lifespan, on the server's own event loop.
"""

from __future__ import annotations

import asyncio
import gc
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
from starlette.types import ASGIApp, Receive, Scope, Send

from poll.live import Hub
from poll.meter import Meter, combine
from poll.rooms import Rooms
from poll.settings import Settings
from poll.store import Store, StoreError, open_store
from poll.store.timing import timed
from poll.token import load_or_create_token, token_path
from poll.web import (
    compare,
    console,
    live_ws,
    media,
    participant,
    projector,
    report_routes,
    results_link,
)
from poll.web.auth import Auth
from poll.web.connections import give_abort_handle
from poll.web.csp import SecurityHeaders
from poll.web.errors import exception_handlers
from poll.web.forms import BodyLimit
from poll.web.guard import ConsoleEpoch, facilitator
from poll.web.health import healthz
from poll.web.phone_lane import PhoneLane
from poll.web.renderer import PageRenderer
from poll.web.resources import resource_dir
from poll.web.screens import check_types
from poll.web.script_watch import ScriptWatch
from poll.web.state import PollState, poll_state

log = logging.getLogger("poll.web")


def _rss_bytes() -> int | None:
    """This process's resident memory, from /proc (Linux); None elsewhere."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


async def metrics(request: Request) -> JSONResponse:
    """The installation's figures summed over every live process ("all", with each
    process's own report under "processes"), and this process's hub counts, tasks
    and memory, for the facilitator and the fault drills: after a crowd leaves,
    sockets, rooms and subscriptions return to their baseline. The figures are
    described in docs/metrics.md."""
    facilitator(request)
    state = poll_state(request)
    hub = state.hub
    try:
        # This process's figures as of now; the others' as of their last report.
        await hub.report_metrics()
        reports = await state.store.metrics_reports()
    except StoreError as error:
        reports = {state.process_id: hub.figures()}
        store_error: str | None = str(error)
    else:
        store_error = None
    reports.setdefault(state.process_id, hub.figures())
    return JSONResponse(
        {
            "process": state.process_id,
            "all": combine(reports.values()),
            "processes": {
                pid: {k: v for k, v in figures.items() if k != "store_ms_buckets"}
                for pid, figures in sorted(reports.items())
            },
            "store_error": store_error,
            "hub": hub.stats(),
            "tasks": len(asyncio.all_tasks()),
            "rss_bytes": _rss_bytes(),
        },
        headers={"cache-control": "no-store"},
    )


class AbortHandle:
    """Hands the live sockets a way to cut their connection (`scope["poll.abort"]`).

    ASGI offers only a polite close, and uvicorn sends it (and its own keepalive
    timeout's close) behind any unsent data: a peer that stopped reading keeps
    its connection, buffers and handler for ever. uvicorn's `send` is a method
    of its protocol, which holds the transport; where that is not so (another
    server, TestClient) nothing is set and sockets close politely as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            give_abort_handle(scope, send)
        await self.app(scope, receive, send)


def routes() -> list[BaseRoute]:
    return [
        Route("/healthz", healthz, name="healthz"),
        Route("/metrics", metrics, name="metrics"),
        *participant.routes(),
        *console.routes(),
        *compare.routes(),
        *report_routes.routes(),
        *results_link.routes(),
        *projector.routes(),
        *live_ws.routes(),
        *media.routes(),
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
    # A type without its template, macros or labels stops the server here, not a phone later.
    check_types()
    token = load_or_create_token(settings.data_dir, settings.token)
    secure = bool(settings.public_url and settings.public_url.startswith("https://"))
    state = PollState(
        settings=settings,
        auth=Auth(
            token,
            secure_cookies=secure,
            token_file=None if settings.token else token_path(settings.data_dir),
        ),
        watch=ScriptWatch(settings.sessions, settings.data_dir / "media"),
        pages=PageRenderer(settings.data_dir / "media"),
        process_id=f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}",
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = store_factory() if store_factory is not None else open_store(settings.store)
        await store.open()
        meter = Meter()
        # The rooms (and so the hub) call the store through a timer: store latency in /metrics.
        rooms = Rooms(timed(store, meter.store_call), state.watch.current)
        hub = Hub(rooms, process_id=state.process_id, screens=state.screens, meter=meter)
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
        middleware=[
            # First, so that a phone's socket and a new phone's page skip the
            # layers made for the console's pages (phone_lane.py).
            Middleware(PhoneLane),
            Middleware(SecurityHeaders),
            Middleware(BodyLimit),
            Middleware(AbortHandle),
            Middleware(ConsoleEpoch),
        ],
        exception_handlers=exception_handlers(),
        lifespan=lifespan,
    )
    app.state.poll = state
    return app


#: Allocations between collections of the youngest generation (Python's default:
#: 700); young collections between middle ones (default 10); middle collections
#: between full ones (default 10).
GC_THRESHOLDS = (20_000, 2, 1_000)


def tune_gc() -> None:
    """Keep the cyclic garbage collector from stalling thousands of live sockets.

    Each connected phone keeps a few hundred long-lived objects, and the
    default thresholds run full collections over all of them again and again
    while phones join: at 3,000 phones the load bench saw pauses of 0.3–0.7 s
    (every socket waits meanwhile). Freezing what startup made and collecting
    the youngest generation less often cut the server's GC time by an order of
    magnitude. The middle generation is collected after every second young
    one: it holds every object that survived since its last collection, so
    after 20 (the first setting) a joining audience's objects all waited there
    and one collection took 230 ms at 2,000 phones, in the middle of the
    facilitator's "next"; after 2 they pass through in pauses of 40–50 ms. Full
    collections stay as rare as with 20 × 100. For `poll serve` only: tests
    that build many apps keep Python's defaults.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def app_from_env() -> Starlette:
    """The uvicorn factory (`poll.web.app:app_from_env`, factory=True)."""
    app = create_app(Settings.from_env())
    tune_gc()
    return app
