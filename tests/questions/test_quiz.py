"""The quiz question and the leaderboard: script keys and their errors, answers, the
points function, standings that equal a recount and their ties, CSV cells and the
leaderboard CSV, a run of 2,000 players on both stores, nicknames claimed at once,
the screens and the form without JavaScript."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from poll.answers import Aggregate, Answer
from poll.questions import REGISTRY, AnswerRefused, Option
from poll.questions.leaderboard import Leaderboard
from poll.questions.quiz import Quiz, points_for
from poll.script import ScriptError, parse_script
from poll.standings import compute_standings
from poll.text import nickname_key

CAPITALS = (Option("paris", "Paris"), Option("london", "London"), Option("rome", "Rome"))


def quiz(**kwargs: object) -> Quiz:
    defaults: dict[str, object] = {
        "id": "capital",
        "title": "Capital of France?",
        "options": CAPITALS,
        "correct": ("paris",),
    }
    return Quiz(**(defaults | kwargs))  # type: ignore[arg-type]


def refusal(question: Quiz, raw: object) -> str:
    with pytest.raises(AnswerRefused) as caught:
        question.validate(raw)
    return str(caught.value)


def script(item: str, kind: str = "quiz") -> str:
    """A one-item session around an item's YAML (indented as an item of the list)."""
    body = textwrap.indent(textwrap.dedent(item).strip(), " " * 8)
    return (
        "sessions:\n  s:\n    title: T\n    language: en\n    items:\n"
        f"      - type: {kind}\n" + body + "\n"
    )


def problems(item: str, kind: str = "quiz") -> list[str]:
    with pytest.raises(ScriptError) as caught:
        parse_script(script(item, kind), "sessions.yaml")
    return [str(p) for p in caught.value.problems]


# The script ------------------------------------------------------------------------


def test_a_quiz_reads_its_options_right_answers_time_and_points() -> None:
    parsed = parse_script(
        script("""
        id: capital
        prompt: Which are capitals?
        options: [Paris, Lyon, {id: rome, label: Roma}, Milan]
        correct: [rome, Paris]
        time_limit: 30
        points: 500
        """)
    )
    question = parsed.sessions["s"].questions["capital"]
    assert isinstance(question, Quiz) and REGISTRY["quiz"] is Quiz
    assert [o.id for o in question.options] == ["paris", "lyon", "rome", "milan"]
    # Named by id or by label; kept in the options' order.
    assert question.correct == ("paris", "rome")
    assert (question.time_limit, question.points) == (30, 500)
    assert question.results == "hidden" and question.allow_change is False
    assert question.scored and question.answer_mode == "replace"
    # The run's own copy reads back into an equal question.
    again = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - "
        + repr(question.to_spec()).replace("'", '"').replace("False", "false")
        + "\n"
    )
    assert again.sessions["s"].questions["capital"] == question


def test_a_quiz_has_defaults_for_time_and_points() -> None:
    parsed = parse_script(script("id: q\nprompt: P\noptions: [a, b]\ncorrect: b"))
    question = parsed.sessions["s"].questions["q"]
    assert isinstance(question, Quiz)
    assert (question.time_limit, question.points, question.correct) == (20, 1000, ("b",))


def test_the_right_answer_never_reaches_a_client_before_the_reveal() -> None:
    view = quiz().client_view()
    assert "correct" not in view and "paris" not in repr(
        {k: v for k, v in view.items() if k != "options"}
    )
    assert view["time_limit"] == 20 and view["points"] == 1000 and view["scored"] is True


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "prompt: P\noptions: [Paris]\ncorrect: Paris",
            "sessions.yaml:8:18: sessions.s.items[0].options: a quiz needs at least 2 options; "
            "it has 1",
        ),
        (
            "prompt: P\noptions: [a, b, c, d, e, f, g]\ncorrect: a",
            "sessions.yaml:8:18: sessions.s.items[0].options: a quiz takes at most 6 options; "
            "it has 7. Leave some out: a phone shows them all at once",
        ),
        (
            "prompt: P\noptions: [Paris, London]\ncorrect: Berlin",
            "sessions.yaml:9:18: sessions.s.items[0].correct: 'Berlin' is not one of the "
            "options; use one of: paris, london",
        ),
        (
            "prompt: P\noptions: [Paris, London, Rome]\ncorrect: [rome, Berlin]",
            "sessions.yaml:9:25: sessions.s.items[0].correct[1]: 'Berlin' is not one of the "
            "options; use one of: paris, london, rome",
        ),
        (
            "prompt: P\noptions: [Paris, London, Rome]\ncorrect: [paris, Paris]",
            "sessions.yaml:9:26: sessions.s.items[0].correct[1]: 'Paris' is listed twice as right",
        ),
        (
            "prompt: P\noptions: [Paris, London]\ncorrect: [Paris, London]",
            "sessions.yaml:9:18: sessions.s.items[0].correct: every option is marked right; "
            "a quiz needs at least one wrong option",
        ),
        (
            "prompt: P\noptions: [Paris, London]\ncorrect: []",
            "sessions.yaml:9:18: sessions.s.items[0].correct: name at least one right option",
        ),
        (
            "prompt: P\noptions: [Paris, London]\ncorrect: {id: paris}",
            "sessions.yaml:9:18: sessions.s.items[0].correct: a right option is named by its id "
            "or its label, as a text",
        ),
        (
            "prompt: P\noptions: [Paris, London]",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'correct' "
            "(the right option's id or label)",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\ntime_limit: 4",
            "sessions.yaml:10:21: sessions.s.items[0].time_limit: must be between 5 and 300, not 4",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\ntime_limit: 301",
            "sessions.yaml:10:21: sessions.s.items[0].time_limit: must be between 5 and 300, "
            "not 301",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\ntime_limit: 2.5",
            "sessions.yaml:10:21: sessions.s.items[0].time_limit: must be a whole number, not 2.5",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\npoints: 0",
            "sessions.yaml:10:17: sessions.s.items[0].points: must be between 1 and 100000, not 0",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\nresults: live",
            "sessions.yaml:10:18: sessions.s.items[0].results: a quiz shows its results when you "
            "reveal the right answer; 'results: live' would give it away. Leave 'results' out",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\nallow_change: true",
            "sessions.yaml:10:23: sessions.s.items[0].allow_change: a quiz takes one answer per "
            "participant, which cannot be changed; leave 'allow_change' out",
        ),
        (
            "prompt: P\noptions: [a, b]\ncorrect: a\nmultiple: true",
            "sessions.yaml:10:9: sessions.s.items[0]: unknown key 'multiple'",
        ),
        (
            "options: [a, b]\ncorrect: a",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'prompt' (a text)",
        ),
        (
            "prompt: P\noptions: [Trees, trees]\ncorrect: Trees",
            "sessions.yaml:8:26: sessions.s.items[0].options[1]: option 'trees' is listed twice "
            "(also at options[0])",
        ),
    ],
)
def test_poll_check_names_file_line_column_and_key(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


def test_a_leaderboard_has_an_optional_title_in_the_sessions_language() -> None:
    parsed = parse_script(script("id: board", kind="leaderboard"))
    board = parsed.sessions["s"].items[0]
    assert isinstance(board, Leaderboard) and board.title == "Leaderboard"
    assert not board.is_question and board.personal_screen(None, False, {}) == "board"
    dutch = parse_script(script("id: board", kind="leaderboard").replace("en", "nl"))
    assert dutch.sessions["s"].items[0].title == "Tussenstand"
    titled = parse_script(script("title: Half time", kind="leaderboard"))
    assert titled.sessions["s"].items[0].to_spec() == {
        "type": "leaderboard",
        "id": "item-1",
        "title": "Half time",
    }
    assert problems("title: T\nbody: x", kind="leaderboard") == [
        "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'body' (known keys: id, title)"
    ]


# Answers ---------------------------------------------------------------------------


def test_an_answer_is_one_option() -> None:
    assert quiz().validate({"choice": "rome"}) == Answer(keys=("rome",))
    # The nickname travels in the same message; the room takes it out before this.
    assert quiz().answer_from_form({"choice": ["london"], "token": ["x"]}) == {"choice": "london"}
    assert quiz().answer_from_form({}) == {"choice": ""}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Choose an answer first."),
        ({"choice": ""}, "Choose an answer first."),
        ({"choice": "berlin"}, "That option is not part of this question."),
        ({"choice": ["paris"]}, "not in a form"),
        ({"choice": 1}, "not in a form"),
        ("paris", "not in a form"),
        (None, "not in a form"),
    ],
)
def test_refusals_say_what_is_wrong(raw: object, message: str) -> None:
    assert message in refusal(quiz(), raw)


# Points ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0.0, 1000),
        (10.0, 750),  # half way: three quarters
        (20.0, 500),  # at the deadline: half
        (5.0, 875),
        (1.234, 969),  # 969.15 → 969
        (0.02, 1000),  # 999.5 → 1000: half up, not to even
        (-3.0, 1000),  # stored before the question was last opened: at once
        (25.0, 500),  # past the deadline (never stored): as at the deadline
    ],
)
def test_points_fall_linearly_to_half_at_the_deadline(seconds: float, expected: int) -> None:
    assert points_for(1000, 20, seconds) == expected


def test_a_right_answer_scores_and_a_wrong_one_scores_nothing() -> None:
    question = quiz(correct=("paris", "rome"), points=200, time_limit=10)
    right = question.score(Answer(keys=("rome",)), 2.5)
    assert right is not None and (right.correct, right.points) == (True, 175)
    wrong = question.score(Answer(keys=("london",)), 0.1)
    assert wrong is not None and (wrong.correct, wrong.points) == (False, 0)


def test_only_the_leaderboard_mark_can_be_set() -> None:
    question = quiz()
    assert question.mark_allowed("leaderboard", "shown")
    assert question.mark_allowed("leaderboard", None)
    assert not question.mark_allowed("leaderboard", "yes")
    assert not question.mark_allowed("reveal", "answer")


@pytest.mark.parametrize(
    ("status", "shown", "marks", "screen"),
    [
        ("pending", False, {}, None),
        ("open", False, {}, "name"),  # a phone without a nickname is asked for one
        ("closed", False, {}, None),
        ("closed", True, {}, "points"),  # step 1: the right answer and what hers earned
        ("open", True, {}, "name"),
        ("closed", True, {"leaderboard": "shown"}, "board"),  # step 2: the standings
        ("closed", False, {"leaderboard": "shown"}, "board"),
    ],
)
def test_what_a_phone_shows_of_its_player(
    status: str, shown: bool, marks: dict[str, str], screen: str | None
) -> None:
    assert quiz().personal_screen(status, shown, marks) == screen


# Results and summary ------------------------------------------------------------------


def test_results_mark_the_right_options_and_count_the_right_answers() -> None:
    aggregate = Aggregate(respondents=4, counts={"paris": 3, "rome": 1})
    results = quiz().results_for(aggregate, "participant")
    assert results["kind"] == "quiz" and results["right"] == 3
    assert [(o["id"], o["count"], o["percent"], o["correct"]) for o in results["options"]] == [
        ("paris", 3, 75.0, True),
        ("london", 0, 0.0, False),
        ("rome", 1, 25.0, False),
    ]
    assert results["leaderboard"] is False
    marked = Aggregate(respondents=4, counts={"paris": 3}, marks={"leaderboard": "shown"})
    assert quiz().results_for(marked, "projector")["leaderboard"] is True
    assert quiz().summary(aggregate) == [
        ("Paris (correct)", 3, 75.0),
        ("London", 0, 0.0),
        ("Rome", 1, 25.0),
    ]
    assert quiz().csv_values(Answer(keys=("rome",))) == ["Rome"]


# Standings --------------------------------------------------------------------------

OPENED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Stored:
    question_id: str
    participant: str
    answer: Answer
    answered_at: datetime


def stored(question: str, who: str, choice: str, seconds: float) -> Stored:
    return Stored(question, who, Answer(keys=(choice,)), OPENED + timedelta(seconds=seconds))


QUESTIONS = {
    "q1": quiz(id="q1"),
    "q2": quiz(id="q2", correct=("london",), points=500, time_limit=10),
}


def test_standings_add_up_points_and_rank_by_score() -> None:
    standings = compute_standings(
        QUESTIONS,
        [
            stored("q1", "ann", "paris", 0),  # 1000
            stored("q1", "bob", "paris", 10),  # 750
            stored("q1", "cat", "rome", 1),  # 0
            stored("q2", "bob", "london", 5),  # 375
            stored("q2", "ann", "paris", 1),  # 0
        ],
        {"q1": OPENED, "q2": OPENED},
        {"ann": "Ann", "bob": "Bob", "cat": "Cat", "dan": "Dan"},
    )
    assert [(e.name, e.place, e.score) for e in standings.entries] == [
        ("Bob", 1, 1125),
        ("Ann", 2, 1000),
        ("Cat", 3, 0),  # answered wrong
        ("Dan", 3, 0),  # has a nickname, never answered
    ]
    bob = standings.by_participant["bob"]
    assert (bob.correct, bob.answered, bob.seconds) == (2, 2, 15.0)
    assert bob.results["q2"].points == 375
    assert standings.top(2) == [
        {"place": 1, "name": "Bob", "score": 1125},
        {"place": 2, "name": "Ann", "score": 1000},
    ]


def test_ties_share_a_place_faster_first_then_alphabetical() -> None:
    standings = compute_standings(
        QUESTIONS,
        [
            # Three players on 750 + 375 or 1000 + 125 … all at 1125? No: equal scores
            # from different answers, listed by the time their right answers took.
            stored("q1", "zoe", "paris", 10),  # 750, 10 s
            stored("q1", "amy", "paris", 10),  # 750, 10 s
            stored("q1", "kim", "paris", 10),  # 750
            stored("q2", "kim", "rome", 0.5),  # wrong: its time is no tie-break
            stored("q1", "max", "paris", 20),  # 500
            stored("q2", "lou", "london", 0),  # 500, 0 s
        ],
        {"q1": OPENED, "q2": OPENED},
        {"zoe": "Zoe", "amy": "amy", "kim": "Kim", "max": "Max", "lou": "Lou"},
    )
    assert [(e.name, e.place, e.score, e.seconds) for e in standings.entries] == [
        ("amy", 1, 750, 10.0),  # same time: alphabetical, casefolded
        ("Kim", 1, 750, 10.0),
        ("Zoe", 1, 750, 10.0),
        ("Lou", 4, 500, 0.0),  # same score, faster
        ("Max", 4, 500, 20.0),
    ]


def test_standings_skip_questions_that_do_not_score_and_count_a_first_answer_once() -> None:
    from poll.questions import YesNo

    questions = {**QUESTIONS, "poll": YesNo(id="poll", title="?")}
    standings = compute_standings(
        questions,
        [
            stored("poll", "ann", "yes", 1),
            stored("q1", "ann", "paris", 0),
            stored("q1", "ann", "paris", 15),  # a second entry never counts
            stored("gone", "ann", "paris", 0),  # a question the session lacks
        ],
        {"q1": OPENED},  # q2 was never opened: nothing to time from
        {},
    )
    assert [(e.name, e.score, e.answered) for e in standings.entries] == [("", 1000, 1)]


def test_the_digest_changes_with_any_line() -> None:
    names = {"ann": "Ann", "bob": "Bob"}
    opened = {"q1": OPENED}
    one = compute_standings(QUESTIONS, [stored("q1", "ann", "paris", 2)], opened, names)
    same = compute_standings(QUESTIONS, [stored("q1", "ann", "paris", 2)], opened, names)
    other = compute_standings(QUESTIONS, [stored("q1", "ann", "paris", 3)], opened, names)
    assert one.digest == same.digest != other.digest


def test_nicknames_compare_casefolded_and_normalised() -> None:
    assert nickname_key("ANNA") == nickname_key("anna")
    assert nickname_key("Zoë") == nickname_key("Zoe\u0308")  # NFC: one ë either way
    assert nickname_key("Straße") == nickname_key("STRASSE")
    assert nickname_key("Anna\u200d") == nickname_key("Anna")  # no look-alike twins
    assert nickname_key("Anna  B") == nickname_key("anna b")
    assert nickname_key("Anna") != nickname_key("Anne")
