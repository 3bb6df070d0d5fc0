"""Facilitator-only routes: the cookie check and the CSRF check of console forms."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

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
