"""Facilitator-only routes: the cookie check and the CSRF check of console forms."""

from __future__ import annotations

import logging

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from poll.rooms import StoreError
from poll.web.auth import CONSOLE_COOKIE, EPOCH_SCOPE_KEY
from poll.web.errors import Refused
from poll.web.i18n import N_
from poll.web.network import origin_allowed
from poll.web.state import poll_state


def facilitator(conn: HTTPConnection) -> str:
    """The facilitator cookie's nonce; 403 for everybody else."""
    nonce = poll_state(conn).auth.console_nonce(conn)
    if nonce is None:
        raise HTTPException(403)
    return nonce


def from_this_site(conn: HTTPConnection) -> bool:
    """A browser's own word that a request comes from one of this server's pages.

    Defence in depth behind the CSRF token and the SameSite cookie: browsers
    send Sec-Fetch-Site, and Origin on POSTs; either naming another site is
    refused. `Origin: null` is let through, since Chromium sends it for our own
    forms under `Referrer-Policy: no-referrer`.
    """
    if conn.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    if conn.headers.get("origin") == "null":
        return True
    return origin_allowed(conn, poll_state(conn).settings.public_url)


def check_csrf(conn: HTTPConnection, nonce: str, form: FormData) -> None:
    if not from_this_site(conn):
        raise HTTPException(403)
    if not poll_state(conn).auth.csrf_ok(nonce, form.get("csrf")):
        raise Refused(400, N_("The form had expired. Go back, reload the page and try again."))


log = logging.getLogger("poll.web")


class ConsoleEpoch:
    """Reads the generation of facilitator sign-ins for each request or socket
    that carries a console cookie, so that `Auth.console_nonce` can void one
    made before the last sign-out or token rotation, whichever process saw it.

    One small store read per facilitator request; phones carry no console
    cookie and cost nothing. When the store cannot say, no console cookie is
    honoured (the console cannot work without the store anyway).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Static files need no facilitator (and a console page loads several).
        if scope["type"] in ("http", "websocket") and not scope["path"].startswith("/static/"):
            conn = HTTPConnection(scope)
            if conn.cookies.get(CONSOLE_COOKIE):
                try:
                    scope[EPOCH_SCOPE_KEY] = await poll_state(conn).rooms.console_epoch()
                except StoreError as exc:
                    log.warning("console sign-in not checked: %s", exc)
        await self.app(scope, receive, send)
