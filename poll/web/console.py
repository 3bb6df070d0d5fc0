"""The facilitator console: sign-in, sessions and runs, and the live room.

Every action is a POST form with a CSRF token, so the console works without
JavaScript; with it (static/console.js) the same forms go over the console
websocket and the live panel is redrawn whenever a new snapshot arrives.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from poll.export import Kind
from poll.rooms import Room, RoomError, RoomState, UnknownRoom, display_code
from poll.web.actions import ACTIONS, perform
from poll.web.errors import Refused
from poll.web.export import csv_response, workbook_response
from poll.web.forms import closes_form
from poll.web.guard import check_csrf, facilitator
from poll.web.i18n import N_, negotiate, translate
from poll.web.network import join_base, short_address
from poll.web.pages import render
from poll.web.results_link import share_context
from poll.web.state import poll_state
from poll.web.throttle import client_address
from poll.web.wrong_tokens import TOO_MANY_WRONG_TOKENS


def _lang(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


async def console_home(request: Request) -> Response:
    state = poll_state(request)
    lang = _lang(request)
    token = request.query_params.get("token")
    if token is not None:
        # Redirect so that the token leaves the address bar (and the history).
        return await _sign_in(request, lang, token)
    nonce = state.auth.console_nonce(request)
    if nonce is None:
        return _login(request, lang, None)
    script = state.watch.check()
    runs = await state.rooms.list()
    return render(
        request,
        "console/index.html",
        lang,
        csrf=state.auth.csrf_token(nonce),
        sessions=list(script.sessions.values()),
        script_path=str(state.watch.path),
        script_error=state.watch.error,
        runs=[_run_view(run, script.sessions) for run in runs],
    )


def _run_view(run: RoomState, sessions: Any) -> dict[str, Any]:
    session = sessions.get(run.session_id)
    return {
        "id": run.id,
        "code": display_code(run.code),
        "session_id": run.session_id,
        "title": session.title if session is not None else run.session_id,
        "created": run.created_at.strftime("%Y-%m-%d %H:%M"),
        "created_iso": run.created_at.isoformat(),
        "ended": run.ended_at.strftime("%Y-%m-%d %H:%M") if run.ended_at else None,
        "ended_iso": run.ended_at.isoformat() if run.ended_at else None,
    }


def _login(request: Request, lang: str, error: str | None, status_code: int = 403) -> Response:
    message = translate(lang, error) if error else None
    return render(request, "console/login.html", lang, status_code=status_code, error=message)


async def _sign_in(request: Request, lang: str, token: str) -> Response:
    """Check a typed or linked token (throttled per address), then set the cookie."""
    state = poll_state(request)
    address = client_address(request)
    wait = state.wrong_tokens.retry_after(address)
    if wait is not None:
        response = _login(request, lang, TOO_MANY_WRONG_TOKENS, status_code=429)
        response.headers["retry-after"] = str(wait)
        return response
    if not state.auth.token_matches(token):
        state.wrong_tokens.failed(address)
        return _login(request, lang, N_("That token is not right. Copy the whole console link."))
    epoch = await state.rooms.console_epoch()
    response = RedirectResponse("/console", status_code=303)
    state.auth.sign_in(response, request, epoch)
    return response


async def login(request: Request) -> Response:
    form = await request.form()
    return await _sign_in(request, _lang(request), str(form.get("token") or ""))


async def logout(request: Request) -> Response:
    """Sign out for real: the generation of sign-ins moves on, so this cookie (and
    every other console cookie, on every process) is void even if kept."""
    state = poll_state(request)
    nonce = facilitator(request)
    check_csrf(request, nonce, await request.form())
    await state.rooms.end_console_sessions()
    response = RedirectResponse("/console", status_code=303)
    state.auth.sign_out(response)
    return response


async def start_run(request: Request) -> Response:
    nonce = facilitator(request)
    form = await request.form()
    check_csrf(request, nonce, form)
    state = poll_state(request)
    state.watch.check()
    try:
        room = await state.rooms.create(str(form.get("session_id") or ""))
    except RoomError as exc:
        raise Refused(400, exc.message, exc.params) from None
    return RedirectResponse(f"/console/room/{room.id}", status_code=303)


async def _room(request: Request) -> Room:
    try:
        return await poll_state(request).rooms.get(str(request.path_params["room_id"]))
    except UnknownRoom:
        raise HTTPException(404) from None


def _clock(moment: datetime | None) -> str:
    """A time of day in UTC, for pages read without JavaScript (static/times.js
    shows it in the browser's own time zone)."""
    return moment.astimezone(UTC).strftime("%H:%M") if moment else ""


def _duration(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


async def _room_context(request: Request, room: Room, nonce: str) -> dict[str, Any]:
    state = poll_state(request)
    snapshot = await room.snapshot("console")
    base = join_base(request, state.settings.public_url)
    now = datetime.now(UTC)
    run = room.state
    return {
        "now": now,
        "started_utc": _clock(run.created_at),
        "ended_utc": _clock(run.ended_at),
        "elapsed": _duration(((run.ended_at or now) - run.created_at).total_seconds()),
        "snap": snapshot,
        "csrf": state.auth.csrf_token(nonce),
        "join_url": f"{base}/r/{room.state.code}",
        "address": short_address(base),
        "script_error": state.watch.error,
        **await share_context(request, room),
    }


async def room_console(request: Request) -> Response:
    nonce = facilitator(request)
    room = await _room(request)
    poll_state(request).watch.check()
    context = await _room_context(request, room, nonce)
    error = request.query_params.get("error")
    return render(request, "console/room.html", _lang(request), error=error, **context)


async def room_panel(request: Request) -> Response:
    """The live part of the room console, for console.js to swap in after a change."""
    nonce = facilitator(request)
    room = await _room(request)
    context = await _room_context(request, room, nonce)
    return render(request, "console/_panel.html", _lang(request), **context)


async def room_action(request: Request) -> Response:
    nonce = facilitator(request)
    room = await _room(request)
    form = await request.form()
    check_csrf(request, nonce, form)
    action = str(form.get("action") or "")
    target = f"/console/room/{room.id}"
    if action not in ACTIONS:
        raise Refused(400, N_("Unknown action {action}."), {"action": action})
    try:
        await perform(room, action, form)
    except RoomError as exc:
        message = translate(_lang(request), exc.message, exc.params)
        return render(
            request,
            "console/room.html",
            _lang(request),
            status_code=409,
            error=message,
            **await _room_context(request, room, nonce),
        )
    poll_state(request).hub.poke(room.id)
    anchor = str(form.get("anchor") or "")
    return RedirectResponse(target + (f"#{anchor}" if anchor.isidentifier() else ""), 303)


async def export_csv(request: Request) -> Response:
    facilitator(request)
    room = await _room(request)
    # results: every answer (responses: the bench's older name for it).
    kinds: dict[str, Kind] = {
        "results": "answers",
        "responses": "answers",
        "summary": "summary",
        "standings": "standings",
    }
    kind = kinds.get(request.path_params["kind"])
    if kind is None:
        raise HTTPException(404)
    sep = ";" if request.query_params.get("sep") in (";", "semicolon") else ","
    return await csv_response(room, kind=kind, sep=sep)


async def export_workbook(request: Request) -> Response:
    facilitator(request)
    return await workbook_response(await _room(request))


def routes() -> list[BaseRoute]:
    return [
        Route("/console", console_home, name="console"),
        Route("/console/login", closes_form(login), methods=["POST"], name="console_login"),
        Route("/console/logout", closes_form(logout), methods=["POST"], name="console_logout"),
        Route("/console/rooms", closes_form(start_run), methods=["POST"], name="start_run"),
        Route("/console/room/{room_id}", room_console, methods=["GET"], name="room_console"),
        Route(
            "/console/room/{room_id}",
            closes_form(room_action),
            methods=["POST"],
            name="room_action",
        ),
        Route("/console/room/{room_id}/panel", room_panel, name="room_panel"),
        Route("/console/room/{room_id}/{kind:str}.csv", export_csv, name="export_csv"),
        Route("/console/room/{room_id}/results.xlsx", export_workbook, name="export_workbook"),
    ]
