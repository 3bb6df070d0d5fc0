"""An open question: short free texts, shown as a wall of cards.

The facilitator may feature one card full screen on the projector: the mark
`featured` on the question, set to the card's ref (cleared to go back to the wall).
A featured card that is hidden later is not shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions.base import (
    AnswerMode,
    AnswerRefused,
    Audience,
    FormFields,
    Question,
    ReportInput,
    expect_mapping,
    first,
    read_common,
    report_texts,
    texts_for,
    within,
)
from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: The mark that puts one card full screen on the projector; its value is the card's ref.
FEATURED = "featured"
#: What a ref looks like (the store's entry refs), checked before it becomes a mark.
REF = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Open(Question):
    type_name: ClassVar[str] = "open"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {"max_length", "max_answers"}
    label: ClassVar[str] = N_("Open question")

    max_length: int = 280
    max_answers: int = 1

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        max_length = spec.integer("max_length", default=280, minimum=1, maximum=2000)
        max_answers = spec.integer("max_answers", default=1, minimum=1, maximum=20)
        if prompt is None or max_length is None or max_answers is None:
            return None
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            max_length=max_length,
            max_answers=max_answers,
        )

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec() | {"max_length": self.max_length, "max_answers": self.max_answers}

    @property
    def max_entries(self) -> int:
        return self.max_answers

    @property
    def answer_mode(self) -> AnswerMode:
        # One answer each: sending again changes it, as with the other types.
        # Several: each is its own card, and sending adds one.
        return "replace" if self.max_answers == 1 else "append"

    def validate(self, raw: object) -> Answer:
        text = expect_mapping(raw).get("text")
        if not isinstance(text, str):
            raise AnswerRefused("Write an answer first.")
        text = clean_text(text)
        if not text:
            raise AnswerRefused("Write an answer first.")
        return Answer(
            text=within(
                text,
                self.max_length,
                N_("Your answer is {length} characters long; at most {limit} fit."),
            )
        )

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {
            "max_length": self.max_length,
            "max_answers": self.max_answers,
        }

    def answer_from_form(self, fields: FormFields) -> object:
        return {"text": first(fields, "text")}

    def mark_allowed(self, key: str, value: str | None) -> bool:
        """The console features one card on the projector (`featured`, a ref) or none."""
        return key == FEATURED and (value is None or bool(REF.fullmatch(value)))

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        results: dict[str, Any] = {
            "kind": "texts",
            "respondents": aggregate.respondents,
            "count": len(aggregate.texts),
        }
        if audience != "participant":  # phones never get other people's texts
            texts = texts_for(aggregate, audience)
            results |= {"texts": texts, "count": len(texts)}
            # Only a card this audience sees can be featured: a hidden one falls back
            # to the wall on the projector, and stays marked in the console.
            ref = aggregate.marks.get(FEATURED)
            featured = next((entry for entry in texts if entry["ref"] == ref), None)
            results["featured"] = featured
        return results

    def report(self, given: ReportInput) -> dict[str, Any]:
        aggregate = given.aggregate
        texts = report_texts(aggregate, given.include_hidden)
        return {"respondents": aggregate.respondents, "count": len(texts), "texts": texts}

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        share = 100.0 if aggregate.respondents else 0.0
        return [("(text answers)", len(aggregate.texts), share)]

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        # Free texts do not line up between runs: how many there were, and from how many.
        return {
            "kind": "texts",
            "respondents": [aggregate.respondents for aggregate in aggregates],
            "texts": [len(aggregate.texts) for aggregate in aggregates],
        }

    def csv_values(self, answer: Answer) -> list[str]:
        return [answer.text or ""]
