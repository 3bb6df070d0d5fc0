"""A multiple-choice question: one or several options, optionally an "other" text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_, translate
from poll.questions._chart import hbars
from poll.questions._labelled import Labelled, read_options
from poll.questions.base import (
    OTHER_KEY,
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
    report_texts,
    texts_for,
    within,
)
from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

OTHER_MAX_LENGTH = 200


#: An option of the question: its id (the tally key) and its label.
Option = Labelled


@dataclass(frozen=True)
class Choice(Question):
    type_name: ClassVar[str] = "choice"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {
        "options",
        "multiple",
        "max_choices",
        "other",
    }
    label: ClassVar[str] = N_("Choice")
    #: The "other" text, beside its row's `answer` (the "Other" option's label).
    csv_columns: ClassVar[tuple[str, ...]] = ("other_text",)

    options: tuple[Option, ...] = ()
    multiple: bool = False
    max_choices: int | None = None
    other: bool = False
    other_label: str = "Other"

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        multiple = spec.boolean("multiple", default=False)
        other = spec.boolean("other", default=False)
        options = cls._read_options(spec)
        max_choices = spec.integer("max_choices", default=None, minimum=1, maximum=100)
        ok = prompt is not None and options is not None
        if max_choices is not None:
            if not multiple:
                spec.error("max_choices", "max_choices needs 'multiple: true'")
                ok = False
            elif options is not None and max_choices > len(options) + int(other):
                spec.error(
                    "max_choices",
                    f"max_choices is {max_choices} but there are only "
                    f"{len(options) + int(other)} answers to choose from",
                )
                ok = False
        if not ok or prompt is None or options is None:
            return None
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            options=options,
            multiple=multiple,
            max_choices=max_choices,
            other=other,
            other_label=translate(spec.language, N_("Other")),
        )

    @staticmethod
    def _read_options(spec: SpecReader) -> tuple[Option, ...] | None:
        return read_options(spec, kind="a choice", minimum=2, reserved={OTHER_KEY})

    def to_spec(self) -> dict[str, Any]:
        spec = self.common_spec() | {
            "options": [{"id": o.id, "label": o.label} for o in self.options],
            "multiple": self.multiple,
            "other": self.other,
        }
        if self.max_choices is not None:
            spec["max_choices"] = self.max_choices
        return spec

    def answer_options(self) -> list[tuple[str, str]]:
        return [(o.id, o.label) for o in self.options]

    @property
    def choice_limit(self) -> int:
        if not self.multiple:
            return 1
        return self.max_choices or len(self.options) + int(self.other)

    def validate(self, raw: object) -> Answer:
        data = expect_mapping(raw)
        chosen = data.get("choices", [])
        if isinstance(chosen, str):
            chosen = [chosen]
        if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
            raise AnswerRefused("This answer is not in a form poll understands.")
        known = {o.id for o in self.options}
        keys: list[str] = []
        for option_id in chosen:
            if option_id == OTHER_KEY:
                continue  # the other text below decides
            if option_id not in known:
                raise AnswerRefused("That option is not part of this question.")
            if option_id not in keys:
                keys.append(option_id)
        other_raw = data.get("other")
        other_text: str | None = None
        if other_raw not in (None, ""):
            if not self.other:
                raise AnswerRefused("This question takes no other answers.")
            if not isinstance(other_raw, str):
                raise AnswerRefused("This answer is not in a form poll understands.")
            other_text = clean_text(other_raw) or None
            if other_text:
                within(
                    other_text,
                    OTHER_MAX_LENGTH,
                    N_("Your answer is {length} characters long; at most {limit} fit."),
                )
        if OTHER_KEY in chosen and other_text is None:
            raise AnswerRefused("Write your other answer, or untick it.")
        if other_text is not None:
            keys.append(OTHER_KEY)
        if not keys:
            raise AnswerRefused("Choose an answer first.")
        if len(keys) > self.choice_limit:
            if self.choice_limit == 1:
                raise AnswerRefused("Choose one answer only.")
            raise AnswerRefused("Choose at most {limit} answers.", limit=self.choice_limit)
        return Answer(keys=tuple(keys), text=other_text)

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {
            "multiple": self.multiple,
            "max_choices": self.max_choices,
            "choice_limit": self.choice_limit,
            "other": self.other,
            "other_label": self.other_label,
            "other_key": OTHER_KEY,
            "other_max_length": OTHER_MAX_LENGTH,
        }

    def answer_from_form(self, fields: FormFields) -> object:
        return {
            "choices": [str(c) for c in fields.get("choices") or ()],
            "other": first(fields, "other"),
        }

    def _rows(self) -> list[tuple[str, str]]:
        rows = [(o.id, o.label) for o in self.options]
        if self.other:
            rows.append((OTHER_KEY, self.other_label))
        return rows

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        results: dict[str, Any] = {
            "kind": "bars",
            "respondents": aggregate.respondents,
            "multiple": self.multiple,
            "options": bars(self._rows(), aggregate),
        }
        if self.other and audience != "participant":  # phones never get others' texts
            results["other_texts"] = texts_for(aggregate, audience)
        return results

    def report(self, given: ReportInput) -> dict[str, Any]:
        # Bars as long as their share of the respondents: a multi-select's add up to
        # more than 100%, and every option stays comparable with the others.
        aggregate = given.aggregate
        report: dict[str, Any] = {
            "respondents": aggregate.respondents,
            "multiple": self.multiple,
            "chart": hbars(bars(self._rows(), aggregate), value="percent", maximum=100.0),
        }
        if self.other:
            report["other_label"] = self.other_label
            report["texts"] = report_texts(aggregate, given.include_hidden)
        return report

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        return [
            (bar["label"], bar["count"], bar["percent"]) for bar in bars(self._rows(), aggregate)
        ]

    def comparison_basis(self) -> object:
        # An "other" answer added or dropped changes what the shares are of.
        return (tuple(o.id for o in self.options), self.other, self.multiple)

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        return bar_comparison(self._rows(), aggregates)

    @property
    def csv_type(self) -> str:
        return f"{self.type_name}-{'multiple' if self.multiple else 'single'}"

    def csv_rows(self, answer: Answer, aggregate: Aggregate) -> list[dict[str, str]]:
        # The "other" row says the option ("Other") as `answer` and the text in a
        # column of its own: a typed text could otherwise read as an option's label.
        labels = {o.id: o.label for o in self.options}
        return [
            {"answer": self.other_label, "other_text": answer.text or ""}
            if key == OTHER_KEY
            else {"answer": labels.get(key, key)}
            for key in answer.keys
        ]

    def csv_values(self, answer: Answer) -> list[str]:
        labels = {o.id: o.label for o in self.options}
        return [
            (answer.text or "") if key == OTHER_KEY else labels.get(key, key) for key in answer.keys
        ]
