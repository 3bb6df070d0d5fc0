"""A run's read-only results link: made, shown and revoked in the console, opened by anyone
who has it, shown in the room as a QR code (projector) and a link (phones) once the run
has ended, if the facilitator wants.

    POST /console/room/{id}/results-link     make (with an expiry), revoke, show, hide
    GET  /results/{token}                    the report, and nothing else of the room
    GET  /results/room/{id}                  a phone's way to it, only while shown
    GET  /projector/{id}/results-qr.svg      the link as a QR code (facilitator)

The token is 256 bits from an HMAC of the link's random nonce under the server's
key (`Auth.results_token`); the store keeps the nonce and the token's SHA-256
digest, and a visit is looked up by the digest of what it brings. The page is the
report without hidden texts, participant ids or links; it is not indexed, sends
no referrer, and is never cached.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from poll.report import build_report
from poll.rooms import ResultsLink, Room, UnknownRoom, link_valid
from poll.web.forms import closes_form
from poll.web.guard import check_csrf, facilitator
from poll.web.i18n import N_, negotiate
from poll.web.network import join_base
from poll.web.pages import render
from poll.web.projector import qr_svg
from poll.web.report import report_response
from poll.web.state import poll_state

#: How long a new link works, as the console offers it: days, or None for until revoked.
EXPIRIES: dict[str, int | None] = {"1": 1, "7": 7, "30": 30, "never": None}
DEFAULT_EXPIRY = "7"
#: What a token looks like: 32 bytes, URL-safe base64 without padding.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
#: Headers of every page a results link serves, the refusal too.
PRIVATE = {
    "x-robots-tag": "noindex, nofollow",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def now() -> datetime:
    """The time links are made and checked at (a test moves it past an expiry)."""
    return datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def results_url(request: Request, room: Room, link: ResultsLink) -> str:
    state = poll_state(request)
    base = join_base(request, state.settings.public_url)
    return f"{base}/results/{state.auth.results_token(room.id, link.nonce)}"


def new_link(request: Request, room: Room, days: int | None) -> ResultsLink:
    """A fresh link: a new random nonce (so a new token), expiring `days` from now."""
    made = now()
    nonce = secrets.token_urlsafe(32)
    token = poll_state(request).auth.results_token(room.id, nonce)
    return ResultsLink(
        digest=digest(token),
        nonce=nonce,
        created_at=made,
        expires_at=None if days is None else made + timedelta(days=days),
    )


async def share_context(request: Request, room: Room) -> dict[str, Any]:
    """What the console's results-link box shows: the link (to copy), its expiry, and
    whether the room sees it."""
    link = await room.results_link()
    view: dict[str, Any] | None = None
    if link is not None:
        view = {
            "url": results_url(request, room, link),
            "expires": link.expires_at.strftime("%Y-%m-%d %H:%M UTC") if link.expires_at else None,
            "expired": not link_valid(link, now()),
            "in_room": link.in_room,
        }
    return {"results_link": view, "expiries": list(EXPIRIES), "default_expiry": DEFAULT_EXPIRY}


async def _room(request: Request) -> Room:
    try:
        return await poll_state(request).rooms.get(str(request.path_params["room_id"]))
    except UnknownRoom:
        raise HTTPException(404) from None


async def change_link(request: Request) -> Response:
    """The console's form: make a link (replacing any), revoke it, show or hide it."""
    nonce = facilitator(request)
    room = await _room(request)
    form: FormData = await request.form()
    check_csrf(request, nonce, form)
    action = str(form.get("link_action") or "")
    if action == "create":
        expiry = str(form.get("expiry") or DEFAULT_EXPIRY)
        if expiry not in EXPIRIES:
            raise HTTPException(400, N_("Choose how long the link works."))
        await room.share_results(new_link(request, room, EXPIRIES[expiry]))
    elif action == "revoke":
        await room.revoke_results_link()
    elif action in ("show", "hide"):
        await room.show_results_link(action == "show")
    else:
        raise HTTPException(400, N_("Unknown action {action}.").format(action=action))
    poll_state(request).hub.poke(room.id)
    return RedirectResponse(f"/console/room/{room.id}#results-link", status_code=303)


def _gone(request: Request) -> Response:
    """One answer for every link that does not work (never was, revoked, expired): a
    visitor learns nothing about which."""
    lang = negotiate(request.headers.get("accept-language"))
    response = render(
        request,
        "error.html",
        lang,
        status_code=404,
        title=N_("This results link does not work."),
        detail=N_(
            "It may have expired or been withdrawn, or it was not copied whole. "
            "Ask the facilitator for the link again."
        ),
    )
    response.headers.update(PRIVATE)
    return response


async def shared_report(request: Request) -> Response:
    token = str(request.path_params["token"])
    if not TOKEN.fullmatch(token):
        return _gone(request)
    room = await poll_state(request).rooms.by_results_link(digest(token), now())
    if room is None:
        return _gone(request)
    response = report_response(await build_report(room, include_hidden=False), shared=True)
    response.headers.update(PRIVATE)
    return response


async def _shown_link(request: Request) -> tuple[Room, ResultsLink]:
    """The room and its link, when the run has ended and the room is shown the link."""
    try:
        room = await poll_state(request).rooms.get(str(request.path_params["room_id"]))
    except UnknownRoom:
        raise HTTPException(404) from None
    link = await room.results_link() if room.state.ended else None
    if link is None or not link.in_room or not link_valid(link, now()):
        raise HTTPException(404)
    return room, link


async def phone_link(request: Request) -> Response:
    """The phones' "see the results" link: to the report, while the room is shown it."""
    room, link = await _shown_link(request)
    response = RedirectResponse(results_url(request, room, link), status_code=303)
    response.headers.update(PRIVATE)
    return response


async def projector_qr(request: Request) -> Response:
    facilitator(request)
    room, link = await _shown_link(request)
    return Response(
        qr_svg(results_url(request, room, link)),
        media_type="image/svg+xml",
        headers={"cache-control": "no-store"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route(
            "/console/room/{room_id}/results-link",
            closes_form(change_link),
            methods=["POST"],
            name="results_link",
        ),
        Route("/results/room/{room_id}", phone_link, name="results_phone_link"),
        Route("/results/{token}", shared_report, name="shared_report"),
        Route("/projector/{room_id}/results-qr.svg", projector_qr, name="results_qr"),
    ]
