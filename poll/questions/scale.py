"""A rating scale: one value from min to max, or one per statement (a Likert block).

Each rated statement is stored as one key `<statement-id>=<value>`, so the
store's counters are the distribution per statement and step; the mean is
computed from them. Without `statements` there is one implicit statement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions._chart import at_share, columns
from poll.questions._labelled import Labelled, read_labelled
from poll.questions.base import (
    AnswerRefused,
    Audience,
    FormFields,
    Question,
    ReportInput,
    expect_mapping,
    first,
    percentage,
    read_common,
)
from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: More steps than this do not fit in a row of buttons on a phone.
MAX_STEPS = 11
#: Bounds for min and max themselves: a scale, not a number field.
LOWEST, HIGHEST = -100, 100
MAX_STATEMENTS = 20
#: The form's radio group of a statement is named `rating-<statement-id>`.
FIELD_PREFIX = "rating-"
#: The id of the one statement a scale without `statements` rates.
IMPLICIT_ID = "answer"


#: A statement rated on the scale: its id (in the tally keys) and its text.
Statement = Labelled


@dataclass(frozen=True)
class Scale(Question):
    type_name: ClassVar[str] = "scale"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {
        "min",
        "max",
        "labels",
        "statements",
    }
    label: ClassVar[str] = N_("Scale")

    minimum: int = 1
    maximum: int = 5
    #: Labels of some steps (usually the two ends), as (value, label) in order.
    labels: tuple[tuple[int, str], ...] = ()
    #: The statements rated; empty for a single rating of the prompt itself.
    statements: tuple[Statement, ...] = ()

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        low = spec.integer("min", default=1, minimum=LOWEST, maximum=HIGHEST)
        high = spec.integer("max", default=5, minimum=LOWEST, maximum=HIGHEST)
        if low is None or high is None:
            cls._read_statements(spec)  # report its problems too
            return None
        ok = prompt is not None
        if low >= high:
            spec.error("max", f"max ({high}) must be greater than min ({low})")
            ok = False
        elif high - low + 1 > MAX_STEPS:
            spec.error(
                "max",
                f"a scale from {low} to {high} has {high - low + 1} steps; "
                f"at most {MAX_STEPS} fit on a phone",
            )
            ok = False
        # Labels are checked against the range only when the range itself is right.
        labels = cls._read_labels(spec, low, high) if low < high else None
        statements = cls._read_statements(spec)
        if not ok or labels is None or statements is None or prompt is None:
            return None
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            minimum=low,
            maximum=high,
            labels=labels,
            statements=statements,
        )

    @staticmethod
    def _read_labels(spec: SpecReader, low: int, high: int) -> tuple[tuple[int, str], ...] | None:
        raw = spec.data.get("labels")
        if raw is None:
            return ()
        if not isinstance(raw, Mapping):
            spec.error(
                "labels",
                "labels is a mapping of a step to its label, like {1: Disagree, 5: Agree}",
            )
            return None
        found: dict[int, str] = {}
        ok = True
        for key, value in raw.items():
            where = ("labels", key)
            try:
                step = int(str(key))
            except ValueError:
                # Placed on the key, which is what is wrong.
                spec.report.error(
                    spec.path + where,
                    f"{key!r} is not a step of the scale: write a whole number",
                    key=True,
                )
                ok = False
                continue
            if not low <= step <= high:
                spec.report.error(
                    spec.path + where,
                    f"there is no step {step} on a scale from {low} to {high}",
                    key=True,
                )
                ok = False
                continue
            if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
                spec.error(where, "a step's label is a text")
                ok = False
                continue
            text = clean_text(str(value))
            if not text:
                spec.error(where, "this label is empty")
                ok = False
            elif len(text) > 100:
                spec.error(where, f"is {len(text)} characters long; at most 100 fit")
                ok = False
            else:
                found[step] = text
        return tuple(sorted(found.items())) if ok else None

    @staticmethod
    def _read_statements(spec: SpecReader) -> tuple[Statement, ...] | None:
        raw = spec.sequence("statements")
        if raw is None:
            return None if "statements" in spec.data and spec.data["statements"] is not None else ()
        if not raw:
            spec.error("statements", "no statements listed: list at least one, or leave it out")
            return None
        if len(raw) > MAX_STATEMENTS:
            spec.error("statements", f"{len(raw)} statements; at most {MAX_STATEMENTS} fit")
            return None
        return read_labelled(spec, "statements", raw, noun="statement")

    def to_spec(self) -> dict[str, Any]:
        spec = self.common_spec() | {"min": self.minimum, "max": self.maximum}
        if self.labels:
            spec["labels"] = {str(step): text for step, text in self.labels}
        if self.statements:
            spec["statements"] = [{"id": s.id, "label": s.label} for s in self.statements]
        return spec

    @property
    def rated(self) -> tuple[Statement, ...]:
        """The statements a participant rates: the listed ones, or the implicit one."""
        return self.statements or (Statement(id=IMPLICIT_ID, label=self.title),)

    @property
    def steps(self) -> range:
        return range(self.minimum, self.maximum + 1)

    def client_view(self) -> dict[str, Any]:
        step_labels = dict(self.labels)
        return super().client_view() | {
            "min": self.minimum,
            "max": self.maximum,
            "steps": [{"value": v, "label": step_labels.get(v, "")} for v in self.steps],
            "block": bool(self.statements),
            "statements": [
                {"id": s.id, "label": s.label, "field": FIELD_PREFIX + s.id} for s in self.rated
            ],
        }

    def _step(self, value: object) -> int:
        """A rating as sent: a whole number, or its digits as a form field sends them."""
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,4}", value.strip()):
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or value not in self.steps:
            raise AnswerRefused(
                "Choose a value from {low} to {high}.", low=self.minimum, high=self.maximum
            )
        return value

    def validate(self, raw: object) -> Answer:
        data = expect_mapping(raw)
        # Two shapes: {"ratings": {id: n}} from a load client, and the form's own
        # fields {"rating-<id>": "n"} as the page script sends them.
        given: dict[str, object] = {}
        ratings = data.get("ratings")
        if ratings is not None:
            if not isinstance(ratings, Mapping):
                raise AnswerRefused("This answer is not in a form poll understands.")
            given.update({str(k): v for k, v in ratings.items()})
        for name, value in data.items():
            if isinstance(name, str) and name.startswith(FIELD_PREFIX):
                given[name.removeprefix(FIELD_PREFIX)] = value
        known = {s.id for s in self.rated}
        if any(statement_id not in known for statement_id in given):
            raise AnswerRefused("That statement is not part of this question.")
        keys = tuple(
            f"{s.id}={self._step(given[s.id])}"
            for s in self.rated
            if given.get(s.id) not in (None, "")
        )
        if not keys:
            if self.statements:
                raise AnswerRefused("Rate at least one statement; you may leave the others open.")
            raise AnswerRefused("Choose a value on the scale first.")
        return Answer(keys=keys)

    def answer_from_form(self, fields: FormFields) -> object:
        # The same shape the page script sends: each radio group's value as text.
        return {
            FIELD_PREFIX + s.id: first(fields, FIELD_PREFIX + s.id)
            for s in self.rated
            if first(fields, FIELD_PREFIX + s.id)
        }

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Counts only: every audience may see all of it.
        step_labels = dict(self.labels)
        span = self.maximum - self.minimum
        statements = []
        for s in self.rated:
            counts = {v: aggregate.counts.get(f"{s.id}={v}", 0) for v in self.steps}
            rated = sum(counts.values())
            mean = round(sum(v * n for v, n in counts.items()) / rated, 1) if rated else None
            statements.append(
                {
                    "id": s.id,
                    "label": s.label,
                    "rated": rated,
                    "mean": mean,
                    # Where the mean sits between min (0) and max (100), to mark it.
                    "mean_at": None if mean is None else round(100 * (mean - self.minimum) / span),
                    "steps": [
                        {
                            "value": v,
                            "label": step_labels.get(v, ""),
                            "count": n,
                            "percent": percentage(n, rated),
                        }
                        for v, n in counts.items()
                    ],
                }
            )
        return {
            "kind": "scale",
            "respondents": aggregate.respondents,
            "min": self.minimum,
            "max": self.maximum,
            "block": bool(self.statements),
            "statements": statements,
        }

    def report(self, given: ReportInput) -> dict[str, Any]:
        # Per statement its distribution as columns (the tallest step fills the
        # chart's height) and the mean marked on the axis under them.
        results = self.results_for(given.aggregate, "console")
        span = self.maximum - self.minimum
        statements = []
        for statement in results["statements"]:
            tallest = max((step["percent"] for step in statement["steps"]), default=0.0)
            chart = columns(statement["steps"], value="percent", maximum=tallest or 1.0)
            mean = statement["mean"]
            if mean is not None:
                chart["mean_x"] = at_share(chart, (mean - self.minimum) / span)
            statements.append(statement | {"chart": chart})
        return results | {"statements": statements}

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        # One row per statement and step, percent of those who rated the statement;
        # the mean is a number, not a count, so it stays in the results views.
        rows: list[tuple[str, int, float]] = []
        for statement in self.results_for(aggregate, "console")["statements"]:
            for step in statement["steps"]:
                name = (
                    f"{statement['label']} — {step['value']}"
                    if self.statements
                    else str(step["value"])
                )
                rows.append((name, step["count"], step["percent"]))
        return rows

    def comparison_basis(self) -> object:
        # A mean means something else on another range or for another statement.
        return (self.minimum, self.maximum, tuple(s.id for s in self.rated))

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        """Per statement the mean of each run (oldest first), where it sits on the
        scale (0-100, the same axis for every run), and each later run's change
        against the first."""
        runs = [self.results_for(aggregate, "console")["statements"] for aggregate in aggregates]
        rows = []
        for index, statement in enumerate(self.rated):
            cells = [run[index] for run in runs]
            first_mean = cells[0]["mean"]
            rows.append(
                {
                    "id": statement.id,
                    "label": statement.label,
                    "runs": [
                        {"mean": c["mean"], "mean_at": c["mean_at"], "rated": c["rated"]}
                        for c in cells
                    ],
                    "changes": [
                        None
                        if c["mean"] is None or first_mean is None
                        else round(c["mean"] - first_mean, 1)
                        for c in cells[1:]
                    ],
                }
            )
        return {
            "kind": "means",
            "respondents": [aggregate.respondents for aggregate in aggregates],
            "min": self.minimum,
            "max": self.maximum,
            "block": bool(self.statements),
            "rows": rows,
        }

    def csv_values(self, answer: Answer) -> list[str]:
        labels = {s.id: s.label for s in self.rated}
        cells = []
        for key in answer.keys:
            statement_id, _, value = key.rpartition("=")
            cells.append(
                f"{labels.get(statement_id, statement_id)}: {value}" if self.statements else value
            )
        return cells
