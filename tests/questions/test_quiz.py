"""The quiz question and the leaderboard: script keys and their errors, answers, the
points function, standings that equal a recount and their ties, CSV cells and the
leaderboard CSV, a run of 2,000 players on both stores, nicknames claimed at once,
the screens and the form without JavaScript."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from poll.answers import Aggregate, Answer
from poll.live import Hub
from poll.questions import REGISTRY, Option
from poll.questions.leaderboard import Leaderboard
from poll.questions.quiz import Quiz, points_for
from poll.rooms import (
    ChangeNotAllowed,
    InvalidAnswer,
    InvalidMark,
    NicknameNeeded,
    NicknameTaken,
    Room,
    Rooms,
    VoteReceipt,
)
from poll.script import parse_script
from poll.standings import compute_standings
from poll.store.base import Store
from poll.text import nickname_key
from poll.web.pages import environment
from poll.web.screens import Screens
from tests.questions.items import one_item, one_item_problems, refusal
from tests.support.scripts import fixture_script
from tests.support.waiting import eventually
from tests.test_live import Socket
from tests.web.conftest import World, token_of
from tests.web.conftest import world as world  # the fixture, for the form's round trip

CAPITALS = (Option("paris", "Paris"), Option("london", "London"), Option("rome", "Rome"))


def quiz(**kwargs: object) -> Quiz:
    defaults: dict[str, object] = {
        "id": "capital",
        "title": "Capital of France?",
        "options": CAPITALS,
        "correct": ("paris",),
    }
    return Quiz(**(defaults | kwargs))  # type: ignore[arg-type]


def script(item: str, kind: str = "quiz") -> str:
    return one_item(kind, item)


def problems(item: str, kind: str = "quiz") -> list[str]:
    return one_item_problems(kind, item)


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
            "prompt: P\noptions: [a, b]\ncorrect: a\ntimer: 30",
            "sessions.yaml:10:16: sessions.s.items[0].timer: a quiz counts down from its own "
            "'time_limit'; use that instead",
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
        "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'body' (known keys: id, notes, title)"
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
        (2.7, 933),  # 932.5 → 933, though 2.7 is no exact binary fraction
        (2.7004, 933),  # to the millisecond
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


async def test_the_console_may_set_only_the_leaderboard_mark(store: Store) -> None:
    room = await Rooms(store, lambda: parse_script(RUN)).create("quiz")
    await room.go(0)
    for key, value in (("leaderboard", "yes"), ("reveal", "answer"), ("x" * 300, "shown")):
        with pytest.raises(InvalidMark):
            await room.mark("capital", key, value)
    await room.mark("capital", "leaderboard", "shown")
    assert (await room.aggregates())["capital"].marks == {"leaderboard": "shown"}
    await room.mark("capital", "leaderboard", None)
    assert not (await room.aggregates()).get("capital", Aggregate()).marks


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
        ("open", True, {"leaderboard": "shown"}, "name"),  # the standings wait for the close
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


# A run on both stores ---------------------------------------------------------------

RUN = """
sessions:
  quiz:
    title: Pub quiz
    language: en
    items:
      - type: quiz
        id: capital
        prompt: Capital of France?
        options: [Paris, London, Rome, Madrid]
        correct: Paris
        time_limit: 300
      - type: quiz
        id: giants
        prompt: A gas giant?
        options: [Mars, Jupiter, Venus, Saturn]
        correct: [Jupiter, Saturn]
        time_limit: 300
        points: 500
      - type: leaderboard
        id: final
"""


async def recount(room: Room) -> dict[str, int]:
    """Every player's score counted again from the stored answers, by hand."""
    rules = {"capital": ({"paris"}, 1000, 300), "giants": ({"jupiter", "saturn"}, 500, 300)}
    scores: Counter[str] = Counter()
    async for response in room.responses():
        right, points, limit = rules[response.question_id]
        opened = room.state.opened_at[response.question_id]
        took = response.answered_at - opened
        # To the millisecond, half up, as the README says.
        seconds = Decimal(took.days * 86_400 + took.seconds) + Decimal(took.microseconds) / 10**6
        seconds = seconds.quantize(Decimal("0.001"), ROUND_HALF_UP)
        assert 0 <= seconds < limit
        if response.answer.keys[0] in right:
            scores[response.participant] += int(
                (points * (1 - seconds / (2 * limit))).quantize(Decimal(1), ROUND_HALF_UP)
            )
        else:
            scores[response.participant] += 0
    return dict(scores)


async def test_two_thousand_players_answer_and_the_scores_equal_a_recount(store: Store) -> None:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("quiz")
    await room.go(0)
    rng = random.Random(11)
    capitals = ["paris", "london", "rome", "madrid"]
    planets = ["mars", "jupiter", "venus", "saturn"]

    async def first(n: int) -> None:
        answer = {"choice": rng.choice(capitals), "nickname": f"Player {n}"}
        await room.vote(f"phone-{n}", "capital", f"a{n}", answer)

    await asyncio.gather(*(first(n) for n in range(2000)))
    await room.go(1)  # the second question: every player has her nickname already

    async def second(n: int) -> None:
        await room.vote(f"phone-{n}", "giants", f"b{n}", {"choice": rng.choice(planets)})

    await asyncio.gather(*(second(n) for n in range(2000)))
    with pytest.raises(ChangeNotAllowed):  # one answer, no change
        await room.vote("phone-7", "giants", "b7-again", {"choice": "mars"})

    await room.refresh()
    standings = await room.standings()
    assert len(standings.entries) == 2000
    assert {e.participant: e.score for e in standings.entries} == await recount(room)
    assert {e.name for e in standings.entries} == {f"Player {n}" for n in range(2000)}
    # Best first; equal scores share the place of the first of them.
    scores = [e.score for e in standings.entries]
    assert scores == sorted(scores, reverse=True)
    assert standings.entries[0].place == 1
    for position, (before, entry) in enumerate(itertools.pairwise(standings.entries), 2):
        assert entry.place == (before.place if entry.score == before.score else position)
    # Counted once per version: asking again is the same object.
    assert await room.standings() is standings
    aggregate = (await room.aggregates())["capital"]
    assert aggregate.respondents == 2000


async def test_two_phones_claiming_one_nickname_at_once_one_wins(store: Store) -> None:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("quiz")
    await room.go(0)
    for round_ in range(10):
        # The same name, written two ways, at the same moment.
        names = (f"Anna {round_}", f"ANNA {round_}")
        outcomes = await asyncio.gather(
            *(
                room.vote(
                    f"p{round_}-{n}",
                    "capital",
                    f"s{round_}-{n}",
                    {"choice": "paris", "nickname": name},
                )
                for n, name in enumerate(names)
            ),
            return_exceptions=True,
        )
        saved = [o for o in outcomes if isinstance(o, VoteReceipt)]
        taken = [o for o in outcomes if isinstance(o, NicknameTaken)]
        assert len(saved) == 1 and len(taken) == 1, outcomes
        assert taken[0].reason == "nickname_taken"
    # Fifty phones for one name: exactly one plays as it.
    outcomes = await asyncio.gather(
        *(
            room.vote(f"crowd-{n}", "capital", f"c{n}", {"choice": "rome", "nickname": "Zoë"})
            for n in range(50)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(o, VoteReceipt) for o in outcomes) == 1
    assert sum(isinstance(o, NicknameTaken) for o in outcomes) == 49
    names = await store.names(room.id)
    assert sorted(names.values()).count("Zoë") == 1 and len(names) == 11


async def test_a_player_needs_a_nickname_once_and_keeps_it(store: Store) -> None:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("quiz")
    await room.go(0)
    with pytest.raises(NicknameNeeded):
        await room.vote("p1", "capital", "s1", {"choice": "paris"})
    with pytest.raises(NicknameNeeded):
        await room.vote("p1", "capital", "s2", {"choice": "paris", "nickname": " \u200b "})
    with pytest.raises(InvalidAnswer, match="at most 24 characters; yours has 25"):
        await room.vote("p1", "capital", "s3", {"choice": "paris", "nickname": "x" * 25})
    with pytest.raises(InvalidAnswer):
        await room.vote("p1", "capital", "s4", {"choice": "paris", "nickname": ["Anna"]})
    # A wrong answer claims nothing: the answer is checked first.
    with pytest.raises(InvalidAnswer):
        await room.vote("p1", "capital", "s5", {"choice": "berlin", "nickname": "Anna"})
    assert await store.names(room.id) == {}
    await room.vote("p1", "capital", "s6", {"choice": "paris", "nickname": "  Anna\tB "})
    assert await store.names(room.id) == {"p1": "Anna B"}
    await room.go(1)
    # Later questions need none; another one sent is ignored: she keeps hers.
    await room.vote("p1", "giants", "s7", {"choice": "saturn", "nickname": "Other"})
    assert await store.names(room.id) == {"p1": "Anna B"}
    # Another room of a fresh process: it reads her name from the store.
    again = await Rooms(store, lambda: parsed).get(room.id)
    assert await again.standings() == await room.standings()
    assert [(e.name, e.correct) for e in (await again.standings()).entries] == [("Anna B", 2)]


# Screens and the hub -----------------------------------------------------------------


def fixture_rooms(store: Store) -> Rooms:
    script = fixture_script()
    return Rooms(store, lambda: script)


async def test_the_screens_of_a_quiz_from_question_to_podium(store: Store) -> None:
    room = await fixture_rooms(store).create("quiz")
    screens = Screens()
    await room.go(room.session.index_of("capital"))
    data = await room.load()
    phone = room.view(data, "participant")
    assert phone["personal"] == "name" and phone["status"] == "open"
    assert phone["item"]["timer"] == 60.0 and phone["deadline_in"] > 55
    newcomer = screens.stage(phone, [])
    assert 'name="nickname" required maxlength="24"' in newcomer
    assert newcomer.count('name="choice"') == 4 and "right answer" not in newcomer
    player = screens.stage(phone, [], {"named": True})
    assert 'name="nickname"' not in player and 'value="madrid"' in player
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert '<ul class="quiz-tiles">' in projector and "Madrid" in projector
    assert "right answer" not in projector and "Results are hidden" not in projector

    await room.vote("ann", "capital", "s1", {"choice": "paris", "nickname": "Ann"})
    await room.vote("bob", "capital", "s2", {"choice": "rome", "nickname": "Bob"})
    await room.close_vote()
    await room.show_results()  # step 1: the right answer
    data = await room.load()
    phone = room.view(data, "participant")
    assert phone["personal"].startswith("points:") and phone["standings"] is None
    ann = await room.me(data, "ann")
    assert ann is not None and ann["correct"] and 990 < ann["points"] <= 1000
    assert await room.me(data, "nobody") is None
    stage = screens.stage(phone, [{"keys": ["paris"], "text": None}], ann)
    assert "Right!" in stage and f"+{ann['points']} points" in stage
    # Drawn as one shell per answer set and one block per player, it is the same page.
    whole = environment("en").get_template("participant/_stage.html")
    assert stage == whole.render(snap=phone, mine=[{"keys": ["paris"], "text": None}], me=ann)
    bob = screens.stage(phone, [{"keys": ["rome"], "text": None}], await room.me(data, "bob"))
    assert "Not right this time." in bob and "Your score: 0" in bob
    results = screens.snapshot_fields(phone, "participant")["results_html"]
    assert "The right answer" in results and results.count("quiz-right") == 1
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert "1 of 2 answered right" in projector and "✓" in projector

    await room.mark("capital", "leaderboard", "shown")  # step 2: the standings
    data = await room.load()
    board = room.view(data, "projector")["standings"]
    assert board == {
        "players": 2,
        "final": False,
        "top": [
            {"place": 1, "name": "Ann", "score": ann["points"]},
            {"place": 2, "name": "Bob", "score": 0},
        ],
    }
    assert room.view(data, "participant")["standings"] == {"players": 2, "final": False}
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert '<ol class="standings">' in projector and "podium" not in projector
    me = await room.me(data, "bob")
    assert me == {"named": True, "name": "Bob", "place": 2, "score": 0, "players": 2}
    stage = screens.stage(room.view(data, "participant"), [], me)
    assert '<span class="standing-number">2</span> <span>place of 2</span>' in stage
    stranger = screens.stage(room.view(data, "participant"), [])
    assert "You are not on the leaderboard yet" in stranger
    console = room.view(data, "console")
    assert console["scores"] is True and console["results"]["leaderboard"] is True

    await room.go(room.session.index_of("half-time"))
    data = await room.load()
    assert room.view(data, "projector")["standings"]["final"] is False
    await room.go(room.session.index_of("final"))  # the last leaderboard: a podium
    data = await room.load()
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert '<ol class="podium">' in projector and 'class="podium-step step-1"' in projector
    assert "Final standings" in projector


async def test_the_hub_sends_each_phone_its_own_standing(store: Store) -> None:
    rooms = fixture_rooms(store)
    room = await rooms.create("quiz")
    await room.go(room.session.index_of("capital"))
    await room.vote("ann", "capital", "s1", {"choice": "paris", "nickname": "Ann"})
    hub = Hub(rooms, process_id="test", screens=Screens())
    await hub.start()
    sockets = {name: Socket() for name in ("ann", "bob", "lurker")}
    boxes = [s.outbox("participant", participant=name) for name, s in sockets.items()]
    writers = [asyncio.create_task(box.run()) for box in boxes]

    def mines(name: str) -> list[dict[str, Any]]:
        return [m for m in sockets[name].sent if m["type"] == "mine"]

    try:
        for box in boxes:
            await hub.join(room, box)
        await eventually(lambda: all(mines(n) for n in sockets), "every phone gets its mine")
        # Ann plays already: her form asks no nickname; the others get the room's own.
        assert "html" in mines("ann")[0] and 'name="nickname"' not in mines("ann")[0]["html"]
        assert "html" not in mines("bob")[0]
        await room.vote("bob", "capital", "s2", {"choice": "london", "nickname": "Bob"})
        await room.close_vote()
        await room.show_results()
        hub.poke(room.id)
        await eventually(
            lambda: (
                all("Right!" in (m.get("html") or "") for m in mines("ann")[-1:])
                and "Not right" in (mines("bob")[-1].get("html") or "")
            ),
            "the reveal draws each player's points",
        )
        assert "html" not in mines("lurker")[-1]
        await room.mark("capital", "leaderboard", "shown")
        hub.poke(room.id)
        await eventually(
            lambda: "place of 2" in (mines("bob")[-1].get("html") or ""),
            "the leaderboard draws each player's place",
        )
        bob = mines("bob")[-1]
        snapshot = next(m for m in reversed(sockets["bob"].sent) if m["type"] == "snapshot")
        assert bob["stage"] == snapshot["stage"] and snapshot["stage"].startswith("capital|")
        assert '<span class="standing-number">2</span>' in bob["html"]
        assert '<span class="standing-number">1</span>' in mines("ann")[-1]["html"]
        # A leaderboard item is not a question: its `mine` names the item, with no answers.
        await room.go(room.session.index_of("half-time"))
        hub.poke(room.id)
        await eventually(
            lambda: mines("ann")[-1]["question_id"] == "half-time", "the half-time standings"
        )
        ann = mines("ann")[-1]
        assert ann["answers"] == [] and "Ann" in ann["html"] and "Half time" in ann["html"]
        assert "html" not in mines("lurker")[-1]
    finally:
        for box in boxes:
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


# Without JavaScript, and the CSV files ------------------------------------------------


def test_the_form_without_javascript_round_trip_with_a_nickname(world: World) -> None:
    room, code = world.start_run("quiz")
    world.go_to(room, "capital")
    with world.as_("ann") as phone:
        page = phone.get(f"/r/{code}").text
        assert 'name="nickname"' in page and page.count('name="choice"') == 4
        form = {"token": token_of(page), "question_id": "capital"}
        refused = phone.post(f"/r/{code}", data={**form, "submission_id": "a1", "choice": "paris"})
        assert "Choose a nickname first: it shows on the leaderboard." in refused.text
        saved = phone.post(
            f"/r/{code}",
            data={**form, "submission_id": "a2", "choice": "paris", "nickname": "Ann"},
            follow_redirects=False,
        )
        assert saved.status_code == 303
        after = phone.get(f"/r/{code}").text
        assert "Your answer is saved." in after and 'name="choice"' not in after
        assert '<span class="quiz-label">Paris</span></li>' in after
    with world.as_("bob") as phone:
        page = phone.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "capital", "choice": "rome"}
        taken = phone.post(f"/r/{code}", data={**form, "submission_id": "b1", "nickname": "ANN"})
        assert "Somebody else plays as ANN; choose another nickname." in taken.text
        phone.post(f"/r/{code}", data={**form, "submission_id": "b2", "nickname": "Bob"})
    world.act(room, "close")
    world.act(room, "show")
    with world.as_("ann") as phone:
        revealed = phone.get(f"/r/{code}").text
        assert "Right!" in revealed and "The right answer" in revealed
    console = world.client.get(f"/console/room/{room}").text
    assert 'name="key" value="leaderboard"' in console and "Show leaderboard" in console
    world.act(room, "mark", question_id="capital", key="leaderboard", value="shown")
    with world.as_("bob") as phone:
        board = phone.get(f"/r/{code}").text
        assert '<span class="standing-number">2</span>' in board and "Bob" in board
    console = world.client.get(f"/console/room/{room}").text
    assert "Hide leaderboard" in console and '<th scope="row">Ann</th>' in console
    world.go_to(room, "giants")
    with world.as_("bob") as phone:
        page = phone.get(f"/r/{code}").text
        assert 'name="nickname"' not in page  # asked once: Bob plays on
        form = {"token": token_of(page), "question_id": "giants", "choice": "saturn"}
        phone.post(f"/r/{code}", data={**form, "submission_id": "b3"})
        assert "Your answer is saved." in phone.get(f"/r/{code}").text

    answers = world.client.get(f"/console/room/{room}/results.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(answers)))
    assert [(r["question_id"], r["answer"], r["correct"]) for r in rows] == [
        ("capital", "Paris", "yes"),
        ("capital", "Rome", "no"),
        ("giants", "Saturn", "yes"),
    ]
    for row in rows:
        seconds = float(row["seconds"])
        assert 0 <= seconds < 60
        right = row["correct"] == "yes"
        points = 1000 if row["question_id"] == "capital" else 500
        assert int(row["points"]) == (points_for(points, 60, seconds) if right else 0)
    board_csv = world.client.get(f"/console/room/{room}/standings.csv?sep=;")
    lines = board_csv.content.decode("utf-8-sig").splitlines()
    assert (
        lines[0] == "room_code;session_id;place;nickname;score;correct;answered;seconds;participant"
    )
    first, second = (line.split(";") for line in lines[1:])
    assert first[2:4] == ["1", "Ann"] and second[2:4] == ["2", "Bob"]
    assert first[5:7] == ["1", "1"] and second[5:7] == ["1", "2"]
    assert "," in second[7] or second[7] == "0"  # decimal comma with ';'
    assert first[8] == rows[0]["participant"]  # the same pseudonym as in the answers
    scores = {r["participant"]: 0 for r in rows}
    for row in rows:
        scores[row["participant"]] += int(row["points"])
    assert sorted(scores.values(), reverse=True) == [int(first[4]), int(second[4])]
    summary = world.client.get(f"/console/room/{room}/summary.csv").content.decode("utf-8-sig")
    assert ",Paris (correct),1,50.0,2" in summary
    assert ",Jupiter (correct),0,0.0,1" in summary and ",Saturn (correct),1,100.0,1" in summary


def test_a_nickname_is_cleaned_like_any_text_and_csv_safe(world: World) -> None:
    room, code = world.start_run("quiz")
    world.go_to(room, "capital")
    with world.as_("eve") as phone:
        page = phone.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "capital", "choice": "paris"}
        nickname = "=HYPERLINK(\u200b1)\n<b>"
        phone.post(f"/r/{code}", data={**form, "submission_id": "e1", "nickname": nickname})
    world.act(room, "close")
    world.act(room, "mark", question_id="capital", key="leaderboard", value="shown")
    projector = world.client.get(f"/projector/{room}").text
    assert "=HYPERLINK(1) &lt;b&gt;" in projector and "<b>" not in projector.split("standings")[1]
    board = world.client.get(f"/console/room/{room}/standings.csv").content.decode("utf-8-sig")
    assert ",'=HYPERLINK(1) <b>," in board
