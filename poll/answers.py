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
    "other" text of a choice.
    """

    keys: tuple[str, ...] = ()
    text: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"keys": list(self.keys), "text": self.text}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Answer:
        return cls(keys=tuple(data.get("keys") or ()), text=data.get("text"))


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
    number of answers per key, `texts` the free texts in the order they came.
    """

    respondents: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    texts: tuple[TextEntry, ...] = ()
