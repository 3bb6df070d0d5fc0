"""Participant pages: the code entry, the room, and the no-JavaScript vote form.

With JavaScript the room page follows the facilitator over a websocket and
sends votes there (static/participant.js). Without it, the same page is a
plain form that POSTs and redirects back (PRG), and refreshes itself while
the participant waits.
"""

from __future__ import annotations

import contextlib
import secrets
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from poll import protocol
from poll.questions import Question
from poll.rooms import (
    NotCurrent,
    Room,
    RoomError,
    Rooms,
    StoreError,
    UnknownRoom,
    normalize_code,
)
from poll.web.forms import closes_form
from poll.web.i18n import N_, negotiate, translate
from poll.web.network import join_base, short_address
from poll.web.pages import html_page, render, render_text
from poll.web.phone_pages import SUBMISSION_MARK, TOKEN_MARK
from poll.web.state import poll_state
from poll.web.throttle import TOO_MANY_ATTEMPTS, client_address
from poll.web.voting import vote_reply

#: Seconds between refreshes of a waiting page without JavaScript.
NOSCRIPT_REFRESH = 4


async def landing(request: Request) -> Response:
    lang = negotiate(request.headers.get("accept-language"))
    return render(request, "participant/landing.html", lang, error=None, code="")


async def join(request: Request) -> Response:
    """The code form's target: on to the room, or back with a reason."""
    typed = str(request.query_params.get("code", ""))
    code = normalize_code(typed)
    lang = negotiate(request.headers.get("accept-language"))
    if code is None:
        error = translate(lang, N_("A code has 7 digits, like 123 4567. Check the screen."))
        return render(
            request, "participant/landing.html", lang, status_code=400, error=error, code=typed
        )
    room = await _lookup(request, code)
    if isinstance(room, _Blocked):
        return too_many_attempts(request, lang, typed)
    if room is None:
        return unknown_code(request, lang, typed)
    return _keep_issued(request, RedirectResponse(f"/r/{code}", status_code=303))


class _Blocked:
    """The lookup was not made: this client failed too often (see throttle.py)."""


async def _lookup(request: Request, typed: str) -> Room | _Blocked | None:
    """The room with this code (running, else the run that ended last with it),
    counting failures per client against guessing.

    A visitor without a participant cookie is given an id here (the answer sets
    the cookie), so that her typos count against her alone, not against every
    cookie-less phone behind the same address.
    """
    state = poll_state(request)
    address = client_address(request)
    participant = state.auth.participant(request)
    if participant is None and state.lookups.may_issue(address):
        participant = request.state.issued_participant = secrets.token_urlsafe(16)
    if state.lookups.blocked(address, participant):
        return _Blocked()
    room = await find_room(state.rooms, typed)
    if room is None:
        state.lookups.failed(address, participant)
    return room


def _keep_issued(request: Request, response: Response) -> Response:
    """Set the cookie of the participant id `_lookup` gave a cookie-less visitor."""
    issued = getattr(request.state, "issued_participant", None)
    if issued is not None:
        poll_state(request).auth.set_participant(response, request, issued)
    return response


async def find_room(rooms: Rooms, typed: str) -> Room | None:
    """The running room with this code; else the run that ended last with it, so that
    a phone that comes back after the end is thanked rather than told there is no
    such session (a running room that took the code over since comes first)."""
    room = await rooms.by_code(typed)
    if room is None:
        room = await rooms.ended_by_code(typed)
    return room


async def arrive(rooms: Rooms, room: Room, participant: str) -> None:
    """Count the participant among those who joined a running room. Best effort: a
    store that fails here fails the page's own reads too, and the count catches up
    at her next page load or connection."""
    if room.state.ended:
        return
    with contextlib.suppress(StoreError):
        await rooms.arrive(room.id, participant)


def too_many_attempts(request: Request, lang: str, typed: str) -> Response:
    error = translate(lang, TOO_MANY_ATTEMPTS)
    response = render(
        request, "participant/landing.html", lang, status_code=429, error=error, code=typed
    )
    response.headers["retry-after"] = "60"
    return _keep_issued(request, response)


def unknown_code(request: Request, lang: str, typed: str) -> Response:
    error = translate(lang, UnknownRoom.message, {"code": typed})
    response = render(
        request, "participant/landing.html", lang, status_code=404, error=error, code=typed
    )
    return _keep_issued(request, response)


async def short_link(request: Request) -> Response:
    """/j/1234567: the QR code's target, kept short so the code stays easy to scan.

    The code is echoed into the redirect escaped: a `#`, `?` or `%` typed into
    it must stay part of the code (and be refused as one), not become a
    fragment or a query of the page it leads to.
    """
    typed = str(request.path_params["code"])
    code = normalize_code(typed) or quote(typed, safe="")
    return RedirectResponse(f"/r/{code}", status_code=303)


async def _room_for(request: Request) -> tuple[Room | _Blocked | None, str]:
    typed = str(request.path_params["code"])
    return await _lookup(request, typed), typed


async def _room_or_refusal(request: Request) -> Room | Response:
    """The room of /r/CODE, or the page that says why there is none."""
    room, typed = await _room_for(request)
    lang = negotiate(request.headers.get("accept-language"))
    if isinstance(room, _Blocked):
        return too_many_attempts(request, lang, typed)
    if room is None:
        return unknown_code(request, lang, typed)
    return room


async def room_page(request: Request) -> Response:
    room = await _room_or_refusal(request)
    if isinstance(room, Response):
        return room
    state = poll_state(request)
    participant = state.auth.participant(request)
    new_id = participant is None
    if participant is None:
        issued = getattr(request.state, "issued_participant", None)
        participant = issued or secrets.token_urlsafe(16)
    if not new_id:
        # Only with her cookie back: a browser that refuses cookies would count
        # as a new person at every reload. (A phone without JavaScript sends it
        # with its first refresh or vote.)
        await arrive(state.rooms, room, participant)
    lang = room.session.language
    flash = state.auth.read_flash(request)
    address = short_address(join_base(request, state.settings.public_url))
    # Kept pages only while phones of the room are live here (an audience joining):
    # what they lag by is what those phones are shown at most once a second anyway.
    if new_id and flash is None and state.hub.has_phones(room.id):
        kept = state.phone_pages.page(
            room.state,
            lang,
            address,
            state.auth.vote_token(participant),
            secrets.token_urlsafe(12),
        )
        if kept is not None:
            response = html_page(kept)
            state.auth.set_participant(response, request, participant)
            return response
    snapshot = await room.snapshot("participant", participant)
    me = snapshot.pop("me", None)
    if not new_id and "application/json" in request.headers.get("accept", ""):
        # The phone's script follows the room this way while its websocket is down:
        # the snapshot with its screens, and the stage drawn for this phone (her
        # answers, and on a personal screen her standing).
        mine = snapshot.pop("mine", [])
        fields = state.screens.snapshot_fields(snapshot, "participant")
        reply = protocol.snapshot(snapshot, **fields)
        reply |= {"mine": mine, "mine_html": state.screens.stage(snapshot, mine, me)}
        return JSONResponse(reply)
    message = None
    if flash is not None:
        message = {
            "kind": str(flash.get("kind", "info")),
            "text": translate(lang, str(flash.get("message", "")), _params(flash)),
        }
    snapshot["stage"] = protocol.stage_key(snapshot)
    waiting = _waiting(snapshot)
    # A new phone's page is the same for every new phone but for two values: kept
    # with stand-ins for them, so the next ones skip the store and the render.
    keep = new_id and flash is None and state.phone_pages.keepable(snapshot)
    token = TOKEN_MARK if keep else state.auth.vote_token(participant)
    submission = SUBMISSION_MARK if keep else secrets.token_urlsafe(12)
    html = render_text(
        "participant/room.html",
        lang,
        request=request,
        snap=snapshot,
        stage=state.screens.stage(snapshot, snapshot.get("mine", []), me),
        flash=message,
        vote_token=token,
        submission_id=submission,
        refresh=NOSCRIPT_REFRESH if waiting else None,
        address=address,
    )
    if keep:
        # The state the snapshot was read with (`Room.load` keeps it).
        state.phone_pages.keep(room.state, lang, address, html)
        html = html.replace(TOKEN_MARK, state.auth.vote_token(participant))
        html = html.replace(SUBMISSION_MARK, secrets.token_urlsafe(12))
    response = html_page(html)
    if flash is not None:
        state.auth.clear_flash(response)
    if new_id:
        state.auth.set_participant(response, request, participant)
    return response


def _params(flash: dict[str, object]) -> dict[str, object]:
    params = flash.get("params")
    return params if isinstance(params, dict) else {}


def _waiting(snapshot: dict[str, Any]) -> bool:
    """Nothing to fill in now (a slide, or a question not open, or answered already)."""
    if snapshot["room"]["ended"]:
        return False
    if snapshot["status"] != "open":
        return True
    mine = snapshot.get("mine") or []
    return len(mine) >= int(snapshot["item"].get("max_entries", 1))


def raw_answer(question: Question, form: FormData) -> object:
    """A form's fields in the shape `Question.validate` expects (as the websocket sends);
    with the nickname a question that scores asks a new player for, as the room reads it."""
    fields = {name: [str(value) for value in form.getlist(name)] for name in form}
    raw = question.answer_from_form(fields)
    nickname = form.get("nickname")
    if question.scored and isinstance(raw, dict) and isinstance(nickname, str):
        raw = {**raw, "nickname": nickname}
    return raw


def _refused_json(reason: str, message: str, *, retry: bool, status_code: int) -> JSONResponse:
    return JSONResponse(protocol.refused(reason, message, retry=retry), status_code=status_code)


async def vote_json(request: Request) -> Response:
    """The vote as JSON (`ack` / `refused`, as on the websocket), for a phone whose
    script posts the form with `Accept: application/json` while its websocket is down."""
    room, typed = await _room_for(request)
    lang = negotiate(request.headers.get("accept-language"))
    if isinstance(room, _Blocked):
        message = translate(lang, TOO_MANY_ATTEMPTS)
        return _refused_json(protocol.TOO_MANY_ATTEMPTS, message, retry=True, status_code=429)
    if room is None:
        message = translate(lang, UnknownRoom.message, {"code": typed})
        return _refused_json(UnknownRoom.reason, message, retry=False, status_code=404)
    lang = room.session.language
    state = poll_state(request)
    participant = state.auth.participant(request)
    form = await request.form()
    try:
        if participant is None or not state.auth.vote_token_ok(participant, form.get("token")):
            message = translate(lang, N_("Your answer was not sent. Please try again."))
            return _refused_json(protocol.NOT_SENT, message, retry=False, status_code=403)
        question_id = str(form.get("question_id") or "")
        question = room.session.questions.get(question_id)
        answer = raw_answer(question, form) if question is not None else {}
        submission_id = str(form.get("submission_id") or "")
        reply = await vote_reply(state, room, participant, question_id, submission_id, answer, lang)
    finally:
        await form.close()
    return JSONResponse(reply)


async def vote(request: Request) -> Response:
    if "application/json" in request.headers.get("accept", ""):
        return await vote_json(request)
    room = await _room_or_refusal(request)
    if isinstance(room, Response):
        return room
    state = poll_state(request)
    back = RedirectResponse(f"/r/{room.state.code}", status_code=303)
    participant = state.auth.participant(request)
    form = await request.form()
    if participant is None or not state.auth.vote_token_ok(participant, form.get("token")):
        # No cookie (it expired, or the form came from elsewhere): start afresh.
        state.auth.set_flash(
            back,
            request,
            {"kind": "error", "message": N_("Your answer was not sent. Please try again.")},
        )
        return back
    question_id = str(form.get("question_id") or "")
    submission_id = str(form.get("submission_id") or secrets.token_urlsafe(12))
    question = room.session.questions.get(question_id)
    try:
        if question is None:
            raise NotCurrent()
        await room.vote(participant, question_id, submission_id, raw_answer(question, form))
    except RoomError as exc:
        state.auth.set_flash(
            back,
            request,
            {"kind": "error", "message": exc.message, "params": _jsonable(exc.params)},
        )
        return back
    finally:
        await form.close()
    state.hub.poke(room.id)
    state.auth.set_flash(back, request, {"kind": "saved", "message": N_("Your answer is saved.")})
    return back


def _jsonable(params: dict[str, object]) -> dict[str, object]:
    return {k: v if isinstance(v, int | float | str) else str(v) for k, v in params.items()}


def routes() -> list[BaseRoute]:
    return [
        Route("/", landing, name="landing"),
        Route("/join", join, name="join"),
        Route("/j/{code}", short_link, name="short_link"),
        Route("/r/{code}", room_page, name="room", methods=["GET"]),
        Route("/r/{code}", closes_form(vote), name="vote", methods=["POST"]),
    ]
