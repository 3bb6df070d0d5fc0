"""Results as an Excel workbook: a summary sheet, one sheet per question, and the
leaderboard when the session scores answers.

The cells come from the same rows as the CSV files (`poll.export`), so a
workbook and the CSV of a run always hold the same numbers; what the workbook
adds is what a spreadsheet needs to work with them: counts and times as numbers,
shares as percentages (a number with a `0.0%` format), answer times as dates,
a frozen header row with a filter, column widths, and headers and sheet names
in the session's language.

Formula injection is impossible by construction: every text cell is written
with the string data type, whatever it starts with, so `=HYPERLINK(...)` is
shown as those characters and never evaluated. (The CSV needs an apostrophe
for that; the workbook keeps the participant's text as she wrote it.)

Several runs of one session make one workbook too (`poll export --session`):
each row then starts with the run it belongs to (`poll.session_export.RUN_HEADER`).
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell, MergedCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from poll.export import (
    LEADERBOARD_HEADER,
    SUMMARY_HEADER,
    leaderboard_rows,
    response_header,
    response_rows,
    summary_rows,
)
from poll.i18n import N_, translate
from poll.questions import Question
from poll.rooms import Room
from poll.session_export import RUN_HEADER, oldest_first, run_cells

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

#: What the workbook calls each CSV column (a catalogue message id); a column a
#: question type adds and that is not listed here keeps its CSV name.
COLUMN_LABELS: dict[str, str] = {
    "run": N_("Run"),
    "run_started": N_("Run started (UTC)"),
    "room_code": N_("Code"),
    "session_id": N_("Session"),
    "question_id": N_("Question id"),
    "question": N_("Question"),
    "question_type": N_("Question type"),
    "participant": N_("Participant"),
    "answer": N_("Answer"),
    "answered_at": N_("Answered at (UTC)"),
    "hidden": N_("Hidden"),
    "option": N_("Option"),
    "count": N_("Count"),
    "percent_of_respondents": N_("% of respondents"),
    "respondents": N_("Respondents"),
    "place": N_("Place"),
    "nickname": N_("Nickname"),
    "score": N_("Score"),
    "correct": N_("Correct"),
    "answered": N_("Answered"),
    "seconds": N_("Seconds"),
    "points": N_("Points"),
    "name": N_("Name"),
    "votes": N_("Votes"),
    "state": N_("State"),
}
#: Columns whose cells are numbers in the CSV too (written as text there).
NUMBER_COLUMNS = frozenset(
    {"count", "respondents", "place", "score", "correct", "answered", "seconds", "points", "votes"}
)
#: Columns of yes/no cells, shown in the session's language.
YES_NO_COLUMNS = frozenset({"hidden", "correct"})
#: The columns of a question's own sheet, besides those its type adds.
QUESTION_COLUMNS = ["participant", "answer", "answered_at", "hidden"]

HEADER_FONT = Font(bold=True)
PERCENT_FORMAT = "0.0%"
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
SECONDS_FORMAT = "0.000"
MIN_WIDTH, MAX_WIDTH = 6, 60
#: Excel's rules for sheet names: at most 31 characters, none of these.
SHEET_NAME_MAX = 31
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """A sheet name Excel accepts, unique (case-insensitively) among `taken`, which
    it joins: forbidden characters become spaces, long titles are cut with `…`."""
    clean = re.sub(r"\s+", " ", SHEET_NAME_FORBIDDEN.sub(" ", title)).strip().strip("'")
    clean = clean or "Sheet"
    number = 1
    while True:
        suffix = f" ({number})" if number > 1 else ""
        room = SHEET_NAME_MAX - len(suffix)
        base = clean if len(clean) <= room else clean[: room - 1].rstrip() + "…"
        name = base + suffix
        if name.casefold() not in taken:
            taken.add(name.casefold())
            return name
        number += 1


def _number(text: object) -> int | float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return text
    try:
        return int(str(text))
    except ValueError:
        pass
    try:
        return float(str(text))
    except ValueError:
        return None


def _time(text: object) -> datetime | None:
    """An ISO time as Excel keeps it: without a zone (the header says UTC)."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class _Sheet:
    """One sheet being filled: typed cells, and the widest text per column."""

    def __init__(self, sheet: Worksheet, columns: Sequence[str], lang: str) -> None:
        self.sheet = sheet
        self.columns = list(columns)
        self.lang = lang
        self.widths = [0] * len(self.columns)
        self.rows = 0
        self._append([translate(lang, COLUMN_LABELS.get(c, c)) for c in self.columns])
        for cell in sheet[1]:
            cell.font = HEADER_FONT

    def add(self, values: Sequence[object]) -> None:
        self._append(values, typed=True)

    def _append(self, values: Sequence[object], typed: bool = False) -> None:
        self.rows += 1
        for index, (column, value) in enumerate(zip(self.columns, values, strict=True)):
            cell = self.sheet.cell(row=self.rows, column=index + 1)
            shown = self._write(cell, column, value) if typed else self._text(cell, value)
            self.widths[index] = max(self.widths[index], len(shown))

    def _text(self, cell: Cell | MergedCell, value: object) -> str:
        text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
        cell.value = text
        # Set after the value: openpyxl would have taken a leading '=' for a formula.
        cell.data_type = "s"
        return text

    def _write(self, cell: Cell | MergedCell, column: str, value: object) -> str:
        if value == "" or value is None:
            return ""
        if column == "percent_of_respondents":
            share = _number(value)
            if share is not None:
                cell.value = share / 100
                cell.number_format = PERCENT_FORMAT
                return f"{share}%"
        if column in ("answered_at", "run_started"):
            moment = _time(value)
            if moment is not None:
                cell.value = moment
                cell.number_format = TIME_FORMAT
                return TIME_FORMAT
        if column in YES_NO_COLUMNS and value in ("yes", "no"):
            return self._text(cell, translate(self.lang, N_("Yes") if value == "yes" else N_("No")))
        if column in NUMBER_COLUMNS:
            number = _number(value)
            if number is not None:
                cell.value = number
                if column == "seconds":
                    cell.number_format = SECONDS_FORMAT
                return str(value)
        return self._text(cell, value)

    def finish(self) -> None:
        self.sheet.freeze_panes = "A2"
        last = get_column_letter(max(1, len(self.columns)))
        self.sheet.auto_filter.ref = f"A1:{last}{max(1, self.rows)}"
        for index, width in enumerate(self.widths):
            letter = get_column_letter(index + 1)
            # +3 leaves room for the filter button beside the header.
            self.sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(MIN_WIDTH, width + 3))


def _questions(rooms: Sequence[Room]) -> list[Question]:
    """The questions of the runs, matched by id: in the order of the newest run's
    script, then any that only older runs asked."""
    found: dict[str, Question] = {}
    for room in sorted(rooms, key=lambda r: r.state.created_at, reverse=True):
        for question in room.session.questions.values():
            found.setdefault(question.id, question)
    return list(found.values())


async def build_workbook(rooms: Sequence[Room]) -> bytes:
    """The workbook of one run, or of several runs of one session (with run columns)."""
    if not rooms:
        raise ValueError("a workbook needs at least one run")
    several = len(rooms) > 1
    rooms = oldest_first(rooms)
    lead = RUN_HEADER if several else []
    lang = rooms[0].session.language
    book = Workbook()
    taken: set[str] = set()

    first = book.active
    assert isinstance(first, Worksheet)  # a new workbook starts with one worksheet
    summary = _Sheet(first, [*lead, *SUMMARY_HEADER], lang)
    summary.sheet.title = sheet_name(translate(lang, N_("Summary")), taken)
    for room in rooms:
        prefix = run_cells(room) if several else []
        for row in await summary_rows(room):
            summary.add([*prefix, *row])
    summary.finish()

    sheets: dict[str, _Sheet] = {}
    for number, question in enumerate(_questions(rooms), start=1):
        extra = [c for c in question.csv_columns if c not in QUESTION_COLUMNS]
        sheet = book.create_sheet(sheet_name(f"{number}. {question.prompt}", taken))
        sheets[question.id] = _Sheet(sheet, [*lead, *QUESTION_COLUMNS, *extra], lang)
    for room in rooms:
        prefix = run_cells(room) if several else []
        header = response_header(room)
        async for row in response_rows(room):
            cells = dict(zip(header, row, strict=True))
            target = sheets.get(str(cells["question_id"]))
            if target is not None:
                columns = target.columns[len(lead) :]
                target.add([*prefix, *(cells.get(c, "") for c in columns)])
    for target in sheets.values():
        target.finish()

    if any(q.scored for room in rooms for q in room.session.questions.values()):
        board = book.create_sheet(sheet_name(translate(lang, N_("Standings")), taken))
        standings = _Sheet(board, [*lead, *LEADERBOARD_HEADER], lang)
        for room in rooms:
            prefix = run_cells(room) if several else []
            for row in await leaderboard_rows(room):
                standings.add([*prefix, *row])
        standings.finish()

    out = io.BytesIO()
    # Zipping a large run's sheets takes a while: not on the server's event loop.
    await asyncio.to_thread(book.save, out)
    return out.getvalue()


def workbook_filename(rooms: Sequence[Room]) -> str:
    first = rooms[0]
    day = first.state.created_at.astimezone(UTC).strftime("%Y-%m-%d")
    if len(rooms) > 1:
        return f"poll-{first.session.id}-{len(rooms)}-runs.xlsx"
    return f"poll-{first.session.id}-{first.state.code}-{day}.xlsx"
