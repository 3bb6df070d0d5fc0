"""The ranking question: its script keys, answers, Borda results, CSV cells, its run
on both stores with 2,000 phones, its screens and its form without JavaScript."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from collections import Counter

import pytest

from poll.answers import Aggregate, Answer
from poll.questions import REGISTRY, Option
from poll.questions.ranking import Ranking
from poll.rooms import InvalidAnswer, Rooms
from poll.script import parse_script
from poll.store.base import Store
from poll.web.screens import Screens
from tests.questions.items import one_item, one_item_problems, refusal
from tests.web.conftest import World, token_of
from tests.web.conftest import world as world  # the fixture, for the form's round trip

PLANS = (Option("trees", "More trees"), Option("benches", "Benches"), Option("play", "Playground"))


def ranking(top: int | None = None, options: tuple[Option, ...] = PLANS) -> Ranking:
    return Ranking(id="plans", title="Which first?", options=options, top=top)


def script(item: str) -> str:
    return one_item("ranking", item)


def problems(item: str) -> list[str]:
    return one_item_problems("ranking", item)


# The script ------------------------------------------------------------------------


def test_a_ranking_reads_its_options_and_top() -> None:
    parsed = parse_script(
        script("""
        id: summer
        prompt: Your top two?
        options: [Music nights, Market, {id: cinema, label: Open-air cinema}]
        top: 2
        """)
    )
    question = parsed.sessions["s"].questions["summer"]
    assert isinstance(question, Ranking)
    assert [o.id for o in question.options] == ["music-nights", "market", "cinema"]
    assert question.top == 2 and question.places == 2
    assert Ranking.parse is not None and REGISTRY["ranking"] is Ranking
    # The run's own copy reads back into an equal question.
    again = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - "
        + repr(question.to_spec()).replace("'", '"')
        + "\n"
    )
    assert again.sessions["s"].questions["summer"] == question


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "prompt: P\noptions: [Only one]",
            "sessions.yaml:8:18: sessions.s.items[0].options: a ranking needs at least 2 options; "
            "it has 1",
        ),
        (
            "prompt: P\noptions: [a, b, c, d, e, f, g, h, i, j, k]",
            "sessions.yaml:8:18: sessions.s.items[0].options: a ranking takes at most 10 options; "
            "it has 11. Leave some out, or split the question",
        ),
        (
            "prompt: P\noptions: [a, b, c]\ntop: 4",
            "sessions.yaml:9:14: sessions.s.items[0].top: top is 4 but there are only 3 options "
            "to rank; use at most 3, or leave 'top' out to rank them all",
        ),
        (
            "prompt: P\noptions: [a, b, c]\ntop: 0",
            "sessions.yaml:9:14: sessions.s.items[0].top: must be between 1 and 10, not 0",
        ),
        (
            "prompt: P\noptions: [a, b]\ntop: two",
            "sessions.yaml:9:14: sessions.s.items[0].top: must be a whole number, not 'two'",
        ),
        (
            "prompt: P\noptions: [Trees, trees, c]",
            "sessions.yaml:8:26: sessions.s.items[0].options[1]: option 'trees' is listed twice "
            "(also at options[0])",
        ),
        (
            "prompt: P\noptions: [a, '']",
            "sessions.yaml:8:22: sessions.s.items[0].options[1]: this option is empty",
        ),
        (
            "prompt: P\noptions: {a: b}",
            "sessions.yaml:8:18: sessions.s.items[0].options: must be a list, not a mapping",
        ),
        (
            "prompt: P",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'options' (a list)",
        ),
        (
            "options: [a, b]",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'prompt' (a text)",
        ),
        (
            "prompt: P\noptions: [a, b]\nmultiple: true",
            "sessions.yaml:9:9: sessions.s.items[0]: unknown key 'multiple'",
        ),
    ],
)
def test_poll_check_names_file_line_column_and_key(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


# Answers ---------------------------------------------------------------------------


def test_a_full_order_is_one_key_per_option_and_place() -> None:
    answer = ranking().validate({"rank-1": "play", "rank-2": "trees", "rank-3": "benches"})
    assert answer == Answer(keys=("play@1", "trees@2", "benches@3"))


def test_a_top_asks_only_its_places() -> None:
    question = ranking(top=2)
    assert question.validate({"rank-1": "benches", "rank-2": "trees"}) == Answer(
        keys=("benches@1", "trees@2")
    )
    assert "not in a form" in refusal(
        question, {"rank-1": "benches", "rank-2": "trees", "rank-3": "play"}
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Put the options in your order first."),
        ({"rank-1": "", "rank-2": "", "rank-3": ""}, "Put the options in your order first."),
        (
            {"rank-1": "trees", "rank-2": "trees", "rank-3": "play"},
            "You put More trees in more than one place; give each place another option.",
        ),
        ({"rank-1": "trees", "rank-2": "pool", "rank-3": "play"}, "That option is not part"),
        (
            {"rank-2": "trees", "rank-3": "play"},
            "Place 1 is still empty; choose an option for it.",
        ),
        ({"rank-1": "trees"}, "Places 2, 3 are still empty; choose an option for each."),
        ({"rank-1": ["trees"], "rank-2": "play", "rank-3": "benches"}, "not in a form"),
        ({"rank-1": 1, "rank-2": "play", "rank-3": "benches"}, "not in a form"),
        ("trees", "not in a form"),
        (None, "not in a form"),
    ],
)
def test_refusals_say_what_is_wrong(raw: object, message: str) -> None:
    assert message in refusal(ranking(), raw)


def test_the_form_without_javascript_reads_into_the_same_shape() -> None:
    question = ranking(top=2)
    fields = {"rank-1": ["trees"], "rank-2": ["play"], "token": ["x"], "question_id": ["plans"]}
    assert question.answer_from_form(fields) == {"rank-1": "trees", "rank-2": "play"}
    assert question.answer_from_form({}) == {"rank-1": "", "rank-2": ""}


# Results, summary, CSV ---------------------------------------------------------------


def aggregate_of(*orders: tuple[str, ...]) -> Aggregate:
    counts: Counter[str] = Counter()
    for order in orders:
        counts.update(f"{option}@{place}" for place, option in enumerate(order, 1))
    return Aggregate(respondents=len(orders), counts=dict(counts))


def test_borda_scores_and_average_places_best_first() -> None:
    # 3 options: first place 2 points, second 1, third 0.
    aggregate = aggregate_of(
        ("play", "trees", "benches"), ("trees", "play", "benches"), ("play", "benches", "trees")
    )
    results = ranking().results_for(aggregate, "projector")
    assert results["kind"] == "ranking" and results["respondents"] == 3
    assert results["max_score"] == 6
    assert [(o["label"], o["score"], o["percent"], o["average"]) for o in results["options"]] == [
        ("Playground", 5, 83.3, 1.3),
        ("More trees", 3, 50.0, 2.0),
        ("Benches", 1, 16.7, 2.7),
    ]


def test_unranked_options_score_nothing_with_a_top() -> None:
    question = ranking(top=1)
    results = question.results_for(aggregate_of(("benches",), ("benches",)), "console")
    rows = {o["id"]: o for o in results["options"]}
    assert rows["benches"]["score"] == 4 and rows["benches"]["average"] == 1.0
    assert rows["trees"]["score"] == 0 and rows["trees"]["average"] is None
    assert rows["benches"]["at"] == [2] and rows["trees"]["ranked"] == 0
    assert [o["id"] for o in results["options"]] == ["benches", "trees", "play"]


def test_each_audience_gets_its_allow_list() -> None:
    aggregate = aggregate_of(("play", "trees", "benches"))
    question = ranking()
    public = {"id", "label", "score", "percent", "average"}
    for audience in ("participant", "projector"):
        options = question.results_for(aggregate, audience)["options"]  # type: ignore[arg-type]
        assert all(set(o) == public for o in options)
    console = question.results_for(aggregate, "console")["options"]
    assert all(set(o) == public | {"ranked", "at"} for o in console)
    assert question.tally(aggregate) == question.results_for(aggregate, "console")


def test_nobody_answered_is_zero_everywhere() -> None:
    results = ranking().results_for(Aggregate(), "projector")
    assert [(o["score"], o["percent"], o["average"]) for o in results["options"]] == [
        (0, 0.0, None)
    ] * 3


def test_summary_rows_are_score_and_share_of_the_highest_possible() -> None:
    aggregate = aggregate_of(("play", "trees", "benches"), ("trees", "play", "benches"))
    assert ranking().summary(aggregate) == [
        ("More trees", 3, 75.0),
        ("Playground", 3, 75.0),
        ("Benches", 0, 0.0),
    ]


def test_csv_cells_are_one_per_ranked_option_in_order() -> None:
    answer = Answer(keys=("trees@2", "play@1", "benches@3"))
    assert ranking().csv_values(answer) == ["1. Playground", "2. More trees", "3. Benches"]
    assert ranking(top=1).csv_values(Answer(keys=("benches@1",))) == ["1. Benches"]


# A run on both stores -----------------------------------------------------------------

RUN = """
sessions:
  rank:
    title: Rank it
    language: en
    items:
      - type: ranking
        id: plans
        prompt: Which plans first?
        options: [Trees, Benches, Playground, Fountain]
        top: 3
"""


async def test_two_thousand_phones_rank_and_some_change_and_the_results_equal_a_recount(
    store: Store,
) -> None:
    parsed = parse_script(RUN)
    rooms = Rooms(store, lambda: parsed)
    room = await rooms.create("rank")
    await room.go(0)
    question = room.question("plans")
    assert isinstance(question, Ranking)
    ids = [o.id for o in question.options]
    rng = random.Random(7)
    final: dict[str, list[str]] = {}

    async def phone(n: int) -> None:
        order = rng.sample(ids, 3)
        await room.vote(
            f"phone-{n}", "plans", f"s{n}a", {f"rank-{p}": o for p, o in enumerate(order, 1)}
        )
        if n % 10 == 0:  # one in ten changes her mind
            order = rng.sample(ids, 3)
            fields = {f"rank-{p}": [o] for p, o in enumerate(order, 1)}
            await room.vote(f"phone-{n}", "plans", f"s{n}b", question.answer_from_form(fields))
        final[f"phone-{n}"] = order

    await asyncio.gather(*(phone(n) for n in range(2000)))

    with pytest.raises(InvalidAnswer, match="Place 3 is still empty"):
        await room.vote("phone-x", "plans", "sx", {"rank-1": ids[0], "rank-2": ids[1]})

    aggregate = (await room.aggregates())["plans"]
    expected: Counter[str] = Counter()
    for order in final.values():
        expected.update(f"{o}@{p}" for p, o in enumerate(order, 1))
    assert aggregate.respondents == 2000
    assert dict(aggregate.counts) == dict(expected)
    stored: Counter[str] = Counter()
    async for response in room.responses():
        stored.update(response.answer.keys)
    assert stored == expected
    # The scores are the Borda count of the final orders: 3, 2, 1 points for places 1–3.
    scores = {o["id"]: o["score"] for o in question.results_for(aggregate, "projector")["options"]}
    recount = Counter[str]()
    for order in final.values():
        for place, option in enumerate(order, 1):
            recount[option] += 4 - place
    assert scores == {i: recount[i] for i in ids}


# Screens ------------------------------------------------------------------------------


async def test_the_phone_form_projector_and_console_show_the_ranking(store: Store) -> None:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("rank")
    await room.go(0)
    await room.vote(
        "p1", "plans", "s1", {"rank-1": "playground", "rank-2": "trees", "rank-3": "fountain"}
    )
    await room.vote(
        "p2", "plans", "s2", {"rank-1": "trees", "rank-2": "playground", "rank-3": "benches"}
    )
    data = await room.load()
    screens = Screens()

    empty = screens.stage(room.view(data, "participant"), [])
    assert empty.count("<select") == 3
    for place in (1, 2, 3):
        assert f'<label for="rank-{place}">Place {place}</label>' in empty
        assert f'name="rank-{place}"' in empty
    assert "Choose your top 3, best first." in empty and " selected" not in empty
    assert 'data-move-up="Move {option} up"' in empty

    mine = [{"keys": ["playground@1", "trees@2", "fountain@3"], "text": None}]
    hers = screens.stage(room.view(data, "participant"), mine)
    assert re.search(
        r'<select id="rank-1" name="rank-1">.*?value="playground" selected', hers, re.S
    )
    assert re.search(r'<select id="rank-3" name="rank-3">.*?value="fountain" selected', hers, re.S)
    assert "Change answer" in hers

    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    labels = re.findall(r'<span class="bar-label">([^<]+)</span>', projector)
    assert labels == ["Trees", "Playground", "Benches", "Fountain"]  # 5, 5, 1, 1 points
    assert "5 points" in projector and "average place 1.5" in projector
    assert 'class="bar-fill w83"' in projector  # 5 of the 6 points two people could give

    await room.show_results()
    results = screens.snapshot_fields(room.view(await room.load(), "participant"), "participant")
    assert "5 points" in results["results_html"] and "w83" in results["results_html"]

    await room.close_vote()
    closed = screens.stage(room.view(await room.load(), "participant"), mine)
    assert re.search(
        r'<ol class="mine ranking-mine"><li>Playground</li><li>Trees</li><li>Fountain</li></ol>',
        closed,
    )


def test_the_form_without_javascript_round_trip(world: World) -> None:
    room, code = world.start_run("ranking")
    world.go_to(room, "top-two")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}")
        assert 'name="rank-1"' in page.text and 'name="rank-3"' not in page.text
        form = {"token": token_of(page.text), "question_id": "top-two"}
        refused = phone.post(
            f"/r/{code}", data={**form, "submission_id": "s1", "rank-1": "", "rank-2": "market"}
        ).text
        assert "Place 1 is still empty; choose an option for it." in refused
        response = phone.post(
            f"/r/{code}",
            data={**form, "submission_id": "s2", "rank-1": "cinema", "rank-2": "market"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        after = phone.get(f"/r/{code}").text
        assert "Your answer is saved." in after
        assert re.search(r'name="rank-1">.*?value="cinema" selected', after, re.S)
    console = world.client.get(f"/console/room/{room}").text
    assert "How often each option got each place" in console
    assert '<th scope="row">Open-air cinema</th><td>1</td><td>0</td><td>1</td>' in console
    answers = world.client.get(f"/console/room/{room}/results.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(answers)))
    assert [r["answer"] for r in rows] == ["1. Open-air cinema", "2. Market"]
    summary = world.client.get(f"/console/room/{room}/summary.csv").content.decode("utf-8-sig")
    lines = summary.splitlines()
    # Four options: 3 points for first place, 2 for second; one respondent could give 3.
    assert any(",Open-air cinema,3,100.0" in line for line in lines), lines
    assert any(",Market,2,66.7" in line for line in lines), lines


def test_refusals_are_translated() -> None:
    from poll.i18n import translate

    for message in (
        "Put the options in your order first.",
        "Place {place} is still empty; choose an option for it.",
        "Places {places} are still empty; choose an option for each.",
        "You put {option} in more than one place; give each place another option.",
    ):
        assert translate("nl", message) != message
