"""Each question type: validating a participant's answer, tallying, CSV cells."""

from __future__ import annotations

import pytest

from poll.questions import (
    OTHER_KEY,
    REGISTRY,
    Aggregate,
    Answer,
    AnswerRefused,
    Choice,
    Open,
    Option,
    TextEntry,
    YesNo,
)
from poll.questions.slide import render_markdown


def choice(**kwargs: object) -> Choice:
    defaults: dict[str, object] = {
        "id": "met-wie",
        "title": "Met wie zou je willen leren?",
        "options": (
            Option("vakgenoten", "Vakgenoten"),
            Option("bewoners", "Bewoners"),
            Option("bestuurders", "Bestuurders"),
        ),
    }
    return Choice(**(defaults | kwargs))  # type: ignore[arg-type]


def refusal(question: object, raw: object) -> str:
    with pytest.raises(AnswerRefused) as caught:
        question.validate(raw)  # type: ignore[attr-defined]
    return str(caught.value)


def test_registry_lists_every_type_once() -> None:
    assert sorted(REGISTRY) == [
        "choice",
        "leaderboard",
        "open",
        "qa",
        "quiz",
        "ranking",
        "scale",
        "slide",
        "wordcloud",
        "yesno",
    ]


# yes/no ----------------------------------------------------------------------


def test_yesno_accepts_yes_and_no() -> None:
    question = YesNo(
        id="q", title="Herkennen jullie deze leervragen?", yes_label="Ja", no_label="Nee"
    )
    assert question.validate({"choice": "yes"}) == Answer(keys=("yes",))
    assert question.validate({"choice": "no"}) == Answer(keys=("no",))


@pytest.mark.parametrize("raw", [{}, {"choice": "maybe"}, {"choice": 1}, "yes", None, []])
def test_yesno_refuses_anything_else(raw: object) -> None:
    assert refusal(YesNo(id="q", title="?"), raw)


def test_yesno_tally_counts_and_percentages() -> None:
    question = YesNo(id="q", title="?", yes_label="Ja", no_label="Nee")
    tally = question.tally(Aggregate(respondents=3, counts={"yes": 2, "no": 1}))
    assert tally["kind"] == "bars"
    assert [(o["label"], o["count"], o["percent"]) for o in tally["options"]] == [
        ("Ja", 2, 66.7),
        ("Nee", 1, 33.3),
    ]
    assert question.csv_values(Answer(keys=("no",))) == ["Nee"]


def test_tally_of_nobody_is_zero_percent() -> None:
    tally = YesNo(id="q", title="?").tally(Aggregate())
    assert [o["percent"] for o in tally["options"]] == [0.0, 0.0]


# choice ----------------------------------------------------------------------


def test_single_choice_takes_one_option() -> None:
    question = choice()
    assert question.validate({"choices": ["bewoners"]}) == Answer(keys=("bewoners",))
    assert question.validate({"choices": "bewoners"}) == Answer(keys=("bewoners",))
    assert "one answer only" in refusal(question, {"choices": ["bewoners", "vakgenoten"]})


def test_choice_refuses_unknown_options_and_empty_answers() -> None:
    question = choice()
    assert "not part of this question" in refusal(question, {"choices": ["iedereen"]})
    assert "Choose an answer" in refusal(question, {"choices": []})
    assert refusal(question, {"choices": [1, 2]})
    assert refusal(question, {"choices": {"a": 1}})


def test_multiple_choice_limits() -> None:
    question = choice(multiple=True, max_choices=2)
    assert question.validate({"choices": ["bewoners", "vakgenoten"]}).keys == (
        "bewoners",
        "vakgenoten",
    )
    # The same option twice counts once.
    assert question.validate({"choices": ["bewoners", "bewoners"]}).keys == ("bewoners",)
    assert "at most 2" in refusal(question, {"choices": ["bewoners", "vakgenoten", "bestuurders"]})
    unlimited = choice(multiple=True)
    assert len(unlimited.validate({"choices": ["bewoners", "vakgenoten", "bestuurders"]}).keys) == 3


def test_other_text_is_an_answer_of_its_own() -> None:
    question = choice(multiple=True, other=True)
    answer = question.validate({"choices": ["bewoners", OTHER_KEY], "other": "  Buurtteams \n"})
    assert answer == Answer(keys=("bewoners", OTHER_KEY), text="Buurtteams")
    assert question.csv_values(answer) == ["Bewoners", "Buurtteams"]
    only_other = question.validate({"other": "Wijkagenten"})
    assert only_other.keys == (OTHER_KEY,)
    assert "Write your other answer" in refusal(question, {"choices": [OTHER_KEY], "other": " "})
    assert "200" in refusal(question, {"other": "x" * 201})


def test_other_text_refused_when_the_question_has_none() -> None:
    assert "no other answers" in refusal(choice(), {"other": "iets anders"})


def test_choice_tally_keeps_other_texts() -> None:
    question = choice(multiple=True, other=True, other_label="Anders, namelijk")
    tally = question.tally(
        Aggregate(
            respondents=4,
            counts={"bewoners": 3, "vakgenoten": 1, OTHER_KEY: 2},
            texts=(TextEntry("1", "Buurtteams"), TextEntry("2", "Scholen", hidden=True)),
        )
    )
    bars = {o["id"]: (o["count"], o["percent"]) for o in tally["options"]}
    assert bars == {
        "vakgenoten": (1, 25.0),
        "bewoners": (3, 75.0),
        "bestuurders": (0, 0.0),
        OTHER_KEY: (2, 50.0),
    }
    assert tally["options"][-1]["label"] == "Anders, namelijk"
    assert [t["text"] for t in tally["other_texts"]] == ["Buurtteams", "Scholen"]
    assert tally["other_texts"][1]["hidden"] is True


# open ------------------------------------------------------------------------


def test_open_answer_is_cleaned_text() -> None:
    question = Open(id="q", title="?", max_length=10)
    assert question.validate({"text": "  Meer\tgeld\x00 "}) == Answer(text="Meer geld")
    assert question.csv_values(Answer(text="Meer geld")) == ["Meer geld"]


@pytest.mark.parametrize("raw", [{"text": ""}, {"text": "   \n"}, {}, {"text": 5}, "text"])
def test_open_refuses_empty_or_non_text(raw: object) -> None:
    assert refusal(Open(id="q", title="?"), raw)


def test_open_refuses_too_long_text_and_says_the_limit() -> None:
    message = refusal(Open(id="q", title="?", max_length=10), {"text": "x" * 11})
    assert "11" in message and "10" in message


def test_open_tally_lists_texts_and_max_entries() -> None:
    question = Open(id="q", title="?", max_answers=3)
    assert question.max_entries == 3
    assert question.answer_mode == "append"
    single = Open(id="q", title="?")
    assert single.max_entries == 1 and single.answer_mode == "replace"  # sending again changes it
    tally = question.tally(
        Aggregate(respondents=1, texts=(TextEntry("7", "a"), TextEntry("8", "b")))
    )
    assert tally["kind"] == "texts"
    assert tally["count"] == 2
    assert [t["ref"] for t in tally["texts"]] == ["7", "8"]


# slide -----------------------------------------------------------------------


def test_slide_markdown_subset_renders_lists_emphasis_and_links() -> None:
    html = render_markdown(
        "Een *klein* **deel**\n\n- een\n- twee\n\n[site](https://wijkwijzer.org)"
    )
    assert "<em>klein</em>" in html and "<strong>deel</strong>" in html
    assert "<ul>" in html and "<li>twee</li>" in html
    assert '<a rel="noopener noreferrer" href="https://wijkwijzer.org">site</a>' in html


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "[klik](javascript:alert(1))",
        "[klik](data:text/html;base64,PHNjcmlwdD4=)",
        "<svg onload=alert(1)>",
    ],
)
def test_slide_markdown_never_passes_html_or_unsafe_links(body: str) -> None:
    html = render_markdown(body)
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert 'href="javascript' not in html and 'href="data' not in html
