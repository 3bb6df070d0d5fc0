"""Two runs of the sample session compared (both stores): the change in percentage
points of yes/no and choice questions, the means of the scale, a question whose
options changed between the runs left uncompared, and `poll export --session`."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from poll.cli import main
from poll.compare import QuestionComparison, compare_runs
from poll.rooms import Rooms
from poll.script import load_script
from poll.session_export import session_chunks
from poll.store.base import Store
from poll.store.sqlite import SqliteStore
from tests.store.conftest import backend, store
from tests.support.team_day import (
    FIRST_RUN,
    SAMPLE,
    SECOND_RUN,
    copy_sample,
    play,
    sample_script,
)

__all__ = ["backend", "store"]


def by_id(questions: list[QuestionComparison]) -> dict[str, QuestionComparison]:
    return {question.id: question for question in questions}


def rows(question: QuestionComparison) -> dict[str, dict[str, object]]:
    assert question.status == "compared" and question.data is not None
    return {row["label"]: row for row in question.data["rows"]}


async def test_two_runs_compared(store: Store) -> None:
    first = await play(store, FIRST_RUN)
    second = await play(store, SECOND_RUN)
    comparison = await compare_runs([second, first])  # any order: oldest first
    assert [run.id for run in comparison.runs] == [first.id, second.id]
    assert (comparison.runs[0].participants, comparison.runs[0].answers) == (4, 24)
    assert (comparison.runs[1].participants, comparison.runs[1].answers) == (5, 12)
    questions = by_id(comparison.questions)
    assert list(questions) == list(first.session.questions)

    on_track = rows(questions["on-track"])
    assert on_track["Yes"]["runs"] == [
        {"count": 3, "percent": 75.0},
        {"count": 1, "percent": 25.0},
    ]
    assert on_track["Yes"]["changes"] == [-50.0]
    assert on_track["No"]["changes"] == [50.0]

    best = rows(questions["best-part"])
    assert {label: row["changes"] for label, row in best.items()} == {
        "Planning": [-30.0],
        "Pairing": [15.0],
        "Reviews": [0.0],
        "Demos": [40.0],
        "Other": [-25.0],
    }
    assert questions["best-part"].data is not None
    assert questions["best-part"].data["respondents"] == [4, 5]

    felt = questions["how-it-felt"]
    assert felt.status == "compared" and felt.data is not None and felt.data["kind"] == "means"
    means = {row["id"]: row for row in felt.data["rows"]}
    workload, meetings = means["our-workload-is-manageable"], means["our-meetings-are-useful"]
    assert [cell["mean"] for cell in workload["runs"]] == [3.0, 4.5]
    assert workload["changes"] == [1.5]
    assert [cell["mean"] for cell in meetings["runs"]] == [3.3, 1.5]
    assert meetings["changes"] == [-1.8]
    learn = means["i-learn-something-new-every-week"]
    assert [cell["mean"] for cell in learn["runs"]] == [None, None] and learn["changes"] == [None]

    # Free-text types compare their summary rows side by side.
    words = rows(questions["one-word"])
    assert words["calm"]["runs"] == [{"count": 2, "percent": 50.0}, {"count": 0, "percent": 0.0}]


async def test_changed_options_are_not_compared(store: Store, tmp_path: Path) -> None:
    first = await play(store, FIRST_RUN)
    edited = SAMPLE.read_text(encoding="utf-8")
    edited = edited.replace(
        "options: [Planning, Pairing, Reviews, Demos]", "options: [Planning, Pairing, Retros]"
    ).replace(
        "prompt: Did we reach the goals we set for this quarter?",
        "prompt: Did we reach this quarter's goals?",
    )
    script = load_script(copy_sample(tmp_path, edited))
    answers = {
        "best-part": [{"choices": ["retros"]}],
        "on-track": [{"choice": "no"}],
    }
    second = await play(store, answers, script=script, rooms=Rooms(store, lambda: script))
    questions = by_id((await compare_runs([first, second])).questions)
    assert questions["best-part"].status == "changed" and questions["best-part"].data is None
    # A new prompt keeps the question comparable; the newest run's wording is shown.
    assert questions["on-track"].status == "compared"
    assert questions["on-track"].prompt == "Did we reach this quarter's goals?"
    assert rows(questions["on-track"])["No"]["changes"] == [75.0]


async def test_one_csv_of_both_runs(store: Store) -> None:
    first = await play(store, FIRST_RUN)
    second = await play(store, SECOND_RUN)
    data = b"".join([c async for c in session_chunks([second, first], kind="answers", sep=",")])
    table = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(table[0])[:4] == ["run", "run_started", "room_code", "session_id"]
    assert "votes" in table[0] and "points" in table[0]  # every type's columns
    assert [row["run"] for row in table] == [first.id] * 30 + [second.id] * 14
    assert {row["run_started"] for row in table if row["run"] == first.id} == {
        first.state.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    }
    summary = b"".join(
        [c async for c in session_chunks([first, second], kind="summary", sep=";")]
    ).decode("utf-8-sig")
    lines = summary.splitlines()
    assert lines[0].startswith("run;run_started;room_code;session_id;question_id")
    assert any(line.startswith(f"{second.id};") and ";Demos;2;40,0;5" in line for line in lines)


def test_export_session_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def runs() -> list[str]:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            script = sample_script()
            rooms = Rooms(store, lambda: script)
            made = [await play(store, answers, rooms=rooms) for answers in (FIRST_RUN, SECOND_RUN)]
            await rooms.create("gemengde-wijken")  # another session's run: left out
            return [room.id for room in made]
        finally:
            await store.close()

    first, second = asyncio.run(runs())
    url = f"sqlite:///{tmp_path}/poll.db"
    out = tmp_path / "runs.csv"
    assert main(["export", "--session", "team-day", "--store", url, "-o", str(out)]) == 0
    table = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert len(table) == 30 + 14 and {row["run"] for row in table} == {first, second}
    assert (
        main(["export", "--session", "team-day", "--runs", second, "--store", url, "-o", str(out)])
        == 0
    )
    assert {row["run"] for row in csv.DictReader(io.StringIO(out.read_text("utf-8-sig")))} == {
        second
    }
    book = tmp_path / "runs.xlsx"
    assert (
        main(
            ["export", "--session", "team-day", "--format", "xlsx", "--store", url, "-o", str(book)]
        )
        == 0
    )
    from openpyxl import load_workbook

    summary = load_workbook(book)["Summary"]
    assert [c.value for c in summary[1]][:3] == ["Run", "Run started (UTC)", "Code"]
    assert {row[0] for row in summary.iter_rows(min_row=2, values_only=True)} == {first, second}

    capsys.readouterr()
    assert main(["export", "--session", "nope", "--store", url]) == 1
    assert "no runs of session 'nope'" in capsys.readouterr().err
    assert main(["export", "--session", "team-day", "--runs", "9999999", "--store", url]) == 1
    assert "has no run with code or id '9999999'" in capsys.readouterr().err
    assert main(["export", "--store", url]) == 1
    assert "name a run" in capsys.readouterr().err


async def test_open_answers_compare_their_numbers(store: Store) -> None:
    first = await play(store, FIRST_RUN)
    second = await play(store, SECOND_RUN)
    change = by_id((await compare_runs([first, second])).questions)["one-change"]
    assert change.data == {"kind": "texts", "respondents": [2, 1], "texts": [2, 1]}


async def test_quiz_options_compare_in_points_with_the_right_one_marked(store: Store) -> None:
    first = await play(store, FIRST_RUN)
    second = await play(store, {"releases": [{"choice": "four", "nickname": "Cy"}]})
    releases = rows(by_id((await compare_runs([first, second])).questions)["releases"])
    assert releases["Twelve"]["correct"] is True and releases["Four"]["correct"] is False
    assert releases["Twelve"]["changes"] == [-50.0] and releases["Four"]["changes"] == [50.0]
