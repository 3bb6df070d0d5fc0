"""The console's CSV download: a run's results (see `poll.export`) as a streamed response."""

from __future__ import annotations

from starlette.responses import StreamingResponse

from poll.export import export_chunks, filename
from poll.rooms import Room


async def csv_response(room: Room, *, summary: bool, sep: str) -> StreamingResponse:
    chunks = await export_chunks(room, summary=summary, sep=sep)
    name = filename(room, summary=summary)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )
