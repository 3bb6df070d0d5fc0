"""The phones' two requests straight to their handlers: the room page and the socket.

When an audience joins, thousands of phones each load /r/CODE and open
/ws/participant/CODE within seconds. Through the whole app, each request
passed every layer made for the console's pages: the body limit, the
facilitator's sign-in check, Starlette's exception handling and its router
(which tries the routes in order), each wrapping `send` once more.

- For the page, those layers took about a third of its server time in a
  5,000-phone join on SQLite (docs/performance.md, "Joins").
- For the socket, every layer also keeps a suspended coroutine frame (and
  some a send wrapper) for as long as the socket lives: about 6 KiB per phone,
  a fifth of what a connected phone cost.

Only requests those layers have nothing to do for are taken early:

- a websocket to /ws/participant/CODE (the page middleware passes websockets
  through untouched; the socket handler answers its own refusals);
- a GET of /r/CODE (its body, if any, is never read) without the
  facilitator's cookie (whose sign-in generation `guard.ConsoleEpoch` would
  read). It gets the same handler, the same security headers and the same
  error pages.

Every other request, and any path the routes would not match, goes on
through the app as before. An error a handler does not turn into a page or a
close itself still reaches the server's error handling, which sits outside
this layer.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from poll.web import live_ws, participant
from poll.web.auth import CONSOLE_COOKIE
from poll.web.connections import give_abort_handle
from poll.web.csp import with_security_headers
from poll.web.errors import http_error

PHONE_PAGE_PREFIX = "/r/"
PHONE_SOCKET_PREFIX = "/ws/participant/"
_CONSOLE_COOKIE = CONSOLE_COOKIE.encode("latin-1") + b"="


class PhoneLane:
    """Hands a phone's socket and a new phone's page to their handlers at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            code = _code(scope, PHONE_SOCKET_PREFIX)
            if code is not None:
                scope["path_params"] = {"code": code}
                give_abort_handle(scope, send)
                await live_ws.participant_socket(WebSocket(scope, receive, send))
                return
        elif kind == "http" and scope["method"] == "GET":
            code = _code(scope, PHONE_PAGE_PREFIX)
            if code is not None and not _has_console_cookie(scope):
                scope["path_params"] = {"code": code}
                await _page(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _page(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    try:
        response = await participant.room_page(request)
    except HTTPException as exc:
        response = await http_error(request, exc)
    await response(scope, receive, with_security_headers(scope, send))


def _code(scope: Scope, prefix: str) -> str | None:
    """The room code of a path `prefix` + CODE (nothing after it), else None."""
    path = route_path(scope)
    if not path.startswith(prefix):
        return None
    code = path[len(prefix) :]
    if not code or "/" in code:
        return None
    return code


def _has_console_cookie(scope: Scope) -> bool:
    return any(name == b"cookie" and _CONSOLE_COOKIE in value for name, value in scope["headers"])


def route_path(scope: Scope) -> str:
    """The path the router matches: without the root path the app is mounted under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
