"""The Q&A question: its script keys, questions and upvotes, who may upvote what, the
board each audience sees (moderated or not), its CSV, its run on both stores with
2,000 phones, its screens and its forms without JavaScript."""

from __future__ import annotations

import textwrap

import pytest

from poll.answers import Answer
from poll.questions import REGISTRY, AnswerRefused
from poll.questions.qa import NAME_MAX_LENGTH, QandA, split_text, stored_text
from poll.script import ScriptError, parse_script


def board(moderation: str = "none", **fields: int) -> QandA:
    return QandA(id="ask", title="Ask the alderman", moderation=moderation, **fields)  # type: ignore[arg-type]


def refusal(question: QandA, raw: object) -> str:
    with pytest.raises(AnswerRefused) as caught:
        question.validate(raw)
    return str(caught.value)


def script(item: str) -> str:
    """A one-item session around a Q&A's YAML (indented as an item of the list)."""
    body = textwrap.indent(textwrap.dedent(item).strip(), " " * 8)
    return (
        "sessions:\n  s:\n    title: T\n    language: en\n    items:\n"
        "      - type: qa\n" + body + "\n"
    )


def problems(item: str) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        parse_script(script(item), "sessions.yaml")
    return [str(p) for p in caught.value.problems]


# The script ------------------------------------------------------------------------


def test_a_board_reads_its_keys_and_defaults() -> None:
    parsed = parse_script(
        script("""
        id: ask
        prompt: Ask the alderman
        moderation: before
        max_length: 140
        max_questions: 2
        """)
    )
    question = parsed.sessions["s"].questions["ask"]
    assert isinstance(question, QandA) and REGISTRY["qa"] is QandA
    assert (question.moderation, question.max_length, question.max_questions) == ("before", 140, 2)
    assert question.answer_mode == "append" and question.max_entries == 2
    plain = parse_script(script("prompt: Anything?")).sessions["s"].items[0]
    assert isinstance(plain, QandA)
    assert (plain.moderation, plain.max_length, plain.max_questions) == ("none", 280, 3)
    # The run's own copy reads back into an equal question.
    again = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - "
        + repr(question.to_spec()).replace("'", '"')
        + "\n"
    )
    assert again.sessions["s"].questions["ask"] == question


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "prompt: P\nmoderation: after",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none (questions appear "
            "at once) or before (you approve each first), not 'after'",
        ),
        (
            "prompt: P\nmoderation: no",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none (questions appear "
            "at once) or before (you approve each first), not false; YAML reads no/off/yes/on "
            "as true/false",
        ),
        (
            "prompt: P\nmoderation: [before]",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none",
        ),
        (
            "prompt: P\nmax_length: 0",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be between 1 and 2000, not 0",
        ),
        (
            "prompt: P\nmax_length: 1.5",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be a whole number, not 1.5",
        ),
        (
            "prompt: P\nmax_questions: 21",
            "sessions.yaml:8:24: sessions.s.items[0].max_questions: must be between 1 and 20, "
            "not 21",
        ),
        (
            "prompt: P\nmax_questions: three",
            "sessions.yaml:8:24: sessions.s.items[0].max_questions: must be a whole number, "
            "not 'three'",
        ),
        (
            "max_questions: 2",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'prompt' (a text)",
        ),
        ("prompt: ''", "sessions.yaml:7:17: sessions.s.items[0].prompt: must not be empty"),
        (
            "prompt: P\nmoderate: before",
            "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'moderate' (did you mean "
            "'moderation'?)",
        ),
    ],
)
def test_poll_check_names_file_line_column_and_key(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


def test_every_wrong_key_is_reported_at_once() -> None:
    found = problems("prompt: P\nmoderation: later\nmax_length: -1\nmax_questions: 0")
    assert [p.split(": ")[1] for p in found] == [
        "sessions.s.items[0].moderation",
        "sessions.s.items[0].max_length",
        "sessions.s.items[0].max_questions",
    ]


# Questions and upvotes --------------------------------------------------------------


def test_a_question_is_cleaned_text_with_the_name_after_a_newline() -> None:
    question = board()
    assert question.validate({"text": "  Why\tnot\u200b   now? "}) == Answer(text="Why not now?")
    signed = question.validate({"text": "Who pays?", "name": " Ann\nde Vries "})
    # Newlines a participant types become spaces: the first one left is the separator.
    assert signed == Answer(text="Who pays?\nAnn de Vries")
    assert split_text(signed.text or "") == ("Who pays?", "Ann de Vries")
    assert split_text("Who pays?") == ("Who pays?", None)
    assert stored_text("Q", None) == "Q" and stored_text("Q", "") == "Q"
    # An empty or blank name is anonymous.
    assert question.validate({"text": "Q?", "name": " \u200b "}) == Answer(text="Q?")
    assert question.mode_for(signed) == "append"


def test_an_upvote_is_one_toggled_key() -> None:
    question = board()
    upvote = question.validate({"up": "17"})
    assert upvote == Answer(keys=("up:17",))
    assert question.mode_for(upvote) == "toggle"
    # An upvote wins over a text sent along (the page script reads the whole form).
    assert question.validate({"up": "17", "text": "draft", "name": "x"}) == upvote


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Write your question first."),
        ({"text": ""}, "Write your question first."),
        ({"text": " \u200b\ufeff "}, "Write your question first."),
        ({"text": "x" * 281}, "Your question is 281 characters long; at most 280 fit."),
        (
            {"text": "Q", "name": "n" * (NAME_MAX_LENGTH + 1)},
            f"Your name is {NAME_MAX_LENGTH + 1} characters long; at most {NAME_MAX_LENGTH} fit.",
        ),
        ({"text": 5}, "not in a form"),
        ({"text": ["Q"]}, "not in a form"),
        ({"text": "Q", "name": 7}, "not in a form"),
        ({"up": 17}, "not in a form"),
        ({"up": "17 OR 1=1"}, "not in a form"),
        ({"up": "x" * 41}, "not in a form"),
        ("Why?", "not in a form"),
        (None, "not in a form"),
    ],
)
def test_refusals_say_what_is_wrong(raw: object, message: str) -> None:
    assert message in refusal(board(), raw)


def test_max_length_is_the_scripts() -> None:
    assert board(max_length=10).validate({"text": "x" * 10}) == Answer(text="x" * 10)
    assert "11 characters long; at most 10" in refusal(board(max_length=10), {"text": "x" * 11})


def test_the_form_without_javascript_reads_into_the_same_shape() -> None:
    question = board()
    fields = {"text": ["Why?"], "name": ["Ann"], "token": ["x"], "question_id": ["ask"]}
    assert question.answer_from_form(fields) == {"text": "Why?", "name": "Ann", "up": ""}
    assert question.validate(question.answer_from_form(fields)) == Answer(text="Why?\nAnn")
    upvote = question.answer_from_form({"up": ["3"], "token": ["x"]})
    assert question.validate(upvote) == Answer(keys=("up:3",))


def test_the_console_may_set_only_the_boards_marks() -> None:
    question = board("before")
    assert question.mark_allowed("state:12", "approved")
    assert question.mark_allowed("state:12", "answered")
    assert question.mark_allowed("state:12", None)
    assert question.mark_allowed("pinned", "12") and question.mark_allowed("pinned", None)
    assert not question.mark_allowed("state:12", "hidden")  # hiding is moderation
    assert not question.mark_allowed("state:12", "")
    assert not question.mark_allowed("state:", "approved")
    assert not question.mark_allowed("state:1 2", "approved")
    assert not question.mark_allowed("pinned", "a b")
    assert not question.mark_allowed("pinned", "")
    assert not question.mark_allowed("up:12", "1")
    assert not question.mark_allowed("colour", "red")
