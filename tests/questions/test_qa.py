"""The Q&A question: its script keys, questions and upvotes, who may upvote what, the
board each audience sees (moderated or not), its CSV, its run on both stores with
2,000 phones, its screens and its forms without JavaScript."""

from __future__ import annotations

import textwrap

import pytest

from poll.answers import Aggregate, Answer, TextEntry
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


# Who may upvote what ------------------------------------------------------------------


def entries(*texts: str, hidden: tuple[str, ...] = ()) -> tuple[TextEntry, ...]:
    """Text entries with refs "1", "2", … in the order given."""
    return tuple(
        TextEntry(str(n), text, hidden=str(n) in hidden) for n, text in enumerate(texts, 1)
    )


def admit_refusal(question: QandA, raw: object, mine: list[Answer], aggregate: Aggregate) -> str:
    with pytest.raises(AnswerRefused) as caught:
        question.admit(question.validate(raw), mine, aggregate)
    return str(caught.value)


def test_upvoting_needs_a_question_on_the_board_that_is_not_hers() -> None:
    question = board()
    aggregate = Aggregate(respondents=2, texts=entries("Mine?", "Theirs?", "Gone?", hidden=("3",)))
    mine = [Answer(text="Mine?", ref="1")]
    question.admit(question.validate({"up": "2"}), mine, aggregate)  # no refusal
    question.admit(question.validate({"text": "Another?"}), mine, aggregate)
    assert admit_refusal(question, {"up": "1"}, mine, aggregate) == (
        "You cannot upvote your own question."
    )
    assert admit_refusal(question, {"up": "9"}, mine, aggregate) == (
        "That question is not on the board."
    )
    assert admit_refusal(question, {"up": "3"}, mine, aggregate) == (
        "That question has been taken off the board."
    )


def test_moderated_questions_take_upvotes_once_approved() -> None:
    question = board("before")
    texts = entries("Waiting?", "Approved?", "Answered?")
    marks = {"state:2": "approved", "state:3": "answered"}
    aggregate = Aggregate(respondents=3, texts=texts, marks=marks)
    assert admit_refusal(question, {"up": "1"}, [], aggregate) == (
        "That question is waiting for the facilitator's approval."
    )
    question.admit(question.validate({"up": "2"}), [], aggregate)
    question.admit(question.validate({"up": "3"}), [], aggregate)
    # Without moderation the same question is on the board at once.
    board().admit(board().validate({"up": "1"}), [], aggregate)


def test_taking_an_upvote_back_is_always_allowed() -> None:
    question = board("before")
    aggregate = Aggregate(respondents=2, texts=entries("Q?", hidden=("1",)))
    mine = [Answer(keys=("up:1",), ref="8")]
    question.admit(question.validate({"up": "1"}), mine, aggregate)  # hidden, unapproved: fine


# The board per audience ---------------------------------------------------------------


def votes(**per_ref: int) -> dict[str, int]:
    return {f"up:{ref.lstrip('r')}": count for ref, count in per_ref.items()}


def test_the_board_sorts_by_votes_then_by_time() -> None:
    aggregate = Aggregate(
        respondents=6,
        counts=votes(r1=1, r2=3, r3=1, r4=0),
        texts=entries("First?", "Second?\nBo", "Third?", "Fourth?"),
    )
    results = board().results_for(aggregate, "projector")
    assert [(q["text"], q["votes"]) for q in results["questions"]] == [
        ("Second?", 3),
        ("First?", 1),
        ("Third?", 1),
        ("Fourth?", 0),
    ]
    assert results["questions"][0]["name"] == "Bo"
    assert results["questions"][1]["name"] is None  # never a name nobody gave
    assert results["kind"] == "qa" and results["count"] == 4 and results["pinned"] is None


def test_phones_and_projector_see_the_board_the_console_sees_everything() -> None:
    aggregate = Aggregate(
        respondents=5,
        counts=votes(r1=2, r2=4, r3=1, r4=0),
        texts=entries("Visible?", "Hidden?", "Waiting?", "Answered?\nAnn", hidden=("2",)),
        marks={"state:1": "approved", "state:4": "answered", "pinned": "4"},
    )
    moderated = board("before")
    public = {"ref", "text", "name", "votes", "answered", "pinned"}
    for audience in ("participant", "projector"):
        results = moderated.results_for(aggregate, audience)  # type: ignore[arg-type]
        assert [q["text"] for q in results["questions"]] == ["Visible?", "Answered?"]
        assert all(set(q) == public for q in results["questions"])
        assert results["pinned"] == {
            "ref": "4", "text": "Answered?", "name": "Ann", "votes": 0, "answered": True,
            "pinned": True,
        }  # fmt: skip
        assert "Hidden?" not in repr(results) and "Waiting?" not in repr(results)
    console = moderated.results_for(aggregate, "console")
    assert [(q["text"], q["state"], q["hidden"]) for q in console["questions"]] == [
        ("Hidden?", "pending", True),
        ("Visible?", "approved", False),
        ("Waiting?", "pending", False),
        ("Answered?", "answered", False),
    ]
    # Waiting: not approved and not hidden (hiding one is turning it down).
    assert console["pending"] == 1 and console["hidden"] == 1
    assert moderated.tally(aggregate) == console
    # Unmoderated, waiting is no state: every question not hidden is on the board.
    open_board = board().results_for(aggregate, "participant")
    assert [q["text"] for q in open_board["questions"]] == ["Visible?", "Waiting?", "Answered?"]


def test_a_pinned_question_that_is_hidden_is_on_no_public_screen() -> None:
    aggregate = Aggregate(
        respondents=1, texts=entries("Q?", hidden=("1",)), marks={"pinned": "1"}
    )
    assert board().results_for(aggregate, "projector")["pinned"] is None
    assert board().results_for(aggregate, "console")["pinned"]["text"] == "Q?"


def test_nobody_asked_is_an_empty_board() -> None:
    results = board().results_for(Aggregate(), "participant")
    assert results == {
        "kind": "qa", "respondents": 0, "count": 0, "pinned": None, "questions": []
    }  # fmt: skip
    assert board().summary(Aggregate()) == []


def test_summary_rows_are_questions_with_their_votes() -> None:
    aggregate = Aggregate(
        respondents=4, counts=votes(r1=1, r2=3), texts=entries("Why?", "How?\nAnn")
    )
    assert board().summary(aggregate) == [("How? — Ann", 3, 75.0), ("Why?", 1, 25.0)]
