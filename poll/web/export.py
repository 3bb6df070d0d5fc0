"""The console's downloads: a run's results as CSV (see `poll.export`), streamed, or as
an Excel workbook (see `poll.workbook`)."""

from __future__ import annotations

from starlette.responses import Response, StreamingResponse

from poll.export import Kind, export_chunks, filename
from poll.rooms import Room
from poll.workbook import MEDIA_TYPE, build_workbook, workbook_filename


async def csv_response(room: Room, *, kind: Kind, sep: str) -> StreamingResponse:
    chunks = await export_chunks(room, kind=kind, sep=sep)
    name = filename(room, kind=kind, sep=sep)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def workbook_response(room: Room) -> Response:
    name = workbook_filename([room])
    return Response(
        await build_workbook([room]),
        media_type=MEDIA_TYPE,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
