"""A ranking question: participants put the options in order, scored by Borda count.

Each ranked option is stored as one key `<option-id>@<place>`, so the store
counts per option per place; the score and average place come from those
counters. With N options, first place is worth N−1 points, second N−2, and so
on to 0 for last; an option left unranked (with `top`) scores 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions._chart import hbars
from poll.questions._labelled import read_options
from poll.questions.base import (
    OTHER_KEY,
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
from poll.questions.choice import Option

if TYPE_CHECKING:
    from poll.spec import SpecReader

MIN_OPTIONS = 2
MAX_OPTIONS = 10
#: A form field (and answer key) that names a place: `rank-1` is first place.
_FIELD = re.compile(r"rank-(\d+)")


def field_name(place: int) -> str:
    return f"rank-{place}"


def tally_key(option_id: str, place: int) -> str:
    return f"{option_id}@{place}"


def split_key(key: str) -> tuple[str, int] | None:
    """`(option id, place)` of a tally key, or None for a key of another shape."""
    option_id, at, place = key.rpartition("@")
    return (option_id, int(place)) if at and place.isdigit() else None


@dataclass(frozen=True)
class Ranking(Question):
    type_name: ClassVar[str] = "ranking"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {"options", "top"}
    label: ClassVar[str] = N_("Ranking")

    options: tuple[Option, ...] = ()
    #: Rank only the first `top` places; None ranks every option.
    top: int | None = None

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        options = cls._read_options(spec)
        problems = spec.report.error_count
        top = spec.integer("top", default=None, minimum=1, maximum=MAX_OPTIONS)
        # A wrong `top` reads as None, like no `top` at all: tell them apart by the report.
        ok = prompt is not None and options is not None and spec.report.error_count == problems
        if top is not None and options is not None and top > len(options):
            spec.error(
                "top",
                f"top is {top} but there are only {len(options)} options to rank; "
                f"use at most {len(options)}, or leave 'top' out to rank them all",
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
            top=top,
        )

    @staticmethod
    def _read_options(spec: SpecReader) -> tuple[Option, ...] | None:
        """Options as a choice lists them (texts or `{id, label}`), 2 to 10 of them."""
        return read_options(
            spec,
            kind="a ranking",
            minimum=MIN_OPTIONS,
            maximum=MAX_OPTIONS,
            fewer="Leave some out, or split the question",
            reserved={OTHER_KEY},
        )

    def to_spec(self) -> dict[str, Any]:
        spec = self.common_spec() | {
            "options": [{"id": o.id, "label": o.label} for o in self.options],
        }
        if self.top is not None:
            spec["top"] = self.top
        return spec

    def answer_options(self) -> list[tuple[str, str]]:
        return [(o.id, o.label) for o in self.options]

    @property
    def places(self) -> int:
        """How many places a participant fills: `top`, or every option."""
        return self.top or len(self.options)

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {"top": self.top, "places": self.places}

    def validate(self, raw: object) -> Answer:
        data = expect_mapping(raw)
        labels = {o.id: o.label for o in self.options}
        for name, value in data.items():
            match = _FIELD.fullmatch(str(name))
            if match and int(match.group(1)) > self.places and value not in (None, ""):
                raise AnswerRefused("This answer is not in a form poll understands.")
        chosen: dict[int, str] = {}
        empty: list[int] = []
        for place in range(1, self.places + 1):
            value = data.get(field_name(place))
            if value in (None, ""):
                empty.append(place)
                continue
            if not isinstance(value, str):
                raise AnswerRefused("This answer is not in a form poll understands.")
            if value not in labels:
                raise AnswerRefused("That option is not part of this question.")
            if value in chosen.values():
                raise AnswerRefused(
                    "You put {option} in more than one place; give each place another option.",
                    option=labels[value],
                )
            chosen[place] = value
        if len(empty) == self.places:
            raise AnswerRefused("Put the options in your order first.")
        if len(empty) == 1:
            raise AnswerRefused(
                "Place {place} is still empty; choose an option for it.", place=empty[0]
            )
        if empty:
            raise AnswerRefused(
                "Places {places} are still empty; choose an option for each.",
                places=", ".join(map(str, empty)),
            )
        return Answer(keys=tuple(tally_key(chosen[p], p) for p in sorted(chosen)))

    def answer_from_form(self, fields: FormFields) -> object:
        # One select per place, named as the websocket answer's keys.
        return {
            field_name(place): first(fields, field_name(place))
            for place in range(1, self.places + 1)
        }

    def scores(self, aggregate: Aggregate) -> list[dict[str, Any]]:
        """Every option with its Borda score, best first (ties keep the script's order)."""
        most = len(self.options) - 1
        possible = aggregate.respondents * most
        rows: list[dict[str, Any]] = []
        for option in self.options:
            at = [
                aggregate.counts.get(tally_key(option.id, p), 0) for p in range(1, self.places + 1)
            ]
            ranked = sum(at)
            score = sum(count * (most - (place - 1)) for place, count in enumerate(at, 1))
            weighted = sum(count * place for place, count in enumerate(at, 1))
            rows.append(
                {
                    "id": option.id,
                    "label": option.label,
                    "score": score,
                    "percent": percentage(score, possible),
                    "average": round(weighted / ranked, 1) if ranked else None,
                    "ranked": ranked,
                    "at": at,
                }
            )
        rows.sort(key=lambda row: -row["score"])  # stable: ties stay in script order
        return rows

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Counts only, no texts: phones and the projector get the scores and
        # average places; the console also how often each option got each place.
        shown: tuple[str, ...] = ("id", "label", "score", "percent", "average")
        if audience == "console":
            shown = (*shown, "ranked", "at")
        return {
            "kind": "ranking",
            "respondents": aggregate.respondents,
            "places": self.places,
            "max_score": aggregate.respondents * (len(self.options) - 1),
            "options": [{k: row[k] for k in shown} for row in self.scores(aggregate)],
        }

    def report(self, given: ReportInput) -> dict[str, Any]:
        # The options in the room's order, best first, each bar its share of the
        # highest possible score; the table under it adds the average places.
        aggregate = given.aggregate
        rows = [row | {"place": place} for place, row in enumerate(self.scores(aggregate), 1)]
        return {
            "respondents": aggregate.respondents,
            "places": self.places,
            "max_score": aggregate.respondents * (len(self.options) - 1),
            "chart": hbars(rows, value="percent", maximum=100.0),
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        # count: the Borda score; percent: its share of the highest possible score
        # (every respondent ranking that option first).
        return [(row["label"], row["score"], row["percent"]) for row in self.scores(aggregate)]

    def csv_values(self, answer: Answer) -> list[str]:
        labels = {o.id: o.label for o in self.options}
        ranked = sorted(
            (split[1], labels.get(split[0], split[0]))
            for split in map(split_key, answer.keys)
            if split is not None
        )
        return [f"{place}. {label}" for place, label in ranked]
