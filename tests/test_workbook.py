"""The Excel workbook of a run of the sample session (every question type): read back
with openpyxl on both stores, and by LibreOffice through `poll export --format xlsx`;
its numbers equal the CSV's, and no text cell can become a formula."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from poll.cli import main
from poll.export import export_chunks
from poll.rooms import Room
from poll.store.base import Store
from poll.store.sqlite import SqliteStore
from poll.workbook import SHEET_NAME_MAX, build_workbook, sheet_name
from tests.store.conftest import backend, store
from tests.support.team_day import FIRST_RUN, play

__all__ = ["backend", "store"]

PAYLOADS = ('=HYPERLINK("http://evil","x")', "+31 fewer meetings", "@SUM(A1)")


async def csv_of(room: Room, kind: str) -> list[dict[str, str]]:
    data = b"".join([chunk async for chunk in await export_chunks(room, kind=kind)])  # type: ignore[arg-type]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def unguarded(cell: str) -> str:
    """A CSV cell without the apostrophe that keeps a spreadsheet from running it."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@") else cell


def rows_of(sheet: Worksheet) -> list[tuple[object, ...]]:
    return list(sheet.iter_rows(min_row=2, values_only=True))


async def test_workbook_numbers_equal_the_csv(store: Store) -> None:
    room = await play(store, FIRST_RUN)
    data = await build_workbook([room])
    book = load_workbook(io.BytesIO(data))
    names = book.sheetnames
    questions = list(room.session.questions.values())
    assert names[0] == "Summary"
    assert len(names) == 1 + len(questions) + 1  # the summary, one per question, the leaderboard
    assert names[-1] == "Standings"
    for name in names:
        assert len(name) <= SHEET_NAME_MAX and not set(name) & set("[]:*?/\\")
    assert len({name.casefold() for name in names}) == len(names)

    summary = book["Summary"]
    header = [cell.value for cell in summary[1]]
    assert header[5:9] == ["Option", "Count", "% of respondents", "Respondents"]
    expected = await csv_of(room, "summary")
    got = rows_of(summary)
    assert len(got) == len(expected) > 20
    for row, want in zip(got, expected, strict=True):
        assert row[2] == want["question_id"] and row[5] == unguarded(want["option"])
        assert row[6] == int(want["count"])
        assert isinstance(row[7], int | float) and round(row[7] * 100, 1) == float(
            want["percent_of_respondents"]
        )
        assert row[8] == int(want["respondents"])
    assert summary.cell(row=2, column=8).number_format == "0.0%"
    assert summary.cell(row=1, column=1).font.bold
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:")
        assert sheet.column_dimensions["A"].width and sheet.column_dimensions["A"].width >= 6

    # One sheet per question: its answers, as in the answers CSV.
    answers = await csv_of(room, "answers")
    for number, question in enumerate(questions, start=2):
        sheet = book.worksheets[number - 1]
        want_answers = sorted(r["answer"] for r in answers if r["question_id"] == question.id)
        got_answers = sorted(str(row[1]) for row in rows_of(sheet))
        # The CSV guards formulas with an apostrophe; the workbook keeps the text.
        assert got_answers == sorted(map(unguarded, want_answers)), question.id
    choice = book.worksheets[1 + questions.index(room.session.questions["best-part"])]
    assert isinstance(choice.cell(row=2, column=3).value, object)
    assert choice.cell(row=2, column=3).number_format == "yyyy-mm-dd hh:mm:ss"

    board = book["Standings"]
    standings = await csv_of(room, "standings")
    assert [(r[3], r[4], r[7]) for r in rows_of(board)] == [
        (s["nickname"], int(s["score"]), float(s["seconds"])) for s in standings
    ]


async def test_text_cells_are_never_formulas(store: Store) -> None:
    room = await play(store, FIRST_RUN)
    data = await build_workbook([room])
    book = load_workbook(io.BytesIO(data))
    texts = {
        cell.value: cell.data_type
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    }
    for payload in PAYLOADS:
        assert texts.get(payload) == "s", payload
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets
        for name in sheets:
            assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


async def test_a_dutch_session_gets_a_dutch_workbook(store: Store) -> None:
    from poll.rooms import Rooms
    from tests.support.scripts import DUTCH, fixture_script

    script = fixture_script()
    room = await Rooms(store, lambda: script).create(DUTCH)
    book = load_workbook(io.BytesIO(await build_workbook([room])))
    assert book.sheetnames[0] == "Samenvatting"
    assert [c.value for c in book["Samenvatting"][1]][5:7] == ["Optie", "Aantal"]


def test_sheet_names_fit_excel() -> None:
    taken: set[str] = set()
    long = "What: is [the] best/worst * way? \\ to plan a quarter of work"
    first = sheet_name(long, taken)
    assert len(first) <= 31 and not set(first) & set("[]:*?/\\") and first.endswith("…")
    second = sheet_name(long, taken)
    assert second != first and second.endswith("(2)") and len(second) <= 31
    assert sheet_name("summary", {"summary"}) == "summary (2)"
    assert sheet_name("'''", set()) == "Sheet"


def _sqlite_run(tmp_path: Path) -> tuple[str, str]:
    async def run() -> str:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            return (await play(store, FIRST_RUN)).state.code
        finally:
            await store.close()

    return asyncio.run(run()), f"sqlite:///{tmp_path}/poll.db"


def test_export_format_xlsx_read_by_libreoffice(tmp_path: Path) -> None:
    """LibreOffice opens the workbook, and each sheet's numbers, as it shows them,
    are the summary CSV's."""
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("POLL_REQUIRE_LIBREOFFICE"):
            pytest.fail("soffice is not installed (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice is not installed (libreoffice-calc-nogui)")
    code, store = _sqlite_run(tmp_path)
    workbook = tmp_path / "results.xlsx"
    summary_csv = tmp_path / "summary.csv"
    standings_csv = tmp_path / "standings.csv"
    assert main(["export", code, "--store", store, "--format", "xlsx", "-o", str(workbook)]) == 0
    assert main(["export", code, "--store", store, "--summary", "-o", str(summary_csv)]) == 0
    assert main(["export", code, "--store", store, "--leaderboard", "-o", str(standings_csv)]) == 0
    out = tmp_path / "lo"
    profile = tmp_path / "lo-profile"
    # 44: comma, 34: quotes, 76: UTF-8; "true" at 9: cells as shown; -1: every sheet.
    options = "44,34,76,1,,0,false,true,true,false,false,-1"
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            f"csv:Text - txt - csv (StarCalc):{options}",
            "--outdir",
            str(out),
            str(workbook),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    made = sorted(path.name for path in out.iterdir())
    assert "results-Summary.csv" in made and "results-Standings.csv" in made
    assert len(made) == 11  # the summary, nine questions, the leaderboard

    shown = list(csv.reader(io.StringIO((out / "results-Summary.csv").read_text("utf-8"))))
    expected = list(csv.DictReader(io.StringIO(summary_csv.read_text("utf-8-sig"))))
    assert shown[0][5:9] == ["Option", "Count", "% of respondents", "Respondents"]
    assert len(shown) - 1 == len(expected)
    for row, want in zip(shown[1:], expected, strict=True):
        assert row[5] == unguarded(want["option"])
        assert row[6] == want["count"] and row[8] == want["respondents"]
        assert row[7] == want["percent_of_respondents"] + "%"
    board = list(csv.reader(io.StringIO((out / "results-Standings.csv").read_text("utf-8"))))
    players = list(csv.DictReader(io.StringIO(standings_csv.read_text("utf-8-sig"))))
    assert [(row[2], row[3], row[4], row[7]) for row in board[1:]] == [
        (p["place"], p["nickname"], p["score"], p["seconds"]) for p in players
    ]
    answers = "\n".join(p.read_text("utf-8") for p in out.glob("results-*.csv"))
    for payload in PAYLOADS:
        # Shown as the participant typed it, never evaluated ("2", a link).
        assert payload.replace('"', '""') in answers
