"""The console's page of one session: its runs (date, participants, answers), and
two or more of them compared (`poll.compare`), or downloaded as one CSV/workbook.

The pages speak the session's language, as its screens and its workbook do.
Choosing runs is a GET form (`?run=ID&run=ID`): a comparison is a page one can
bookmark and reload, and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from poll.compare import compare_runs, run_facts
from poll.export import Kind
from poll.rooms import Room, display_code
from poll.session_export import session_chunks
from poll.web.guard import facilitator
from poll.web.i18n import N_, translate
from poll.web.pages import render
from poll.web.state import poll_state
from poll.workbook import MEDIA_TYPE, build_workbook, workbook_filename


async def _runs(request: Request) -> tuple[str, list[Room]]:
    """The session's runs, newest first (404 when it has none and is not in the script)."""
    state = poll_state(request)
    session_id = str(request.path_params["session_id"])
    ids = [run.id for run in await state.rooms.list() if run.session_id == session_id]
    if not ids and session_id not in state.watch.check().sessions:
        raise HTTPException(404)
    return session_id, [await state.rooms.get(room_id) for room_id in ids]


def _language(request: Request, session_id: str, rooms: list[Room]) -> tuple[str, str]:
    """The session's language and title: from the script, else from its newest run
    (`_runs` made sure that one of them is there)."""
    session = poll_state(request).watch.check().sessions.get(session_id)
    if session is None:
        session = rooms[0].session
    return session.language, session.title


def _when(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else None


def _run_label(index: int, code: str, started: datetime) -> dict[str, Any]:
    return {
        "number": index + 1,
        "code": display_code(code),
        "date": started.astimezone(UTC).strftime("%Y-%m-%d"),
        "started": _when(started),
    }


def _chosen(request: Request, rooms: list[Room]) -> list[Room]:
    """The runs named by `?run=` (all of them when none is named); unknown ids are a 404
    rather than a comparison of fewer runs than asked for."""
    wanted = request.query_params.getlist("run")
    if not wanted:
        return rooms
    by_id = {room.id: room for room in rooms}
    if any(room_id not in by_id for room_id in wanted):
        raise HTTPException(404)
    return [by_id[room_id] for room_id in dict.fromkeys(wanted)]


async def session_runs(request: Request, error: str | None = None) -> Response:
    facilitator(request)
    session_id, rooms = await _runs(request)
    lang, title = _language(request, session_id, rooms)
    facts = [await run_facts(room) for room in rooms]
    runs = [
        {
            **_run_label(index, fact.code, fact.started),
            "id": fact.id,
            "ended": _when(fact.ended),
            "participants": fact.participants,
            "answers": fact.answers,
        }
        for index, fact in enumerate(facts)
    ]
    return render(
        request,
        "console/session.html",
        lang,
        status_code=400 if error else 200,
        session_id=session_id,
        title=title,
        runs=runs,
        error=translate(lang, error) if error else None,
    )


async def compare_page(request: Request) -> Response:
    facilitator(request)
    session_id, rooms = await _runs(request)
    chosen = _chosen(request, rooms)
    if len(chosen) < 2:
        return await session_runs(request, N_("Choose two or more runs to compare."))
    lang, title = _language(request, session_id, rooms)
    comparison = await compare_runs(chosen)
    runs = [
        {
            **_run_label(index, fact.code, fact.started),
            "id": fact.id,
            "participants": fact.participants,
            "answers": fact.answers,
        }
        for index, fact in enumerate(comparison.runs)
    ]
    return render(
        request,
        "console/compare.html",
        lang,
        session_id=session_id,
        title=title,
        runs=runs,
        sections=[
            {"question": question, "runs": [runs[index] for index in question.asked_in]}
            for question in comparison.questions
        ],
        query="&".join(f"run={run['id']}" for run in runs),
    )


async def session_export(request: Request) -> Response:
    """The chosen runs (all by default) as one CSV with run columns, or one workbook."""
    facilitator(request)
    session_id, rooms = await _runs(request)
    chosen = _chosen(request, rooms)
    if not chosen:
        raise HTTPException(404)
    name = f"poll-{session_id}-{len(chosen)}-runs"
    if request.path_params["format"] == "xlsx":
        return Response(
            await build_workbook(chosen),
            media_type=MEDIA_TYPE,
            headers={
                "content-disposition": f'attachment; filename="{workbook_filename(chosen)}"',
                "cache-control": "no-store",
            },
        )
    if request.path_params["format"] != "csv":
        raise HTTPException(404)
    kinds: dict[str, Kind] = {"answers": "answers", "summary": "summary"}
    kind = kinds.get(request.query_params.get("kind", "answers"))
    if kind is None:
        raise HTTPException(404)
    sep = ";" if request.query_params.get("sep") in (";", "semicolon") else ","

    return StreamingResponse(
        session_chunks(chosen, kind=kind, sep=sep),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}-{kind}.csv"',
            "cache-control": "no-store",
        },
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/console/session/{session_id}", session_runs, name="session_runs"),
        Route("/console/session/{session_id}/compare", compare_page, name="compare_runs"),
        Route(
            "/console/session/{session_id}/runs.{format:str}", session_export, name="session_export"
        ),
    ]
