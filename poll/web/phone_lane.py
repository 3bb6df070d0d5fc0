"""A new phone's room page (GET /r/CODE) straight to its handler.

When an audience joins, thousands of phones load /r/CODE within seconds, and
each request went through every layer made for the console's pages: the body
limit, the facilitator's sign-in check, Starlette's exception handling and its
router (which tries the routes in order), each wrapping `send` once more.
Measured in a 5,000-phone join on SQLite, those layers took about a third of
the page's server time (docs/performance.md, "Joins").

Only a request those layers have nothing to do for is taken early: a GET
(its body, if any, is never read) without the facilitator's cookie (whose
sign-in generation `guard.ConsoleEpoch` would read). It gets the same handler,
the same security headers and the same error pages; every other request goes
on through the app as before. An error the handler does not turn into a page
itself still reaches the server's error page, which sits outside this layer.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from poll.web import participant
from poll.web.auth import CONSOLE_COOKIE
from poll.web.csp import with_security_headers
from poll.web.errors import http_error

PHONE_PAGE_PREFIX = "/r/"
_CONSOLE_COOKIE = CONSOLE_COOKIE.encode("latin-1") + b"="


class PhonePagesFirst:
    """Hands GET /r/CODE without the facilitator's cookie to `participant.room_page`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        code = _phone_page_code(scope)
        if code is None:
            await self.app(scope, receive, send)
            return
        scope["path_params"] = {"code": code}
        request = Request(scope, receive)
        try:
            response = await participant.room_page(request)
        except HTTPException as exc:
            response = await http_error(request, exc)
        await response(scope, receive, with_security_headers(scope, send))


def _phone_page_code(scope: Scope) -> str | None:
    """The code of a request this layer answers, else None."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = route_path(scope)
    if not path.startswith(PHONE_PAGE_PREFIX):
        return None
    code = path[len(PHONE_PAGE_PREFIX) :]
    if not code or "/" in code:
        return None
    for name, value in scope["headers"]:
        if name == b"cookie" and _CONSOLE_COOKIE in value:
            return None
    return code


def route_path(scope: Scope) -> str:
    """The path the router matches: without the root path the app is mounted under."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root + "/"):
        return path[len(root) :]
    return path
