"""One client cannot stop new connections: time limits, per-address caps, a reserve.

uvicorn gives a connection all the time it wants to send its request headers
and body, and accepts connections until the process runs out of file
descriptors; then every new client, `/healthz` included, is reset, and nothing
is logged. A script that opens a thousand connections and sends
`GET / HTTP/1.1\\r\\nHost: x\\r\\n` (or one byte every ten seconds) stopped the
server that way. `poll serve` runs uvicorn with the protocol classes below:

- **Time limits.** Request headers must be complete `HEADER_TIMEOUT` seconds
  after the connection opens (or, on a kept-alive connection, after the next
  request's first byte); a request body `BODY_TIMEOUT` seconds after its
  headers. A connection that misses either is cut.
- **Per-address cap.** One address may hold `per_address` connections
  (websockets included) at once: 5,000 by default, far above a venue's
  1,000 phones behind one NAT, but never more than three quarters of what the
  process can hold, so that one address cannot take every descriptor.
- **Reserve.** The process accepts phones up to its open-file limit less
  `SPARE + RESERVE` descriptors. Past that, or past an address's cap, a new
  connection may only ask for the facilitator's pages, the projector, their
  sockets, static files and `/healthz` (at most `RESERVE_PER_ADDRESS` such
  connections per address at once); anything else gets 503. Past the limit
  less `SPARE`, a connection is closed as soon as it is accepted, so the
  process never runs out of descriptors for its store, its files and its
  log.
- **A log line** (at most one every `LOG_EVERY` seconds) says how many
  connections were refused and why, and how many were cut for being slow; it
  names no address.

The caps are per process (each of `--workers N` has its own). The counts are
of this process's memory only and name no one. `raise_open_file_limit` lifts
the soft open-file limit to the hard one before the server starts.
"""

from __future__ import annotations

import asyncio
import logging
import os
import resource
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httptools
from starlette.types import Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from poll.web.i18n import N_, negotiate, translate

log = logging.getLogger("poll.web.connections")

#: Seconds a client has to send its request headers.
HEADER_TIMEOUT = 10.0
#: Seconds a client has to send a request body, once its headers are in.
BODY_TIMEOUT = 30.0
#: Connections one address may hold at once (at most 3/4 of the process's room).
PER_ADDRESS = 5_000
#: The environment variable that sets PER_ADDRESS (load tests run thousands of
#: phones from one loopback address).
PER_ADDRESS_ENV = "POLL_CONNECTIONS_PER_ADDRESS"
#: Descriptors never given to connections: the store, files, the log, the loop.
SPARE = 64
#: Descriptors above the phones' share, for the facilitator and health checks.
RESERVE = 64
#: Reserve connections one address may hold at once.
RESERVE_PER_ADDRESS = 8
#: Seconds between two log lines about refused connections.
LOG_EVERY = 10.0
#: Seconds a refused phone is asked to wait.
RETRY_AFTER = 10

SERVER_FULL = N_("The server is full right now. Try again in a minute.")

#: Paths the reserve serves: the facilitator, the projector, health checks.
_RESERVED = ("/healthz", "/console", "/projector", "/metrics", "/static/", "/ws/console/",
             "/ws/projector/")  # fmt: skip


def raise_open_file_limit() -> tuple[int, int]:
    """Raise the soft open-file limit to the hard one; (before, after).

    Each phone holds a socket, and the common soft limit is 1,024 while the hard
    one is far higher; `ulimit -n` is easy to forget before `poll serve`.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 1_048_576)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            return soft, soft
        return soft, wanted
    return soft, soft


@dataclass
class Limits:
    """The caps of one process, from its open-file limit."""

    files: int
    per_address: int
    phones: int  # connections accepted for anything
    ceiling: int  # connections accepted at all (the reserve above `phones`)

    @classmethod
    def for_this_process(cls) -> Limits:
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        files = soft if soft != resource.RLIM_INFINITY else 1_048_576
        ceiling = max(files - SPARE, 16)
        phones = max(ceiling - RESERVE, 8)
        return cls(files, min(configured_per_address(), phones * 3 // 4), phones, ceiling)


def configured_per_address() -> int:
    """PER_ADDRESS, or the number in POLL_CONNECTIONS_PER_ADDRESS; ValueError says why not."""
    raw = os.environ.get(PER_ADDRESS_ENV, "").strip()
    if not raw:
        return PER_ADDRESS
    try:
        wanted = int(raw)
    except ValueError:
        raise ValueError(f"{PER_ADDRESS_ENV}={raw!r} is not a whole number") from None
    if wanted < 1:
        raise ValueError(f"{PER_ADDRESS_ENV}={raw!r} must be 1 or more")
    return wanted


@dataclass
class Registry:
    """Connections this process holds, per address; and what was refused lately."""

    limits: Limits
    open: int = 0
    per_address: Counter[str] = field(default_factory=Counter)
    reserve: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)
    _logged: float = -LOG_EVERY
    _pending: bool = False

    def admit(self, address: str) -> str | None:
        """ "normal", "reserve" (facilitator and health only), or None (close it now)."""
        limits = self.limits
        if self.open >= limits.ceiling:
            self.note("refused (server full)")
            return None
        if self.per_address[address] < limits.per_address and self.open < limits.phones:
            kind = "normal"
        elif self.reserve[address] < RESERVE_PER_ADDRESS:
            kind = "reserve"
            self.reserve[address] += 1
        else:
            self.note(
                "refused (address at its limit)"
                if self.open < limits.phones
                else "refused (server full)"
            )
            return None
        self.open += 1
        self.per_address[address] += 1
        return kind

    def release(self, address: str, kind: str) -> None:
        self.open -= 1
        _decrement(self.per_address, address)
        if kind == "reserve":
            _decrement(self.reserve, address)

    def note(self, why: str) -> None:
        """Count a refused or cut connection, and say so now and then."""
        self.refused[why] += 1
        if self._pending:
            return
        wait = self._logged + LOG_EVERY - time.monotonic()
        if wait <= 0:
            self.report()
        else:
            # What happens after a report is told at the next one, even if nothing follows.
            self._pending = True
            asyncio.get_running_loop().call_later(wait, self.report)

    def report(self) -> None:
        self._pending = False
        if not self.refused:
            return
        self._logged = time.monotonic()
        what = ", ".join(f"{count} {why}" for why, count in sorted(self.refused.items()))
        self.refused.clear()
        log.warning(
            "connections refused or cut: %s (%d open now; phones up to %d, %d per address; "
            "open-file limit %d)",
            what, self.open, self.limits.phones, self.limits.per_address, self.limits.files,
        )  # fmt: skip


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


_registry: Registry | None = None


def registry() -> Registry:
    """This process's registry (each uvicorn worker builds its own, after the fork)."""
    global _registry
    if _registry is None:
        _registry = Registry(Limits.for_this_process())
    return _registry


@dataclass
class _Ticket:
    address: str
    kind: str


#: The ticket of each open transport; its protocol changes from HTTP to websocket.
_tickets: dict[Any, _Ticket] = {}


def _release(transport: Any) -> None:
    ticket = _tickets.pop(transport, None)
    if ticket is not None:
        registry().release(ticket.address, ticket.kind)


def reserved(path: str) -> bool:
    """Whether the reserve serves this path (the facilitator, projector, health checks)."""
    return path.startswith(_RESERVED)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol with the admission, the time limits and the reserve."""

    _header_timer: asyncio.TimerHandle | None = None
    _body_timer: asyncio.TimerHandle | None = None
    _kind = "normal"

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else "unknown"
        kind = registry().admit(address)
        if kind is None:
            transport.abort()
            return
        self._kind = kind
        _tickets[transport] = _Ticket(address, kind)
        self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._too_slow, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        _release(self.transport)
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # the next request on a kept-alive connection
            self._header_timer = self.loop.call_later(HEADER_TIMEOUT, self._too_slow, "headers")

    def on_headers_complete(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None
        if self._kind == "reserve" and not reserved(self._path()):
            self.app = _server_full
        else:
            self.app = self.config.loaded_app
        upgrading = self.parser.should_upgrade() and self._should_upgrade()
        super().on_headers_complete()
        if not upgrading:
            self._body_timer = self.loop.call_later(BODY_TIMEOUT, self._too_slow, "body")

    def on_message_complete(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._cancel_timers()
        if self._kind == "reserve" and not reserved(self._path()):
            registry().note("refused (server full)")
            self.transport.write(_SERVER_FULL_RAW)
            self.transport.close()
            return
        super().handle_websocket_upgrade()

    def _path(self) -> str:
        """The request's path ("" when it is not a URL: uvicorn answers that with 400)."""
        try:
            path: bytes = httptools.parse_url(self.url).path
        except httptools.HttpParserInvalidURLError:
            return ""
        return path.decode("latin-1")

    def _too_slow(self, what: str) -> None:
        self._header_timer = self._body_timer = None
        if not self.transport.is_closing():
            registry().note(f"cut ({what} too slow)")
            self.transport.abort()

    def _cancel_timers(self) -> None:
        for timer in (self._header_timer, self._body_timer):
            if timer is not None:
                timer.cancel()
        self._header_timer = self._body_timer = None


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websocket protocol, giving the connection's place back when it ends."""

    def connection_lost(self, exc: Exception | None) -> None:
        _release(self.transport)
        super().connection_lost(exc)


_SERVER_FULL_RAW = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
    b"retry-after: %d\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" % RETRY_AFTER
)


async def _server_full(scope: Any, receive: Any, send: Any) -> None:
    """503 for a phone that came past the phones' share: cheap, in the phone's language."""
    registry().note("refused (server full)")
    headers = dict(scope.get("headers") or [])
    lang = negotiate(headers.get(b"accept-language", b"").decode("latin-1") or None)
    body = translate(lang, SERVER_FULL).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def give_abort_handle(scope: Scope, send: Send) -> None:
    """Put the transport's `abort` in the scope of a websocket, where the server has one."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if callable(abort):
        scope["poll.abort"] = abort
