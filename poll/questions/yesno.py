"""A yes/no question: two fixed answers, counted as bars."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.questions.base import (
    AnswerRefused,
    Question,
    expect_mapping,
    percentage,
    read_common,
)

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: The answers' labels in each session language; ids stay `yes` and `no`.
LABELS = {"nl": ("Ja", "Nee"), "en": ("Yes", "No")}


@dataclass(frozen=True)
class YesNo(Question):
    type_name: ClassVar[str] = "yesno"
    keys: ClassVar[frozenset[str]] = Question.common_keys

    yes_label: str = "Yes"
    no_label: str = "No"

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        if prompt is None:
            return None
        yes, no = LABELS.get(spec.language, LABELS["en"])
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            yes_label=yes,
            no_label=no,
        )

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec()

    def answer_options(self) -> list[tuple[str, str]]:
        return [("yes", self.yes_label), ("no", self.no_label)]

    def validate(self, raw: object) -> Answer:
        choice = expect_mapping(raw).get("choice")
        if choice not in ("yes", "no"):
            raise AnswerRefused("Choose yes or no.")
        return Answer(keys=(str(choice),))

    def tally(self, aggregate: Aggregate) -> dict[str, Any]:
        total = aggregate.respondents
        return {
            "kind": "bars",
            "respondents": total,
            "options": [
                {
                    "id": key,
                    "label": label,
                    "count": aggregate.counts.get(key, 0),
                    "percent": percentage(aggregate.counts.get(key, 0), total),
                }
                for key, label in self.answer_options()
            ],
        }

    def csv_values(self, answer: Answer) -> list[str]:
        labels = dict(self.answer_options())
        return [labels.get(key, key) for key in answer.keys]
