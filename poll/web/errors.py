"""Error pages in the visitor's language instead of bare text.

A page shows a title for its status and, where there is one, the reason meant
for the visitor. A reason raised as `Refused` is a message id of the catalogue,
translated here with its parameters filled in; any other detail is shown as
text, never translated (it may hold what somebody typed) and, like every value
in the page, escaped.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from poll.web.i18n import N_, negotiate, translate
from poll.web.pages import render

log = logging.getLogger("poll.web")

TITLES = {
    400: N_("This request was not understood."),
    403: N_("This page is for the facilitator only."),
    404: N_("This page does not exist."),
    405: N_("This page cannot be used that way."),
    413: N_("This request is too large."),
    429: N_("Too many attempts. Wait a moment and try again."),
    500: N_("Something went wrong on the server."),
    503: N_("The server cannot reach its data store right now. Try again in a moment."),
}


#: The longest detail a page shows; a longer one is cut (it may echo input).
MAX_DETAIL = 300


class Refused(HTTPException):
    """An HTTP error with a reason meant for the visitor.

    `message` is a message id of the catalogue (marked with `N_`) with `{name}`
    placeholders; `params` fill them in after translation, so that what a
    visitor typed is never looked up as a message.
    """

    def __init__(
        self,
        status_code: int,
        message: str,
        params: Mapping[str, object] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, message, headers=headers)
        self.message = message
        self.params = dict(params or {})


def detail_text(exc: HTTPException, lang: str) -> str | None:
    """What the page says below its title: a `Refused` reason in the visitor's
    language, another detail as plain text, or nothing for the bare status."""
    if isinstance(exc, Refused):
        text = translate(lang, exc.message, exc.params)
    else:
        text = str(exc.detail or "")
        try:
            if text == HTTPStatus(exc.status_code).phrase:
                return None  # Starlette's default: the title says it better
        except ValueError:
            pass
    text = text.strip()
    if len(text) > MAX_DETAIL:
        text = text[: MAX_DETAIL - 1] + "…"
    return text or None


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    lang = negotiate(request.headers.get("accept-language"))
    if request.url.path.startswith(("/healthz", "/ws/")):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    title = TITLES.get(exc.status_code, TITLES[500] if exc.status_code >= 500 else TITLES[400])
    response = render(
        request,
        "error.html",
        lang,
        status_code=exc.status_code,
        title=title,
        detail=detail_text(exc, lang),
    )
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("error on %s", request.url.path, exc_info=exc)
    lang = negotiate(request.headers.get("accept-language"))
    return render(request, "error.html", lang, status_code=500, title=TITLES[500], detail=None)


def exception_handlers() -> Mapping[Any, Any]:
    return {HTTPException: http_error, 500: server_error}
