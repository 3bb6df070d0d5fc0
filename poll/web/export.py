"""Results as CSV: one row per answer value, or a summary per option.

Written for spreadsheets: UTF-8 with a byte-order mark (Excel needs it to
read UTF-8), `;` on request (Dutch Excel expects it, with decimal commas),
RFC 4180 quoting by the csv module, and cells that a spreadsheet would run as
a formula (= + - @, tab, CR) neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import BinaryIO

from starlette.responses import StreamingResponse

from poll.questions import Aggregate, Question
from poll.rooms import Room
from poll.store.base import Store
from poll.web.auth import pseudonym

BOM = "\ufeff"
RESPONSE_HEADER = [
    "room_code",
    "session_id",
    "question_id",
    "question",
    "question_type",
    "participant",
    "answer",
    "answered_at",
    "hidden",
]
SUMMARY_HEADER = [
    "room_code",
    "session_id",
    "question_id",
    "question",
    "question_type",
    "option",
    "count",
    "percent_of_respondents",
    "respondents",
]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Rows written per chunk of the streamed download.
BATCH = 500


def neutralise(cell: object) -> str:
    """A cell as text that no spreadsheet will run as a formula."""
    text = "" if cell is None else str(cell)
    if isinstance(cell, str) and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def response_rows(room: Room, store: Store) -> AsyncIterator[list[object]]:
    questions = room.session.questions
    code, session_id = room.state.code, room.session.id
    async for response in store.responses(room.id):
        question: Question | None = questions.get(response.question_id)
        if question is None:  # not possible with a room's own copy, but never lose data
            values = list(response.answer.keys) or [response.answer.text or ""]
            prompt, kind = response.question_id, ""
        else:
            values = question.csv_values(response.answer)
            prompt, kind = question.prompt, question.type_name
        for value in values:
            yield [
                code,
                session_id,
                response.question_id,
                prompt,
                kind,
                pseudonym(room.id, response.participant),
                value,
                iso_utc(response.answered_at),
                "yes" if response.hidden else "no",
            ]


async def summary_rows(room: Room, store: Store, decimal: str = ".") -> list[list[object]]:
    aggregates = await store.aggregates(room.id)
    code, session_id = room.state.code, room.session.id
    rows: list[list[object]] = []
    for question in room.session.questions.values():
        # A question nobody answered tallies as zeros, like any other.
        tally = question.tally(aggregates.get(question.id, Aggregate()))
        respondents = tally["respondents"]
        base = [code, session_id, question.id, question.prompt, question.type_name]
        if tally["kind"] == "bars":
            for option in tally["options"]:
                percent = f"{option['percent']:.1f}".replace(".", decimal)
                rows.append([*base, option["label"], option["count"], percent, respondents])
        else:
            percent = f"{100.0 if respondents else 0.0:.1f}".replace(".", decimal)
            rows.append([*base, "(text answers)", tally["count"], percent, respondents])
    return rows


async def _aiter(rows: Iterable[list[object]]) -> AsyncIterator[list[object]]:
    for row in rows:
        yield row


async def csv_chunks(
    header: list[str], rows: AsyncIterator[list[object]], sep: str = ","
) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(header)
    count = 0
    async for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


async def export_chunks(
    room: Room, store: Store, *, summary: bool, sep: str = ","
) -> AsyncIterator[bytes]:
    if summary:
        decimal = "," if sep == ";" else "."
        rows = _aiter(await summary_rows(room, store, decimal))
        return csv_chunks(SUMMARY_HEADER, rows, sep)
    return csv_chunks(RESPONSE_HEADER, response_rows(room, store), sep)


def filename(room: Room, *, summary: bool) -> str:
    day = room.state.created_at.astimezone(UTC).strftime("%Y-%m-%d")
    kind = "summary" if summary else "responses"
    return f"poll-{room.session.id}-{room.state.code}-{day}-{kind}.csv"


async def csv_response(store: Store, room: Room, *, summary: bool, sep: str) -> StreamingResponse:
    chunks = await export_chunks(room, store, summary=summary, sep=sep)
    name = filename(room, summary=summary)
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


async def write_csv(room: Room, store: Store, out: BinaryIO, *, summary: bool, sep: str) -> None:
    async for chunk in await export_chunks(room, store, summary=summary, sep=sep):
        out.write(chunk)
