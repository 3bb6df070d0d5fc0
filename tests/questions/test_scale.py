"""The scale question: its script checks, answers, results, CSV cells, screens,
its run on both stores and its form without JavaScript."""

from __future__ import annotations

import asyncio
import random
import re
from collections import Counter
from typing import Any

import pytest

from poll.answers import Aggregate, Answer
from poll.questions.scale import Scale
from poll.rooms import InvalidAnswer, Rooms
from poll.script import parse_script, session_from_spec
from poll.store.base import Store
from poll.web.screens import Screens
from tests.questions.items import one_item, one_item_problems, refusal
from tests.web.conftest import World, token_of, world

__all__ = ["world"]  # the web tests' fixture, used below for the no-JavaScript form

BLOCK = """
sessions:
  s:
    title: Rate
    language: en
    items:
      - type: scale
        id: block
        prompt: How do you see the square?
        labels: {1: Strongly disagree, 5: Strongly agree}
        statements:
          - The square is safe
          - There is enough green
          - id: light
            label: The lighting is good
      - type: scale
        id: mark
        prompt: What mark do you give it?
        min: 0
        max: 10
"""


def script_with(item: str) -> str:
    return one_item("scale", item, head="prompt: Q\n")


def problems(item: str) -> list[str]:
    return one_item_problems("scale", item, head="prompt: Q\n")


def block() -> Scale:
    question = parse_script(BLOCK).sessions["s"].questions["block"]
    assert isinstance(question, Scale)
    return question


def mark() -> Scale:
    question = parse_script(BLOCK).sessions["s"].questions["mark"]
    assert isinstance(question, Scale)
    return question


# The script -------------------------------------------------------------------------


def test_a_scale_reads_its_range_labels_and_statements() -> None:
    q = block()
    assert (q.minimum, q.maximum) == (1, 5)
    assert q.labels == ((1, "Strongly disagree"), (5, "Strongly agree"))
    assert [(s.id, s.label) for s in q.statements] == [
        ("the-square-is-safe", "The square is safe"),
        ("there-is-enough-green", "There is enough green"),
        ("light", "The lighting is good"),
    ]
    single = mark()
    assert (single.minimum, single.maximum, single.labels, single.statements) == (0, 10, (), ())
    default = parse_script(script_with("id: d")).sessions["s"].questions["d"]
    assert isinstance(default, Scale) and (default.minimum, default.maximum) == (1, 5)
    # A run keeps its own copy of the script: to_spec reads back into equal questions.
    session = parse_script(BLOCK).sessions["s"]
    assert session_from_spec(session.to_spec()).questions == session.questions


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "min: 5\nmax: 5",
            "sessions.yaml:9:14: sessions.s.items[0].max: max (5) must be greater than min (5)",
        ),
        (
            "min: 6\nmax: 2",
            "sessions.yaml:9:14: sessions.s.items[0].max: max (2) must be greater than min (6)",
        ),
        (
            "min: 0\nmax: 11",
            "sessions.yaml:9:14: sessions.s.items[0].max: a scale from 0 to 11 has 12 steps; "
            "at most 11 fit on a phone",
        ),
        (
            "min: one",
            "sessions.yaml:8:14: sessions.s.items[0].min: must be a whole number, not 'one'",
        ),
        (
            "labels: {0: Low, 5: High}",
            "sessions.yaml:8:18: sessions.s.items[0].labels.0: there is no step 0 on a scale "
            "from 1 to 5",
        ),
        (
            "labels: {1: Low, x: High}",
            "sessions.yaml:8:26: sessions.s.items[0].labels.x: 'x' is not a step of the scale: "
            "write a whole number",
        ),
        (
            "labels: {1: ''}",
            "sessions.yaml:8:21: sessions.s.items[0].labels.1: this label is empty",
        ),
        (
            "labels: [Low, High]",
            "sessions.yaml:8:17: sessions.s.items[0].labels: labels is a mapping of a step to its "
            "label, like {1: Disagree, 5: Agree}",
        ),
        (
            "statements: []",
            "sessions.yaml:8:21: sessions.s.items[0].statements: no statements listed: "
            "list at least one, or leave it out",
        ),
        (
            "statements: [A, '']",
            "sessions.yaml:8:25: sessions.s.items[0].statements[1]: this statement is empty",
        ),
        (
            "statements: [Green, green]",
            "sessions.yaml:8:29: sessions.s.items[0].statements[1]: statement 'green' is listed "
            "twice (also at statements[0])",
        ),
        (
            "statements: [A b, A-b!]",
            "sessions.yaml:8:27: sessions.s.items[0].statements[1]: statement id 'a-b' is also "
            "used by statements[0]; give one of them an explicit 'id'",
        ),
        (
            "statements: [{id: Big, label: A}]",
            "sessions.yaml:8:22: sessions.s.items[0].statements[0]: statement id 'Big' may hold "
            "only a-z, 0-9, '-' and '_'",
        ),
        (
            "statements: [{label: A, note: x}]",
            "sessions.yaml:8:22: sessions.s.items[0].statements[0]: a statement has only 'id' and "
            "'label', not ['note']",
        ),
        (
            "statements: [[A]]",
            "sessions.yaml:8:22: sessions.s.items[0].statements[0]: a statement is a text, or a "
            "mapping with 'label' (and 'id')",
        ),
        (
            "statements: A",
            "sessions.yaml:8:21: sessions.s.items[0].statements: must be a list, not a text",
        ),
        (
            "maximum: 7",
            "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'maximum' (did you mean 'max'?)",
        ),
    ],
)
def test_poll_check_names_each_problem_with_its_place(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


# Answers ------------------------------------------------------------------------------


def test_an_answer_rates_some_statements_in_either_shape() -> None:
    q = block()
    # A load client's shape, whole numbers.
    assert q.validate({"ratings": {"light": 4}}) == Answer(keys=("light=4",))
    # The form's fields, as the page script sends them: texts, statements in script order.
    raw = {
        "rating-light": "2",
        "rating-the-square-is-safe": "5",
        "rating-there-is-enough-green": "",
    }
    assert q.validate(raw) == Answer(keys=("the-square-is-safe=5", "light=2"))
    assert mark().validate({"rating-answer": "0"}) == Answer(keys=("answer=0",))
    assert mark().validate({"ratings": {"answer": 10}}) == Answer(keys=("answer=10",))


def test_an_answer_that_does_not_fit_is_refused_with_what_to_do() -> None:
    q = block()
    assert refusal(q, {}) == "Rate at least one statement; you may leave the others open."
    assert refusal(q, {"rating-light": ""}) == (
        "Rate at least one statement; you may leave the others open."
    )
    assert refusal(mark(), {}) == "Choose a value on the scale first."
    assert refusal(q, {"ratings": {"light": 6}}) == "Choose a value from 1 to 5."
    assert refusal(q, {"rating-light": "0"}) == "Choose a value from 1 to 5."
    assert refusal(q, {"rating-light": "four"}) == "Choose a value from 1 to 5."
    assert refusal(q, {"ratings": {"light": True}}) == "Choose a value from 1 to 5."
    assert refusal(q, {"ratings": {"light": 3.5}}) == "Choose a value from 1 to 5."
    assert refusal(q, {"ratings": {"nope": 3}}) == "That statement is not part of this question."
    assert refusal(q, {"rating-nope": "3"}) == "That statement is not part of this question."
    assert refusal(q, {"ratings": [3]}) == "This answer is not in a form poll understands."
    assert refusal(q, ["light", 3]) == "This answer is not in a form poll understands."


def test_the_form_without_javascript_gives_the_shape_validate_reads() -> None:
    q = block()
    fields = {"rating-light": ["3"], "rating-the-square-is-safe": [""], "token": ["t"]}
    raw = q.answer_from_form(fields)
    assert raw == {"rating-light": "3"}
    assert q.validate(raw) == Answer(keys=("light=3",))
    assert mark().answer_from_form({"rating-answer": ["7"]}) == {"rating-answer": "7"}


# Results, summary, CSV ---------------------------------------------------------------------

COUNTS = Aggregate(
    respondents=4,
    counts={"light=5": 2, "light=2": 1, "the-square-is-safe=4": 3, "stray=1": 9},
)


def test_results_per_statement_give_each_step_and_the_mean() -> None:
    q = block()
    results = q.results_for(COUNTS, "projector")
    assert results["respondents"] == 4 and results["block"]
    safe, green, light = results["statements"]
    assert (safe["rated"], safe["mean"], safe["mean_at"]) == (3, 4.0, 75)
    assert (green["rated"], green["mean"], green["mean_at"]) == (0, None, None)
    assert (light["rated"], light["mean"]) == (3, 4.0)
    assert [(s["value"], s["count"], s["percent"]) for s in light["steps"]] == [
        (1, 0, 0.0),
        (2, 1, 33.3),
        (3, 0, 0.0),
        (4, 0, 0.0),
        (5, 2, 66.7),
    ]
    assert light["steps"][0]["label"] == "Strongly disagree" and light["steps"][1]["label"] == ""
    # Counts only: phones, projector and console see the same.
    assert q.results_for(COUNTS, "participant") == results == q.results_for(COUNTS, "console")
    one = mark().results_for(
        Aggregate(respondents=3, counts={"answer=7": 2, "answer=8": 1}), "console"
    )
    assert one["statements"][0]["mean"] == 7.3 and not one["block"]


def test_summary_rows_per_statement_and_step() -> None:
    rows = block().summary(COUNTS)
    assert len(rows) == 15
    assert rows[3] == ("The square is safe — 4", 3, 100.0)
    assert rows[-1] == ("The lighting is good — 5", 2, 66.7)
    single = mark().summary(Aggregate(respondents=1, counts={"answer=7": 1}))
    assert single[7] == ("7", 1, 100.0) and len(single) == 11


def test_csv_cells_one_per_rated_statement() -> None:
    q = block()
    answer = q.validate({"ratings": {"light": 2, "the-square-is-safe": 5}})
    assert q.csv_values(answer) == ["The square is safe: 5", "The lighting is good: 2"]
    assert mark().csv_values(Answer(keys=("answer=9",))) == ["9"]


# Screens ------------------------------------------------------------------------------------


async def test_phone_stage_and_projector_show_the_scale(store: Store) -> None:
    script = parse_script(BLOCK)
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("s")
    await room.go(0)
    await room.vote("p1", "block", "s1", {"ratings": {"light": 5, "the-square-is-safe": 4}})
    await room.vote("p2", "block", "s2", {"rating-light": "2"})
    data = await room.load()
    screens = Screens()

    stage = screens.stage(room.view(data, "participant"), [])
    assert stage.count("<fieldset") == 3 and stage.count("<legend") == 3
    assert stage.count('name="rating-light"') == 5
    assert "<legend>The lighting is good</legend>" in stage
    assert '<span class="visually-hidden"> Strongly disagree</span>' in stage
    mine = [Answer(keys=("light=5",)).to_json()]
    assert re.search(
        r'name="rating-light" value="5" checked',
        screens.stage(room.view(data, "participant"), mine),
    )
    assert "Change answer" in screens.stage(room.view(data, "participant"), mine)

    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert projector.count('class="scale-statement"') == 3
    assert "Mean <strong>3.5</strong>" in projector  # the lighting: 5 and 2
    assert "Ratings: 2" in projector and "Ratings: 0" in projector
    assert 'class="scale-mean-at w62"' in projector  # 3.5 on 1..5
    assert 'class="scale-fill h50"' in projector
    assert "Strongly agree" in projector

    # Shown to the phones: the same distribution, with the mean.
    await room.show_results("block")
    shown = screens.snapshot_fields(room.view(await room.load(), "participant"), "participant")
    assert "Mean <strong>3.5</strong>" in shown["results_html"]
    assert shown["results_html"].count('class="scale-column"') == 15


async def test_a_single_rating_has_one_unnamed_row(store: Store) -> None:
    script = parse_script(BLOCK)
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("s")
    await room.go(1)
    await room.vote("p1", "mark", "s1", {"rating-answer": "8"})
    data = await room.load()
    screens = Screens()
    stage = screens.stage(room.view(data, "participant"), [])
    assert stage.count('name="rating-answer"') == 11
    assert '<legend class="visually-hidden">What mark do you give it?</legend>' in stage
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert "Mean <strong>8.0</strong>" in projector and "scale-label" not in projector
    with pytest.raises(InvalidAnswer):
        await room.vote("p2", "mark", "s2", {"rating-answer": "11"})


# A run on every store ------------------------------------------------------------------------


async def test_two_thousand_participants_rate_and_some_change(store: Store) -> None:
    """The results equal a recount of what each participant last sent, exactly."""
    script = parse_script(BLOCK)
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("s")
    await room.go(0)
    q = block()
    ids = [s.id for s in q.statements]
    rng = random.Random(7)
    last: dict[str, dict[str, int]] = {}

    def some_ratings() -> dict[str, int]:
        chosen = rng.sample(ids, rng.randint(1, len(ids)))
        return {sid: rng.randint(1, 5) for sid in chosen}

    async def participant(n: int) -> None:
        ratings = some_ratings()
        last[f"p{n}"] = ratings
        await room.vote(f"p{n}", "block", f"s{n}a", {"ratings": ratings})
        if n % 10 == 0:  # one in ten changes her mind, as the form sends it
            change = some_ratings()
            last[f"p{n}"] = change
            form = {f"rating-{sid}": str(value) for sid, value in change.items()}
            await room.vote(f"p{n}", "block", f"s{n}b", form)

    await asyncio.gather(*(participant(n) for n in range(2000)))

    recount: Counter[str] = Counter()
    for ratings in last.values():
        recount.update(f"{sid}={value}" for sid, value in ratings.items())
    aggregate = (await room.load()).aggregates["block"]
    assert aggregate.respondents == 2000
    assert {k: v for k, v in aggregate.counts.items() if v} == dict(recount)
    results = q.results_for(aggregate, "console")
    for statement in results["statements"]:
        values = [r[statement["id"]] for r in last.values() if statement["id"] in r]
        assert statement["rated"] == len(values)
        assert statement["mean"] == round(sum(values) / len(values), 1)


# The no-JavaScript form through the web app --------------------------------------------------


def test_the_form_without_javascript_round_trips(world: World) -> None:
    room, code = world.start_run("scale")
    world.go_to(room, "stellingen")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}")
        assert page.text.count('type="radio" name="rating-licht"') == 5
        assert "Helemaal oneens" in page.text
        form: dict[str, Any] = {
            "token": token_of(page.text),
            "question_id": "stellingen",
            "submission_id": "s1",
        }
        empty = phone.post(f"/r/{code}", data=form).text
        assert "Beoordeel minstens één stelling; de andere mag je openlaten." in empty
        answer = {"rating-licht": "4", "rating-er-is-genoeg-groen": "2"}
        response = phone.post(
            f"/r/{code}", data={**form, "submission_id": "s2", **answer}, follow_redirects=False
        )
        assert response.status_code == 303
        after = phone.get(f"/r/{code}").text
        assert "Je antwoord is opgeslagen." in after
        assert 'name="rating-licht" value="4" checked' in after
        assert 'name="rating-er-is-genoeg-groen" value="2" checked' in after
    console = world.client.get(
        f"/console/room/{room}", headers={"accept-language": "nl-NL,nl;q=0.9"}
    ).text
    assert "Gemiddeld <strong>4,0</strong>" in console  # as Dutch writes it
    assert "Beoordelingen: 1" in console
    answers = world.client.get(f"/console/room/{room}/results.csv").text
    assert "De verlichting is goed: 4" in answers and "Er is genoeg groen: 2" in answers
    summary = world.client.get(f"/console/room/{room}/summary.csv").text
    assert "De verlichting is goed — 4,1,100.0" in summary
