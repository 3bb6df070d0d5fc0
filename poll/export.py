"""A run's results as CSV: one row per answer value, a summary per option, or the
leaderboard (one row per player).

Written for spreadsheets: UTF-8 with a byte-order mark (Excel needs it to
read UTF-8), `;` on request (Dutch Excel expects it, with decimal commas),
RFC 4180 quoting by the csv module, and cells that a spreadsheet would run as
a formula (= + - @, tab, CR) neutralised with a leading apostrophe.

The same bytes reach the console's download (`poll.web.export` streams them)
and `poll export` (which writes them to a file), so this module reads the run
through its `Room` and knows nothing of HTTP.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import unicodedata
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime
from typing import BinaryIO, Literal

from poll.answers import Aggregate
from poll.questions import Question
from poll.questions.base import SCORE_COLUMNS
from poll.rooms import Room
from poll.standings import seconds_between
from poll.text import INVISIBLE

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
LEADERBOARD_HEADER = [
    "room_code",
    "session_id",
    "place",
    "nickname",
    "score",
    "correct",
    "answered",
    "seconds",
    "participant",
]
#: The three files: every answer, counts per option, the players' standings.
Kind = Literal["answers", "summary", "standings"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Rows written per chunk of the streamed download.
BATCH = 500


def neutralise(cell: object) -> str:
    """A cell as text that no spreadsheet will run as a formula.

    The check looks past leading spaces and invisible characters: answers are
    cleaned of them when they come in, but a store may hold older ones, and a
    spreadsheet may drop them and read what follows as a formula.
    """
    text = "" if cell is None else str(cell)
    if isinstance(cell, str) and _visible_start(text).startswith(_FORMULA_START):
        return "'" + text
    return text


def _visible_start(text: str) -> str:
    for index, char in enumerate(text):
        if char in _FORMULA_START:
            return text[index:]
        if char in INVISIBLE or char.isspace() or unicodedata.category(char) == "Cf":
            continue
        return text[index:]
    return ""


def pseudonym(room_id: str, participant: str) -> str:
    """A short stable name for a participant within one room, for CSV files.

    Hashed with the room id so that the same phone cannot be followed from
    one run to the next, and the cookie id itself never leaves the server.
    """
    digest = hashlib.sha256(f"{room_id}:{participant}".encode()).hexdigest()
    return f"p-{digest[:8]}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def extra_columns(room: Room) -> list[str]:
    """The columns the session's question types add to the answers CSV, in the
    order the types first appear (none for most sessions)."""
    columns: list[str] = []
    for question in room.session.questions.values():
        columns.extend(c for c in question.csv_columns if c not in columns)
    return columns


def response_header(room: Room) -> list[str]:
    return [*RESPONSE_HEADER, *extra_columns(room)]


async def response_rows(room: Room, decimal: str = ".") -> AsyncIterator[list[object]]:
    questions = room.session.questions
    opened_at = room.state.opened_at
    code, session_id = room.state.code, room.session.id
    extra = extra_columns(room)
    # Read before the answers: a type's cells may depend on the question's counters.
    aggregates = await room.aggregates()
    async for response in room.responses():
        question: Question | None = questions.get(response.question_id)
        if question is None:  # not possible with a room's own copy, but never lose data
            values = list(response.answer.keys) or [response.answer.text or ""]
            rows = [{"answer": value} for value in values]
            prompt, kind = response.question_id, ""
        else:
            answer = response.answer
            if answer.ref is None:
                answer = dataclasses.replace(answer, ref=response.ref)
            aggregate = aggregates.get(response.question_id, Aggregate())
            rows = question.csv_rows(answer, aggregate)
            prompt, kind = question.prompt, question.csv_type
            opened = opened_at.get(response.question_id)
            if question.scored and opened is not None:
                # The same time and points as the leaderboard counts (poll.standings),
                # in the columns every scored type lists (SCORE_COLUMNS).
                seconds = seconds_between(opened, response.answered_at)
                score = question.score(response.answer, seconds)
                if score is not None:
                    correct, taken, points = SCORE_COLUMNS
                    cells = {
                        correct: "yes" if score.correct else "no",
                        taken: f"{seconds:.3f}".replace(".", decimal),
                        points: str(score.points),
                    }
                    rows = [row | cells for row in rows]
        for row in rows:
            yield [
                code,
                session_id,
                response.question_id,
                prompt,
                kind,
                pseudonym(room.id, response.participant),
                row.get("answer", ""),
                iso_utc(response.answered_at),
                "yes" if response.hidden else "no",
                *(row.get(column, "") for column in extra),
            ]


async def summary_rows(room: Room, decimal: str = ".") -> list[list[object]]:
    aggregates = await room.aggregates()
    code, session_id = room.state.code, room.session.id
    rows: list[list[object]] = []
    for question in room.session.questions.values():
        # A question nobody answered tallies as zeros, like any other; what a row
        # counts (an option, the texts) is the question type's choice.
        aggregate = aggregates.get(question.id, Aggregate())
        base = [code, session_id, question.id, question.prompt, question.csv_type]
        for label, count, share in question.summary(aggregate):
            percent = f"{share:.1f}".replace(".", decimal)
            rows.append([*base, label, count, percent, aggregate.respondents])
    return rows


async def leaderboard_rows(room: Room, decimal: str = ".") -> list[list[object]]:
    """Every player, best first, as the leaderboard ranks them (poll.standings)."""
    standings = await room.standings()
    code, session_id = room.state.code, room.session.id
    return [
        [
            code,
            session_id,
            entry.place,
            entry.name,
            entry.score,
            entry.correct,
            entry.answered,
            f"{entry.seconds:.3f}".replace(".", decimal),
            pseudonym(room.id, entry.participant),
        ]
        for entry in standings.entries
    ]


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


async def export_chunks(room: Room, *, kind: Kind, sep: str = ",") -> AsyncIterator[bytes]:
    # Dutch Excel, which wants ';', also wants decimal commas.
    decimal = "," if sep == ";" else "."
    if kind == "summary":
        rows = _aiter(await summary_rows(room, decimal))
        return csv_chunks(SUMMARY_HEADER, rows, sep)
    if kind == "standings":
        return csv_chunks(LEADERBOARD_HEADER, _aiter(await leaderboard_rows(room, decimal)), sep)
    return csv_chunks(response_header(room), response_rows(room, decimal), sep)


def filename(room: Room, *, kind: Kind, sep: str = ",") -> str:
    """`poll-SESSION-CODE-DAY-answers.csv`; the `;` file for Dutch Excel ends in
    `-excel-nl.csv`, so that both can sit in one folder."""
    day = room.state.created_at.astimezone(UTC).strftime("%Y-%m-%d")
    flavour = "-excel-nl" if sep == ";" else ""
    return f"poll-{room.session.id}-{room.state.code}-{day}-{kind}{flavour}.csv"


async def write_csv(room: Room, out: BinaryIO, *, kind: Kind, sep: str) -> None:
    """Write the whole CSV to `out` (`poll export`)."""
    async for chunk in await export_chunks(room, kind=kind, sep=sep):
        out.write(chunk)
