"""The values a store keeps and counts for a question, whatever its type.

A leaf module: stores import it without loading any item type (or Markdown).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Answer:
    """A validated answer in the form stores keep and count.

    `keys` are the tally counters the answer adds one to (option ids, `yes`,
    `no`, or `OTHER_KEY`); `text` is free text: the open answer or the
    "other" text of a choice. `ref` names a stored answer within its room (the
    same ref as its `TextEntry` and `Response`): stores set it on the answers
    `answers_of` returns, so a type can tell a participant's own entries among
    everyone's; a new answer has none. It takes no part in equality.
    """

    keys: tuple[str, ...] = ()
    text: str | None = None
    ref: str | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"keys": list(self.keys), "text": self.text}
        if self.ref is not None:
            data["ref"] = self.ref
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answer:
        ref = data.get("ref")
        return cls(
            keys=tuple(data.get("keys") or ()),
            text=data.get("text"),
            ref=None if ref is None else str(ref),
        )


@dataclass(frozen=True)
class TextEntry:
    """One free text as stored: `ref` identifies it for moderation."""

    ref: str
    text: str
    hidden: bool = False


@dataclass(frozen=True)
class Aggregate:
    """What a store counts for one question.

    `respondents` is the number of participants with an answer, `counts` the
    number of answers per key, `texts` the free texts in the order they came,
    `marks` what the facilitator set on the question's entries (`Store.set_mark`:
    a word hidden, a question approved or pinned, a step revealed).
    """

    respondents: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    texts: tuple[TextEntry, ...] = ()
    marks: Mapping[str, str] = field(default_factory=dict)
