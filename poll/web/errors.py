"""Error pages in the visitor's language instead of bare text."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from poll.web.i18n import N_, negotiate
from poll.web.pages import render

log = logging.getLogger("poll.web")

TITLES = {
    400: N_("This request was not understood."),
    403: N_("This page is for the facilitator only."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used that way."),
    500: N_("Something went wrong on the server."),
    503: N_("The server cannot reach its data store right now. Try again in a moment."),
}


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    lang = negotiate(request.headers.get("accept-language"))
    if request.url.path.startswith(("/healthz", "/ws/")):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    title = TITLES.get(exc.status_code, TITLES[400])
    detail = exc.detail if exc.status_code not in TITLES else None
    return render(
        request, "error.html", lang, status_code=exc.status_code, title=title, detail=detail
    )


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s", request.url.path, exc_info=exc)
    lang = negotiate(request.headers.get("accept-language"))
    return render(request, "error.html", lang, status_code=500, title=TITLES[500], detail=None)


def exception_handlers() -> Mapping[Any, Any]:
    return {HTTPException: http_error, 500: server_error}
