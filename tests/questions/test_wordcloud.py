"""The word cloud: its script keys, how words are normalised and counted, the most common
spelling, results per audience with a hidden word, CSV cells, its run on both stores with
2,000 phones, its screens and its form without JavaScript."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from collections import Counter

import pytest

from poll.answers import Aggregate, Answer, TextEntry
from poll.questions import REGISTRY
from poll.questions.wordcloud import (
    CLOUD_WORDS,
    CONSOLE_WORDS,
    PHONE_WORDS,
    WordCloud,
    display_form,
    level_of,
    normalise,
    tone_of,
)
from poll.rooms import InvalidAnswer, Rooms
from poll.script import parse_script
from poll.store.base import Store
from poll.text import clean_text
from poll.web.screens import Screens
from tests.questions.items import one_item, one_item_problems, refusal
from tests.web.conftest import World, token_of
from tests.web.conftest import world as world  # the fixture, for the form's round trip


def cloud(max_words: int = 3, max_length: int = 25) -> WordCloud:
    return WordCloud(id="words", title="Words?", max_words=max_words, max_length=max_length)


def script(item: str) -> str:
    return one_item("wordcloud", item)


def problems(item: str) -> list[str]:
    return one_item_problems("wordcloud", item)


# The script ------------------------------------------------------------------------


def test_a_word_cloud_reads_its_keys_with_their_defaults() -> None:
    parsed = parse_script(script("id: w\nprompt: Three words?"))
    question = parsed.sessions["s"].questions["w"]
    assert isinstance(question, WordCloud) and REGISTRY["wordcloud"] is WordCloud
    assert (question.max_words, question.max_length) == (3, 25)
    assert question.answer_mode == "replace" and question.max_entries == 1

    parsed = parse_script(
        script("id: w\nprompt: One word?\nmax_words: 1\nmax_length: 40\nallow_change: false")
    )
    question = parsed.sessions["s"].questions["w"]
    assert isinstance(question, WordCloud)
    assert (question.max_words, question.max_length, question.allow_change) == (1, 40, False)
    view = question.client_view()
    assert view["max_words"] == 1 and view["max_length"] == 40 and view["type"] == "wordcloud"
    # The run's own copy reads back into an equal question.
    again = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - "
        + repr(question.to_spec()).replace("'", '"').replace("False", "false")
        + "\n"
    )
    assert again.sessions["s"].questions["w"] == question


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "prompt: P\nmax_words: 0",
            "sessions.yaml:8:20: sessions.s.items[0].max_words: must be between 1 and 10, not 0",
        ),
        (
            "prompt: P\nmax_words: 11",
            "sessions.yaml:8:20: sessions.s.items[0].max_words: must be between 1 and 10, not 11",
        ),
        (
            "prompt: P\nmax_words: three",
            "sessions.yaml:8:20: sessions.s.items[0].max_words: must be a whole number, "
            "not 'three'",
        ),
        (
            "prompt: P\nmax_words: true",
            "sessions.yaml:8:20: sessions.s.items[0].max_words: must be a whole number, not True",
        ),
        (
            "prompt: P\nmax_length: 0",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be between 1 and 40, not 0",
        ),
        (
            "prompt: P\nmax_length: 41",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be between 1 and 40, not 41",
        ),
        (
            "prompt: P\nmax_length: 2.5",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be a whole number, not 2.5",
        ),
        (
            "prompt: P\nmax_length: [20]",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be a whole number, not [20]",
        ),
        (
            "prompt: [P]",
            "sessions.yaml:7:17: sessions.s.items[0].prompt: must be a text, not a list",
        ),
        (
            "max_words: 2",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'prompt' (a text)",
        ),
        (
            "prompt: P\nmax_word: 2",
            "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'max_word' "
            "(did you mean 'max_words'?)",
        ),
        (
            "prompt: P\nallow_change: sometimes",
            "sessions.yaml:8:23: sessions.s.items[0].allow_change: must be true or false, "
            "not 'sometimes'",
        ),
    ],
)
def test_poll_check_names_file_line_column_and_key(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


def test_every_wrong_key_is_reported_at_once() -> None:
    found = problems("prompt: P\nmax_words: 12\nmax_length: -3")
    assert [p.split(": ", 2)[1] for p in found] == [
        "sessions.s.items[0].max_words",
        "sessions.s.items[0].max_length",
    ]


# Normalising -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "key", "shown"),
    [
        ("Python", "python", "Python"),
        ("PYTHON", "python", "PYTHON"),
        ("  python!  ", "python", "python"),
        ('"Python."', "python", "Python"),
        ("¡Hola!", "hola", "Hola"),
        ("(open   source)", "open source", "open source"),
        ("open\tsource", "open source", "open source"),
        ("«vrijheid»", "vrijheid", "vrijheid"),
        ("…samen…", "samen", "samen"),
        ("Cafe\u0301", "café", "Café"),  # decomposed é (NFD) counts as the composed one
        ("CAFÉ", "café", "CAFÉ"),
        ("Straße", "strasse", "Straße"),  # case folded, not only lower-cased
        ("STRASSE", "strasse", "STRASSE"),
        ("ΣΊΣΥΦΟΣ", "σίσυφοσ", "ΣΊΣΥΦΟΣ"),
        ("C#", "c#", "C#"),  # meaning-bearing marks at the edge stay
        ("100%", "100%", "100%"),
        ("@home", "@home", "@home"),
        ("e-mail", "e-mail", "e-mail"),
        ("-e-mail-", "e-mail", "e-mail"),
        ("pyt\u200bhon", "python", "python"),  # invisible characters go, as in open answers
        ("\ufeffpython\x00", "python", "python"),
        ("🎉", "🎉", "🎉"),
        ("=SUM(A1)", "=sum(a1)", "=SUM(A1)"),  # a bracket whose partner is inside stays
        ("f(x)", "f(x)", "f(x)"),
        ("(note", "note", "note"),
        ("[[trees]]", "trees", "trees"),
        ("?!", "", ""),
    ],
)
def test_words_are_counted_by_their_normalised_form(typed: str, key: str, shown: str) -> None:
    assert normalise(typed) == key
    assert display_form(typed) == shown


def test_nfc_and_case_make_one_key_from_any_spelling() -> None:
    forms = ["Café", "cafe\u0301", "CAFÉ", " café. ", "Cafe\u0301!"]
    assert {normalise(f) for f in forms} == {"café"}


# Answers ---------------------------------------------------------------------------


def test_an_answer_keeps_the_normalised_words_as_keys_and_the_typed_ones_as_text() -> None:
    answer = cloud().validate({"words": ["Python!", "", "  open   source "]})
    assert answer == Answer(keys=("python", "open source"), text="Python!\nopen source")


def test_one_person_writing_a_word_twice_counts_it_once() -> None:
    answer = cloud().validate({"words": ["Cat", "dog", "CAT."]})
    assert answer == Answer(keys=("cat", "dog"), text="Cat\ndog")
    # Three fields with two distinct words fit max_words 2.
    assert cloud(max_words=2).validate({"words": ["a", "A", "b"]}).keys == ("a", "b")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"words": []}, "Write at least one word first."),
        ({"words": ["", " ", "\u200b"]}, "Write at least one word first."),
        ({}, "This answer is not in a form poll understands."),
        ({"words": "python"}, "not in a form"),
        ({"words": ["python", 3]}, "not in a form"),
        ({"words": [["python"]]}, "not in a form"),
        ({"words": [""] * 51}, "not in a form"),
        ({"text": "python"}, "not in a form"),
        (["python"], "not in a form"),
        (None, "not in a form"),
        (
            {"words": ["ok", "x" * 26]},
            "Word 2 is 26 characters long; at most 25 fit.",
        ),
        (
            {"words": ["", "?!", "ok"]},
            "Word 2 is only punctuation; write a word there or leave it empty.",
        ),
        ({"words": ["a", "b", "c", "d"]}, "You wrote 4 words; at most 3 fit."),
    ],
)
def test_refusals_say_what_is_wrong(raw: object, message: str) -> None:
    assert message in refusal(cloud(), raw)


def test_length_is_counted_after_cleaning() -> None:
    # Spaces around and invisible characters do not count towards max_length.
    question = cloud(max_length=5)
    assert question.validate({"words": ["  hello\u200b  "]}).keys == ("hello",)
    assert "Word 1 is 6 characters long" in refusal(question, {"words": ["hello!"]})


def test_the_form_without_javascript_reads_into_the_same_shape() -> None:
    fields = {"words": ["Python", "", "open source"], "token": ["x"], "question_id": ["w"]}
    assert cloud().answer_from_form(fields) == {"words": ["Python", "", "open source"]}
    assert cloud().answer_from_form({}) == {"words": []}
    answer = cloud().validate(cloud().answer_from_form(fields))
    assert answer.keys == ("python", "open source")


# Results, summary, CSV ---------------------------------------------------------------


def aggregate_of(*answers: list[str], marks: dict[str, str] | None = None) -> Aggregate:
    """The store's counters for these answers, as a store would count them."""
    question = cloud(max_words=10, max_length=40)
    counts: Counter[str] = Counter()
    texts = []
    for n, words in enumerate(answers, 1):
        answer = question.validate({"words": words})
        counts.update(answer.keys)
        texts.append(TextEntry(f"r{n}", answer.text or ""))
    return Aggregate(
        respondents=len(answers), counts=dict(counts), texts=tuple(texts), marks=marks or {}
    )


def test_the_most_common_spelling_is_shown() -> None:
    aggregate = aggregate_of(
        ["python"], ["Python"], ["Python!"], ["PYTHON"], ["Rust"], ["rust"], ["Go"]
    )
    words = cloud().results_for(aggregate, "projector")["words"]
    assert [(w["text"], w["count"]) for w in words] == [("Python", 4), ("Rust", 2), ("Go", 1)]
    # A tie between spellings goes to the one written first ("Rust" before "rust").
    console = cloud().results_for(aggregate, "console")["words"]
    assert console[0]["spellings"] == [
        {"text": "Python", "count": 2},
        {"text": "python", "count": 1},
        {"text": "PYTHON", "count": 1},
    ]
    assert console[1]["spellings"] == [{"text": "Rust", "count": 1}, {"text": "rust", "count": 1}]


def test_words_are_ordered_by_count_then_by_who_came_first() -> None:
    aggregate = aggregate_of(["zebra", "apple"], ["mango"], ["apple", "mango"], ["kiwi"])
    words = cloud().results_for(aggregate, "participant")["words"]
    assert [w["text"] for w in words] == ["apple", "mango", "zebra", "kiwi"]
    assert [w["percent"] for w in words] == [50.0, 50.0, 25.0, 25.0]


def test_each_audience_gets_its_allow_list_and_a_hidden_word_reaches_only_the_console() -> None:
    aggregate = aggregate_of(
        ["Trees", "nonsense"], ["Trees", "Benches"], ["Nonsense!", "benches"], ["trees"],
        marks={"hide:nonsense": "1"},
    )  # fmt: skip
    question = cloud()
    phone = question.results_for(aggregate, "participant")
    projector = question.results_for(aggregate, "projector")
    console = question.results_for(aggregate, "console")
    assert phone["kind"] == projector["kind"] == console["kind"] == "wordcloud"
    assert phone["respondents"] == projector["respondents"] == console["respondents"] == 4
    assert [w["text"] for w in phone["words"]] == ["Trees", "Benches"]
    assert [w["text"] for w in projector["words"]] == ["Trees", "Benches"]
    assert all(set(w) == {"text", "count", "percent", "level", "tone"} for w in phone["words"])
    assert all(
        set(w) == {"key", "text", "count", "percent", "level", "tone"} for w in projector["words"]
    )
    assert "onsense" not in repr(phone) and "onsense" not in repr(projector)
    # Nobody's answer as sent reaches the phones: not the texts, not the other spellings.
    assert "trees" not in [w["text"] for w in phone["words"]]
    assert [(w["text"], w["hidden"]) for w in console["words"]] == [
        ("Trees", False),
        ("nonsense", True),  # 2, as Benches, and written first
        ("Benches", False),
    ]
    assert console["distinct"] == 3 and console["more"] == 0
    assert question.tally(aggregate) == console
    # The sizes follow the visible words: the hidden one does not shrink the others.
    assert [w["level"] for w in projector["words"]] == [6, 5]


def test_a_hidden_word_is_shown_again_when_its_mark_is_cleared() -> None:
    aggregate = aggregate_of(["a", "b"], ["b"], marks={})
    assert [w["text"] for w in cloud().results_for(aggregate, "projector")["words"]] == ["b", "a"]


def test_the_words_of_one_aggregate_are_counted_once_for_every_audience() -> None:
    question = cloud()
    aggregate = aggregate_of(["a", "b"], ["b"])
    assert question.words(aggregate) is question.words(aggregate)
    # An equal aggregate from another room (or a later read) is counted again.
    again = aggregate_of(["a", "b"], ["b"], ["a"])
    assert [w.count for w in question.words(again)] == [2, 2]
    assert [w.count for w in question.words(aggregate)] == [2, 1]


def test_levels_and_tones_are_stable_steps() -> None:
    assert level_of(10, 10) == 6 and level_of(25, 100) == 4 and level_of(1, 100) == 2
    assert level_of(1, 400) == 1
    assert level_of(0, 0) == 1
    assert tone_of("python") == tone_of("python") and 0 <= tone_of("python") < 6
    assert len({tone_of(word) for word in ("a", "b", "c", "d", "e", "f", "g", "h")}) > 2


def test_each_audience_gets_at_most_its_number_of_words() -> None:
    many = [[f"word{n}"] * 1 for n in range(150)]
    aggregate = aggregate_of(*many, marks={"hide:word149": "1"})
    question = cloud()
    phone = question.results_for(aggregate, "participant")
    projector = question.results_for(aggregate, "projector")
    console = question.results_for(aggregate, "console")
    assert len(phone["words"]) == PHONE_WORDS and phone["more"] == 149 - PHONE_WORDS
    assert len(projector["words"]) == CLOUD_WORDS and projector["more"] == 149 - CLOUD_WORDS
    # The console: the most frequent ones, and every hidden word (to show it again).
    assert len(console["words"]) == CONSOLE_WORDS + 1
    assert console["words"][-1]["text"] == "word149" and console["words"][-1]["hidden"]
    assert console["more"] == 150 - CONSOLE_WORDS - 1 and console["distinct"] == 150


def test_nobody_answered_is_an_empty_cloud() -> None:
    results = cloud().results_for(Aggregate(), "projector")
    assert results == {"kind": "wordcloud", "respondents": 0, "more": 0, "words": []}
    assert cloud().summary(Aggregate()) == []


def test_summary_rows_are_one_per_word_with_its_most_common_spelling() -> None:
    aggregate = aggregate_of(
        ["Trees", "benches"], ["trees"], ["TREES", "Benches!"], marks={"hide:benches": "1"}
    )
    # Hidden words stay in the facilitator's export.
    assert cloud().summary(aggregate) == [("Trees", 3, 100.0), ("benches", 2, 66.7)]


def test_csv_cells_are_the_words_as_typed() -> None:
    answer = cloud().validate({"words": ["=cmd|' /C calc'!A0", "", "Open Source!"]})
    assert cloud().csv_values(answer) == ["=cmd|' /C calc'!A0", "Open Source!"]
    # An answer without its text (never stored so, but never lose data): the keys.
    assert cloud().csv_values(Answer(keys=("a", "b"))) == ["a", "b"]


def test_only_hiding_a_word_is_a_mark_the_console_may_set() -> None:
    question = cloud()
    assert question.mark_allowed("hide:python", "1")
    assert question.mark_allowed("hide:python", None)
    assert question.mark_allowed("hide:open source", "1")
    assert question.mark_allowed("hide:strasse", "1")
    assert not question.mark_allowed("hide:Python", "1")  # not a normalised word
    assert not question.mark_allowed("hide:python!", "1")
    assert not question.mark_allowed("hide:", "1")
    assert not question.mark_allowed("hide:python", "0")
    assert not question.mark_allowed("hide:python", "yes")
    assert not question.mark_allowed("pin:python", "1")
    assert not question.mark_allowed("hide:" + "x" * 81, "1")


# A run on both stores -----------------------------------------------------------------

RUN = """
sessions:
  words:
    title: Words
    language: en
    items:
      - type: wordcloud
        id: square
        prompt: Words for the square?
        max_words: 3
"""

#: Each word with spellings a phone may type for it.
VOCABULARY = {
    "trees": ["trees", "Trees", "TREES", "trees!"],
    "benches": ["benches", "Benches"],
    "café": ["café", "Cafe\u0301", "CAFÉ"],
    "open space": ["open space", "Open  Space", "(open space)"],
    "light": ["light", "Light."],
    "water": ["water"],
    "quiet": ["quiet", "Quiet"],
    "art": ["art", "Art"],
}


async def test_two_thousand_phones_send_words_and_some_change_and_the_counts_are_exact(
    store: Store,
) -> None:
    parsed = parse_script(RUN)
    rooms = Rooms(store, lambda: parsed)
    room = await rooms.create("words")
    await room.go(0)
    question = room.question("square")
    assert isinstance(question, WordCloud)
    rng = random.Random(11)
    keys = list(VOCABULARY)
    final: dict[str, list[str]] = {}
    typed_final: dict[str, list[str]] = {}

    def pick() -> tuple[list[str], list[str]]:
        chosen = rng.sample(keys, rng.randint(1, 3))
        return chosen, [rng.choice(VOCABULARY[key]) for key in chosen]

    async def phone(n: int) -> None:
        chosen, typed = pick()
        await room.vote(f"phone-{n}", "square", f"s{n}a", {"words": typed})
        if n % 10 == 0:  # one in ten changes her words, through the form
            chosen, typed = pick()
            fields = {"words": [*typed, ""]}
            await room.vote(f"phone-{n}", "square", f"s{n}b", question.answer_from_form(fields))
        final[f"phone-{n}"] = chosen
        typed_final[f"phone-{n}"] = typed

    await asyncio.gather(*(phone(n) for n in range(2000)))

    with pytest.raises(InvalidAnswer, match="at most 3 fit"):
        await room.vote("phone-x", "square", "sx", {"words": ["a", "b", "c", "d"]})

    aggregate = (await room.aggregates())["square"]
    expected: Counter[str] = Counter(key for chosen in final.values() for key in chosen)
    assert aggregate.respondents == 2000
    assert dict(aggregate.counts) == dict(expected)
    stored: Counter[str] = Counter()
    cells: Counter[str] = Counter()
    async for response in room.responses():
        stored.update(response.answer.keys)
        cells.update(question.csv_values(response.answer))
    assert stored == expected
    # The words as typed, cleaned as any free text (NFC, single spaces).
    assert cells == Counter(clean_text(w) for typed in typed_final.values() for w in typed)
    counted = {w["key"]: w["count"] for w in question.results_for(aggregate, "console")["words"]}
    assert counted == dict(expected)

    # Hiding the most frequent word takes it off the projector and the phones, not the console.
    top = expected.most_common(1)[0][0]
    await room.mark("square", f"hide:{top}", "1")
    aggregate = (await room.aggregates())["square"]
    assert aggregate.marks == {f"hide:{top}": "1"}
    for audience in ("projector", "participant"):
        shown = question.results_for(aggregate, audience)["words"]  # type: ignore[arg-type]
        assert top not in {normalise(w["text"]) for w in shown}
        assert len(shown) == len(expected) - 1
    console = {w["key"]: w["hidden"] for w in question.results_for(aggregate, "console")["words"]}
    assert console[top] is True and sum(console.values()) == 1
    await room.mark("square", f"hide:{top}", None)
    aggregate = (await room.aggregates())["square"]
    assert len(question.results_for(aggregate, "projector")["words"]) == len(expected)


async def test_the_console_may_not_set_any_other_mark(store: Store) -> None:
    from poll.rooms import InvalidMark

    room = await Rooms(store, lambda: parse_script(RUN)).create("words")
    await room.go(0)
    for key, value in (("hide:Trees", "1"), ("pin:trees", "1"), ("hide:trees", "0")):
        with pytest.raises(InvalidMark):
            await room.mark("square", key, value)
    assert (await room.aggregates()).get("square", Aggregate()).marks == {}


# Screens ------------------------------------------------------------------------------


async def test_the_phone_form_projector_and_console_show_the_words(store: Store) -> None:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("words")
    await room.go(0)
    await room.vote("p1", "square", "s1", {"words": ["Trees", "<b>bold</b>", ""]})
    await room.vote("p2", "square", "s2", {"words": ["trees!", "Water"]})
    await room.vote("p3", "square", "s3", {"words": ["Trees", "nonsense"]})
    await room.mark("square", "hide:nonsense", "1")
    data = await room.load()
    screens = Screens()

    empty = screens.stage(room.view(data, "participant"), [])
    assert empty.count('name="words"') == 3
    for number in (1, 2, 3):
        assert f'<label for="word-{number}">Word {number}</label>' in empty
    assert 'maxlength="25"' in empty and "Write up to 3 words or short phrases." in empty
    assert 'data-lists="words"' in empty
    assert "Send answer" in empty

    mine = [{"keys": ["trees", "water"], "text": "trees!\nWater"}]
    hers = screens.stage(room.view(data, "participant"), mine)
    assert 'id="word-1" name="words" maxlength="25" value="trees!"' in hers
    assert 'id="word-2" name="words" maxlength="25" value="Water"' in hers
    assert 'id="word-3" name="words" maxlength="25" value=""' in hers
    assert "Change answer" in hers

    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    shown = re.findall(r'<span class="wordcloud-word">([^<]+)</span>', projector)
    assert shown == ["Trees", "&lt;b&gt;bold&lt;/b&gt;", "Water"]  # escaped, hidden one left out
    assert "<b>bold" not in projector and "nonsense" not in projector
    assert 'data-key="trees" data-count="3"' in projector
    assert 'data-script="/static/questions/wordcloud.js?v=' in projector

    await room.show_results()
    results = screens.snapshot_fields(room.view(await room.load(), "participant"), "participant")
    assert "Trees" in results["results_html"] and "nonsense" not in results["results_html"]
    assert "data-key" not in results["results_html"]

    await room.close_vote()
    closed = screens.stage(room.view(await room.load(), "participant"), mine)
    assert '<ul class="mine"><li>trees!</li><li>Water</li></ul>' in closed


def test_the_form_without_javascript_round_trip(world: World) -> None:
    room, code = world.start_run("words")
    world.go_to(room, "square-words")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}")
        assert page.text.count('name="words"') == 3
        form = {"token": token_of(page.text), "question_id": "square-words"}
        refused = phone.post(
            f"/r/{code}", data={**form, "submission_id": "s1", "words": ["ok", "?!", ""]}
        ).text
        assert "Word 2 is only punctuation; write a word there or leave it empty." in refused
        response = phone.post(
            f"/r/{code}",
            data={
                **form,
                "submission_id": "s2",
                "words": ["Benches", "=SUM(A1)", "<script>alert(1)</script>"],
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
        after = phone.get(f"/r/{code}").text
        assert "Your answer is saved." in after
        assert 'value="Benches"' in after and 'value="=SUM(A1)"' in after
        assert "<script>alert(1)" not in after
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in after
    with world.as_("other") as other:
        page = other.get(f"/r/{code}")
        form = {"token": token_of(page.text), "question_id": "square-words"}
        other.post(f"/r/{code}", data={**form, "submission_id": "s3", "words": ["benches!", ""]})
    console = world.client.get(f"/console/room/{room}").text
    assert re.search(r'<th scope="row">Benches</th>\s*<td>2 · 100%</td>', console), console
    assert "Benches (1), benches (1)" in console
    answers = world.client.get(f"/console/room/{room}/results.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(answers)))
    assert [r["answer"] for r in rows] == [
        "Benches",
        "'=SUM(A1)",  # neutralised: a spreadsheet does not run it
        "<script>alert(1)</script>",
        "benches!",
    ]
    summary = world.client.get(f"/console/room/{room}/summary.csv").content.decode("utf-8-sig")
    lines = summary.splitlines()
    assert any(",Benches,2,100.0,2" in line for line in lines), lines
    assert any(",'=SUM(A1),1,50.0,2" in line for line in lines), lines


def test_refusals_are_translated() -> None:
    from poll.i18n import translate

    for message in (
        "Write at least one word first.",
        "Word {number} is {length} characters long; at most {limit} fit.",
        "Word {number} is only punctuation; write a word there or leave it empty.",
        "You wrote {count} words; at most {limit} fit.",
    ):
        assert translate("nl", message) != message
