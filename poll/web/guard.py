"""Facilitator-only routes: the cookie check and the CSRF check of console forms."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from poll.web.i18n import N_
from poll.web.state import poll_state


def facilitator(conn: HTTPConnection) -> str:
    """The facilitator cookie's nonce; 403 for everybody else."""
    nonce = poll_state(conn).auth.console_nonce(conn)
    if nonce is None:
        raise HTTPException(403)
    return nonce


def check_csrf(conn: HTTPConnection, nonce: str, form: FormData) -> None:
    if not poll_state(conn).auth.csrf_ok(nonce, form.get("csrf")):
        raise HTTPException(
            400, N_("The form had expired. Go back, reload the page and try again.")
        )
