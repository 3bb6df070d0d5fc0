"""What the tests of each question type share: a one-item script around an item's YAML,
the problems `poll check` finds in it, and the message a refused answer gets."""

from __future__ import annotations

import textwrap

import pytest

from poll.questions import AnswerRefused, Question
from poll.script import ScriptError, parse_script


def one_item(kind: str, item: str, *, head: str = "") -> str:
    """A session whose one item is a `kind` with the YAML lines `item` (`head`: lines
    before them), indented as an item of the list; its first key is on line 6."""
    body = textwrap.indent((head + textwrap.dedent(item)).strip(), " " * 8)
    return (
        "sessions:\n  s:\n    title: T\n    language: en\n    items:\n"
        f"      - type: {kind}\n" + body + "\n"
    )


def one_item_problems(kind: str, item: str, *, head: str = "") -> list[str]:
    """What `poll check` says of that one-item script (it must have problems)."""
    with pytest.raises(ScriptError) as caught:
        parse_script(one_item(kind, item, head=head), "sessions.yaml")
    return [str(p) for p in caught.value.problems]


def refusal(question: Question, raw: object) -> str:
    """The message a refused answer gets (the answer must be refused)."""
    with pytest.raises(AnswerRefused) as caught:
        question.validate(raw)
    return str(caught.value)
