"""The results report in the console: `/console/room/{id}/report` (the page) and
`…/report.html` (the same page as a download), behind the facilitator's sign-in.
`?hidden=1` includes the texts hidden during the session, marked."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from poll.report import build_report, filename
from poll.rooms import UnknownRoom
from poll.web.guard import facilitator
from poll.web.report import report_response
from poll.web.state import poll_state


async def console_report(request: Request) -> Response:
    facilitator(request)
    try:
        room = await poll_state(request).rooms.get(str(request.path_params["room_id"]))
    except UnknownRoom:
        raise HTTPException(404) from None
    include_hidden = request.query_params.get("hidden") == "1"
    response = report_response(await build_report(room, include_hidden=include_hidden))
    if request.url.path.endswith(".html"):
        name = filename(room)
        if include_hidden:
            name = name.replace("-report.html", "-report-with-hidden.html")
        response.headers["content-disposition"] = f'attachment; filename="{name}"'
    return response


def routes() -> list[BaseRoute]:
    return [
        Route("/console/room/{room_id}/report", console_report, name="console_report"),
        Route("/console/room/{room_id}/report.html", console_report, name="console_report_file"),
    ]
