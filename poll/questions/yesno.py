"""A yes/no question: two fixed answers, counted as bars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_, translate
from poll.questions._chart import hbars
from poll.questions.base import (
    AnswerRefused,
    Audience,
    FormFields,
    Question,
    ReportInput,
    bar_comparison,
    bars,
    expect_mapping,
    first,
    read_common,
)

if TYPE_CHECKING:
    from poll.spec import SpecReader


@dataclass(frozen=True)
class YesNo(Question):
    type_name: ClassVar[str] = "yesno"
    keys: ClassVar[frozenset[str]] = Question.common_keys
    label: ClassVar[str] = N_("Yes/no")

    yes_label: str = "Yes"
    no_label: str = "No"

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        if prompt is None:
            return None
        # The answers' ids stay `yes` and `no`; their labels follow the session's language.
        yes, no = translate(spec.language, N_("Yes")), translate(spec.language, N_("No"))
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

    def answer_from_form(self, fields: FormFields) -> object:
        # The phone's two buttons are named "choice", as in the websocket message.
        return {"choice": first(fields, "choice") or None}

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Counts only: every audience may see all of it.
        return {
            "kind": "bars",
            "respondents": aggregate.respondents,
            "options": bars(self.answer_options(), aggregate),
        }

    def report(self, given: ReportInput) -> dict[str, Any]:
        aggregate = given.aggregate
        return {
            "respondents": aggregate.respondents,
            "chart": hbars(bars(self.answer_options(), aggregate), value="percent", maximum=100.0),
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        return [
            (bar["label"], bar["count"], bar["percent"])
            for bar in bars(self.answer_options(), aggregate)
        ]

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        return bar_comparison(self.answer_options(), aggregates)

    def csv_values(self, answer: Answer) -> list[str]:
        labels = dict(self.answer_options())
        return [labels.get(key, key) for key in answer.keys]
