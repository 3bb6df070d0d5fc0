"""The load benchmark's workloads (bench/workloads.py): one per question type.

First without a server: every workload's question is in the bench's script,
its answers are what poll's own validation accepts, and what it reads from
poll's own results and CSV cells for those answers is what it expects. Then
each workload runs with 30 phones against one real `poll serve` (half of them
answering a second time) and nothing may be lost or doubled.
"""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import workloads
from bench.load import SESSION, SESSIONS, compare
from poll.answers import Aggregate, Answer, TextEntry
from poll.export import neutralise
from poll.questions import REGISTRY, Question
from poll.script import load_script
from tests.bench.runs import run_load
from tests.support.processes import Reaper
from tests.support.servers import TOKEN, PollServer

ROOT = Path(__file__).resolve().parents[2]
PHONES = 30
#: Half the phones answer again: enough second answers in a run of 30.
CHANGE_SHARE = 0.5
#: The workloads whose phones answer a question; the slide workloads only look.
NAMES = [name for name in workloads.names() if workloads.get(name).answers]
LOOKING = [name for name in workloads.names() if not workloads.get(name).answers]


def bench_question(name: str) -> Question:
    session = load_script(SESSIONS).sessions[SESSION]
    question = session.questions[workloads.get(name).question_id]
    assert isinstance(question, Question)
    return question


def test_every_question_type_of_poll_has_a_workload() -> None:
    # A new question type gets a workload too: see the docstring of bench/workloads.py.
    types = sorted(name for name, cls in REGISTRY.items() if issubclass(cls, Question))
    assert sorted(NAMES) == types


@pytest.mark.parametrize("name", NAMES)
def test_the_workloads_question_is_in_the_bench_script(name: str) -> None:
    workload = workloads.get(name)
    session = load_script(SESSIONS).sessions[SESSION]
    ids = [item.id for item in session.items]
    assert workload.question_id in ids[:-1], "its question, followed by another item"
    assert session.questions[workload.question_id].type_name == name
    assert session.language == "en"


def stored(question: Question, sent: list[dict[str, Any]]) -> list[Answer]:
    """The answers as a store keeps them: validated, each with a ref of its own."""
    return [
        dataclasses.replace(question.validate(workloads.sendable(answer)), ref=f"r{n}")
        for n, answer in enumerate(sent)
    ]


def aggregate_of(answers: list[Answer], respondents: int) -> Aggregate:
    """What a store counts for these answers (one phone each, or as many as given)."""
    return Aggregate(
        respondents=respondents,
        counts=Counter(key for answer in answers for key in answer.keys),
        texts=tuple(
            TextEntry(ref=str(answer.ref), text=answer.text)
            for answer in answers
            if answer.text is not None
        ),
    )


def answers_of(
    workload: workloads.Workload, question: Question, n: int
) -> tuple[list[dict[str, Any]], list[Answer]]:
    """n phones' first answers, then second ones from a quarter of them, each second
    answer made knowing the phones' results after the first ones (a Q&A board) and the
    phone's own answer (with its ref, as an ack gives it); and all of them as stored."""
    item = question.client_view()
    rng = random.Random(7)
    first = [workload.answer(item, rng, phone, 1) for phone in range(n)]
    kept = stored(question, first)
    board = question.results_for(aggregate_of(kept, n), "participant")
    changed = [
        workload.change(
            item, rng, phone, first[phone], workloads.Seen(board, (kept[phone].to_json(),))
        )
        for phone in range(n // 4)
    ]
    sent = first + changed
    return sent, stored(question, sent)


@pytest.mark.parametrize("name", NAMES)
def test_poll_accepts_every_answer_and_a_change_is_another_answer(name: str) -> None:
    workload, question = workloads.get(name), bench_question(name)
    item = question.client_view()
    _, kept = answers_of(workload, question, 200)  # raises AnswerRefused for a wrong shape
    first, second = kept[:200], kept[200:]
    assert len(second) == 50
    for phone, answer in enumerate(second):
        assert answer != first[phone]
    # Every type here takes a second answer but the quiz: one answer, no change.
    assert workload.may_change(item) is (name != "quiz")


@pytest.mark.parametrize("name", NAMES)
def test_what_poll_tallies_and_exports_reads_back_as_the_answers(name: str) -> None:
    """poll's own results (console) and CSV rows for a set of answers read back as
    exactly the units those answers add up to."""
    workload, question = workloads.get(name), bench_question(name)
    item = question.client_view()
    sent, kept = answers_of(workload, question, 120)
    aggregate = aggregate_of(kept, 120)
    expected = Counter(unit for answer in sent for unit in workload.units(item, answer))
    assert len(expected) > 1, "the answers vary"

    results = question.results_for(aggregate, "console")
    assert +workload.from_results(item, results) == expected
    assert results["respondents"] == 120

    rows = [
        {column: neutralise(cell) for column, cell in row.items()}
        for answer in kept
        for row in question.csv_rows(answer, aggregate)
    ]
    assert workload.from_csv(item, rows) == expected


def test_a_cell_nobody_sent_counts_as_doubled_and_a_missing_one_as_lost() -> None:
    workload, question = workloads.get("yesno"), bench_question("yesno")
    item = question.client_view()
    expected = Counter({"yes": 2, "no": 1})
    rows = [{"answer": cell} for cell in ("Yes", "No", "Maybe")]
    assert compare(expected, workload.from_csv(item, rows)) == {
        "lost": 1,
        "doubled": 1,
    }


def vote(participant: int, sent: float, answer: dict[str, Any], status: str) -> dict[str, Any]:
    return {"participant": participant, "sent": sent, "answer": answer, "status": status}


def test_replace_counts_each_phones_last_acknowledged_answer() -> None:
    workload = workloads.get("open")
    item = {"id": "q", "answer_mode": "replace", "max_entries": 1, "allow_change": True}
    votes = [
        vote(1, 2.0, {"text": "b"}, "saved"),
        vote(1, 1.0, {"text": "a"}, "saved"),
        vote(2, 1.0, {"text": "c"}, "duplicate"),
        vote(2, 3.0, {"text": "d"}, "refused:voting_closed"),
        vote(3, 1.0, {"text": "e"}, "timeout"),
    ]
    expected = workload.expected(item, votes)
    assert expected.units == Counter({"b": 1, "c": 1})
    assert expected.respondents == 2


def test_append_counts_every_acknowledged_entry() -> None:
    workload = workloads.get("open")
    item = {"id": "q", "answer_mode": "append", "max_entries": 3}
    votes = [
        vote(1, 1.0, {"text": "a"}, "saved"),
        vote(1, 2.0, {"text": "b"}, "saved"),
        vote(2, 1.0, {"text": "c"}, "refused:too_many_answers"),
        vote(3, 1.0, {"text": "d"}, "saved"),
    ]
    expected = workload.expected(item, votes)
    assert expected.units == Counter({"a": 1, "b": 1, "d": 1})
    assert expected.respondents == 2
    assert workload.may_change(item)
    assert not workload.may_change({"answer_mode": "append", "max_entries": 1})
    assert not workload.may_change({"answer_mode": "replace", "allow_change": False})


def test_a_qa_phone_upvotes_another_phones_question_from_its_board() -> None:
    workload, question = workloads.get("qa"), bench_question("qa")
    sent, kept = answers_of(workload, question, 40)
    upvotes = [(phone, answer) for phone, answer in enumerate(sent[40:]) if "up" in answer]
    assert len(upvotes) == 10, "every second thought upvotes while the board has questions"
    for phone, answer in upvotes:
        assert answer["up"] != kept[phone].ref, "never her own question"
    empty = workloads.Seen({"questions": []}, ())
    again = workload.change(question.client_view(), random.Random(1), 3, sent[3], empty)
    assert "up" not in again and again["text"].startswith("Question 3.2: ")


def test_a_qa_upvote_sent_twice_is_taken_back() -> None:
    workload = workloads.get("qa")
    item = {"id": "qa", "answer_mode": "append", "max_entries": 3}
    ask = {"text": "Question 1.1: who pays", "name": "Ann"}
    up = {"up": "7", "_question": "Question 2.1: when"}
    votes = [
        vote(1, 1.0, ask, "saved"),
        vote(1, 2.0, up, "saved"),
        vote(1, 3.0, up, "saved"),
        vote(2, 1.0, {"text": "Question 2.1: when", "name": ""}, "saved"),
        vote(2, 2.0, {"up": "3", "_question": "Question 1.1: who pays"}, "saved"),
    ]
    expected = workload.expected(item, votes)
    assert expected.units == Counter(
        {
            "question: Question 1.1: who pays (by Ann)": 1,
            "question: Question 2.1: when (anonymous)": 1,
            "upvote: Question 1.1: who pays": 1,
        }
    )
    assert expected.respondents == 2


def test_a_mode_without_a_rule_stops_the_run_and_says_so() -> None:
    with pytest.raises(ValueError, match=r"'toggle'.*must define expected"):
        workloads.get("open").expected({"id": "q", "answer_mode": "toggle"}, [])


# Against a real server ---------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PollServer]:
    """One `poll serve` on the bench's script: each workload's run starts its own room."""
    tmp = tmp_path_factory.mktemp("bench-server")
    reaper = Reaper()
    try:
        yield PollServer(tmp, f"sqlite:///{tmp}/poll.db", sessions=SESSIONS, reaper=reaper).start()
    finally:
        reaper.reap()


@pytest.mark.load
@pytest.mark.parametrize("name", NAMES)
def test_no_answer_is_lost_or_doubled(server: PollServer, tmp_path: Path, name: str) -> None:
    result = run_load(
        tmp_path,
        PHONES,
        *("--question", name, "--change-share", str(CHANGE_SHARE), "--spread", "1"),
        *("--url", server.url, "--token", TOKEN),
    )
    assert result["question"]["type"] == name
    assert result["join"]["joined"] == PHONES and result["join"]["failed"] == 0, result["join"]
    vote = result["vote"]
    assert vote["first"] == PHONES
    if workloads.get(name).may_change(bench_question(name).client_view()):
        assert vote["changes"] > 0, "some phones answered a second time"
    else:
        assert vote["changes"] == 0, "a question that takes no change gets none"
    if name == "qa":
        assert vote["shapes"].get("up", 0) > 0, "some of them upvoted from the board"
    assert vote["not_acked"] == 0, vote["statuses"]
    correct = result["correct"]
    assert correct["lost"] == 0 and correct["doubled"] == 0, correct
    assert correct["csv_lost"] == 0 and correct["csv_doubled"] == 0, correct
    assert correct["respondents"] == PHONES and correct["ok"], correct
    assert result["fanout"]["reached"] == PHONES, result["fanout"]


def test_the_slide_workloads_slides_are_in_the_bench_script() -> None:
    session = load_script(SESSIONS).sessions[SESSION]
    ids = [item.id for item in session.items]
    assert sorted(LOOKING) == ["pdf-slide", "slide"]
    for name in LOOKING:
        item_id = workloads.get(name).question_id
        assert item_id in ids[:-1], "its slide, followed by another item"
        assert session.items[ids.index(item_id)].type_name == "slide"
    # One shows a page of a PDF, the other only text.
    pdf = session.items[ids.index("pdf-slide")].client_view()
    text = session.items[ids.index("slide")].client_view()
    assert "picture" in json.dumps(pdf) and "picture" not in json.dumps(text)


@pytest.mark.load
@pytest.mark.parametrize("name", LOOKING)
def test_phones_on_a_slide_join_and_sync(server: PollServer, tmp_path: Path, name: str) -> None:
    result = run_load(
        tmp_path,
        PHONES,
        *("--question", name, "--spread", "1"),
        *("--url", server.url, "--token", TOKEN),
    )
    assert result["question"] == {"type": name, "id": workloads.get(name).question_id,
                                  "answer_mode": "replace"}  # fmt: skip
    assert result["join"]["joined"] == PHONES and result["join"]["failed"] == 0, result["join"]
    vote = result["vote"]
    # Every phone synced once and got the slide's snapshot back; nothing was answered.
    assert vote["sent"] == PHONES and vote["statuses"] == {"synced": PHONES}, vote
    assert vote["not_acked"] == 0 and vote["ack_ms"]["p50"] is not None, vote
    assert result["correct"]["ok"] and result["correct"]["units"] == 0, result["correct"]
    assert result["fanout"]["reached"] == PHONES, result["fanout"]
