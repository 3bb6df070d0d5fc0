"""Form handling shared by the POST routes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

from starlette.requests import Request
from starlette.responses import Response

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
