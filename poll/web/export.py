"""The console's CSV download: a run's results (see `poll.export`) as a streamed response."""

from __future__ import annotations

from starlette.responses import StreamingResponse

from poll.export import Kind, export_chunks, filename
from poll.rooms import Room


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
