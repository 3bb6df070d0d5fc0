"""Form handling shared by the POST routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


def closes_form(endpoint: Endpoint) -> Endpoint:
    """Close the request's parsed form after the endpoint, whatever it returned or raised.

    Starlette keeps uploaded parts of a multipart body in temporary files; a
    form that is never closed leaks one file handle per hostile post (anyone
    can send a file part, even to the login form).
    """

    @wraps(endpoint)
    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        finally:
            await request.close()

    return wrapper


#: Largest request body poll reads: its forms hold a few fields of short text.
MAX_BODY = 64 * 1024


class BodyLimit:
    """Refuse request bodies over `max_body` bytes with 413, before any route reads them.

    Starlette reads an urlencoded form whole into memory; without a limit one
    post of gigabytes (declared, or chunked without a length) would take the
    server's memory. The body is read here, at most `max_body` bytes of it, and
    handed on to the app unchanged.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = PlainTextResponse(
            f"Request body too large: poll accepts at most {self.max_body // 1024} KiB.",
            status_code=413,
        )
        await response(scope, receive, send)
