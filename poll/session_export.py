"""Several runs of one session as one CSV file: the rows of each run's own CSV
(`poll.export`), each led by the run it belongs to (`run`, `run_started`).

The runs' scripts may differ (each run keeps its own copy): the answers file has
the columns of every question type any of the runs used, in the order they first
appear, and a run's rows leave the others' columns empty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC
from typing import BinaryIO

from poll.export import (
    LEADERBOARD_HEADER,
    SUMMARY_HEADER,
    Kind,
    csv_chunks,
    leaderboard_rows,
    response_header,
    response_rows,
    summary_rows,
)
from poll.rooms import Room

#: The columns that name the run, first in each row of a several-run export.
RUN_HEADER = ["run", "run_started"]


def run_cells(room: Room) -> list[object]:
    """The `RUN_HEADER` cells of a run: its id, and when it started (UTC, ISO 8601)."""
    started = room.state.created_at.astimezone(UTC)
    return [room.id, started.isoformat(timespec="seconds").replace("+00:00", "Z")]


def oldest_first(rooms: Sequence[Room]) -> list[Room]:
    return sorted(rooms, key=lambda room: room.state.created_at)


def answers_header(rooms: Sequence[Room]) -> list[str]:
    header: list[str] = []
    for room in rooms:
        header.extend(c for c in response_header(room) if c not in header)
    return header


async def _rows(
    rooms: Sequence[Room], kind: Kind, header: list[str], decimal: str
) -> AsyncIterator[list[object]]:
    for room in rooms:
        lead = run_cells(room)
        if kind == "summary":
            for row in await summary_rows(room, decimal):
                yield [*lead, *row]
        elif kind == "standings":
            for row in await leaderboard_rows(room, decimal):
                yield [*lead, *row]
        else:
            own = response_header(room)
            async for row in response_rows(room, decimal):
                cells = dict(zip(own, row, strict=True))
                yield [*lead, *(cells.get(column, "") for column in header)]


def session_header(rooms: Sequence[Room], kind: Kind) -> list[str]:
    if kind == "summary":
        return [*RUN_HEADER, *SUMMARY_HEADER]
    if kind == "standings":
        return [*RUN_HEADER, *LEADERBOARD_HEADER]
    return [*RUN_HEADER, *answers_header(rooms)]


def session_chunks(rooms: Sequence[Room], *, kind: Kind, sep: str) -> AsyncIterator[bytes]:
    """One CSV of the runs, oldest first, in chunks (the console's download)."""
    decimal = "," if sep == ";" else "."
    ordered = oldest_first(rooms)
    header = session_header(ordered, kind)
    columns = header[len(RUN_HEADER) :]
    return csv_chunks(header, _rows(ordered, kind, columns, decimal), sep)


async def write_session_csv(rooms: Sequence[Room], out: BinaryIO, *, kind: Kind, sep: str) -> None:
    """Write one CSV of the runs (`poll export --session`)."""
    async for chunk in session_chunks(rooms, kind=kind, sep=sep):
        out.write(chunk)
