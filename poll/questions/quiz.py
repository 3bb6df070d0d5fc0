"""A quiz question: one right answer (or several) among 2–6 options, against the clock.

A participant picks one option, once: a right answer earns `points`, falling
linearly with the time taken to half of them at the deadline
(`points × (1 − ½ × seconds / time_limit)`, rounded half up); a wrong answer,
or none, earns 0. The question opens with a countdown of `time_limit` seconds
and the store refuses votes after it. Participants play under a nickname,
asked at their first quiz question; their points add up on the session's
leaderboard.

The results stay hidden until the facilitator reveals them in two steps:
"Show results" reveals the right answer (the options' counts, the right ones
marked; each phone sees what its answer earned), then the mark `leaderboard`
(value `shown`) puts the standings on the projector and each phone's own place
and score on the phones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions._chart import hbars
from poll.questions._labelled import read_options
from poll.questions.base import (
    OTHER_KEY,
    SCORE_COLUMNS,
    AnswerRefused,
    Audience,
    FormFields,
    PersonalScreen,
    Question,
    ReportInput,
    ResultsMode,
    Score,
    bar_comparison,
    bars,
    expect_mapping,
    first,
)
from poll.questions.choice import Option

if TYPE_CHECKING:
    from poll.spec import SpecReader

MIN_OPTIONS = 2
MAX_OPTIONS = 6
MIN_TIME_LIMIT = 5
MAX_TIME_LIMIT = 300
DEFAULT_TIME_LIMIT = 20
MIN_POINTS = 1
MAX_POINTS = 100_000
DEFAULT_POINTS = 1000

#: The facilitator's second step: the mark that puts the standings on screen.
LEADERBOARD_MARK = "leaderboard"
LEADERBOARD_SHOWN = "shown"


def points_for(points: int, time_limit: int, seconds: float) -> int:
    """What a right answer given `seconds` after the question opened earns.

    Linear from `points` at once to half of them at the deadline, counted to the
    millisecond in whole numbers and rounded half up (995.5 is 996: no binary
    fraction decides a tie, and a recount from the CSV's seconds gives the same).
    Times outside 0 … time_limit count as their nearest end: an answer stored
    before the question was last opened (it was closed and opened again) counts
    as given at once, and the store takes none after the deadline.
    """
    elapsed = min(max(round(seconds * 1000), 0), time_limit * 1000)
    span = (
        2 * time_limit * 1000
    )  # points × (1 − ½ × elapsed / limit) = points × (span − elapsed) / span
    return (2 * points * (span - elapsed) + span) // (2 * span)


@dataclass(frozen=True)
class Quiz(Question):
    type_name: ClassVar[str] = "quiz"
    # Its countdown is its own `time_limit`; the `timer` every question takes is
    # refused in `parse`, with that said.
    keys: ClassVar[frozenset[str]] = Question.common_keys | {
        "options",
        "correct",
        "time_limit",
        "points",
    }
    label: ClassVar[str] = N_("Quiz")
    scored: ClassVar[bool] = True
    # Right or wrong, seconds and points: the answers CSV fills them (poll.export).
    csv_columns: ClassVar[tuple[str, ...]] = SCORE_COLUMNS

    results: ResultsMode = "hidden"
    allow_change: bool = False
    options: tuple[Option, ...] = ()
    #: The ids of the options that count as right, in the options' order.
    correct: tuple[str, ...] = ()
    time_limit: int = DEFAULT_TIME_LIMIT
    points: int = DEFAULT_POINTS

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        problems = spec.report.error_count
        prompt = spec.text("prompt", required=True, max_length=500)
        # A quiz's results stay hidden until the reveal, and its one answer stays:
        # the keys every question takes may only say so.
        if spec.one_of("results", ("live", "hidden"), default="hidden") == "live":
            spec.error(
                "results",
                "a quiz shows its results when you reveal the right answer; "
                "'results: live' would give it away. Leave 'results' out",
            )
        if "timer" in spec.data:
            spec.error("timer", "a quiz counts down from its own 'time_limit'; use that instead")
        if spec.boolean("allow_change", default=False):
            spec.error(
                "allow_change",
                "a quiz takes one answer per participant, which cannot be changed; "
                "leave 'allow_change' out",
            )
        options = cls._read_options(spec)
        correct = cls._read_correct(spec, options) if options is not None else None
        time_limit = spec.integer(
            "time_limit",
            default=DEFAULT_TIME_LIMIT,
            minimum=MIN_TIME_LIMIT,
            maximum=MAX_TIME_LIMIT,
        )
        points = spec.integer(
            "points", default=DEFAULT_POINTS, minimum=MIN_POINTS, maximum=MAX_POINTS
        )
        if (
            spec.report.error_count != problems
            or prompt is None
            or options is None
            or correct is None
            or time_limit is None
            or points is None
        ):
            return None
        return cls(
            id=item_id,
            title=prompt,
            options=options,
            correct=correct,
            time_limit=time_limit,
            points=points,
        )

    @staticmethod
    def _read_options(spec: SpecReader) -> tuple[Option, ...] | None:
        return read_options(
            spec,
            kind="a quiz",
            minimum=MIN_OPTIONS,
            maximum=MAX_OPTIONS,
            fewer="Leave some out: a phone shows them all at once",
            reserved={OTHER_KEY},
        )

    @staticmethod
    def _read_correct(spec: SpecReader, options: tuple[Option, ...]) -> tuple[str, ...] | None:
        """The right options, named by id or by label: one, or a list of them."""
        raw = spec.data.get("correct")
        if raw is None:
            spec.error(None, "missing required key 'correct' (the right option's id or label)")
            return None
        listed: list[tuple[tuple[str | int, ...], object]]
        if isinstance(raw, list):
            if not raw:
                spec.error("correct", "name at least one right option")
                return None
            listed = [(("correct", index), value) for index, value in enumerate(raw)]
        else:
            listed = [(("correct",), raw)]
        by_id = {o.id: o.id for o in options}
        by_label = {o.label.casefold(): o.id for o in options}
        known = ", ".join(o.id for o in options)
        chosen: list[str] = []
        ok = True
        for where, value in listed:
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                spec.error(where, "a right option is named by its id or its label, as a text")
                ok = False
                continue
            text = str(value).strip()
            option_id = by_id.get(text) or by_label.get(text.casefold())
            if option_id is None:
                spec.error(where, f"{text!r} is not one of the options; use one of: {known}")
                ok = False
            elif option_id in chosen:
                spec.error(where, f"{text!r} is listed twice as right")
                ok = False
            else:
                chosen.append(option_id)
        if ok and len(chosen) == len(options):
            spec.error(
                "correct",
                "every option is marked right; a quiz needs at least one wrong option",
            )
            ok = False
        if not ok:
            return None
        order = [o.id for o in options]
        return tuple(sorted(chosen, key=order.index))

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec() | {
            "options": [{"id": o.id, "label": o.label} for o in self.options],
            "correct": list(self.correct),
            "time_limit": self.time_limit,
            "points": self.points,
        }

    def answer_options(self) -> list[tuple[str, str]]:
        return [(o.id, o.label) for o in self.options]

    @property
    def deadline_seconds(self) -> float | None:
        """Opening the question starts its countdown: the store refuses votes after it."""
        return float(self.time_limit)

    def client_view(self) -> dict[str, Any]:
        # Never the right answer: phones and the projector learn it from the results,
        # which they get once the facilitator reveals them.
        return super().client_view() | {"time_limit": self.time_limit, "points": self.points}

    def validate(self, raw: object) -> Answer:
        choice = expect_mapping(raw).get("choice")
        if choice in (None, ""):
            raise AnswerRefused("Choose an answer first.")
        if not isinstance(choice, str):
            raise AnswerRefused("This answer is not in a form poll understands.")
        if choice not in {o.id for o in self.options}:
            raise AnswerRefused("That option is not part of this question.")
        return Answer(keys=(choice,))

    def answer_from_form(self, fields: FormFields) -> object:
        # One button per option, named "choice", as in the websocket message.
        return {"choice": first(fields, "choice")}

    def score(self, answer: Answer, seconds: float) -> Score:
        if any(key in self.correct for key in answer.keys):
            return Score(correct=True, points=points_for(self.points, self.time_limit, seconds))
        return Score(correct=False, points=0)

    def mark_allowed(self, key: str, value: str | None) -> bool:
        return key == LEADERBOARD_MARK and value in (LEADERBOARD_SHOWN, None)

    def personal_screen(
        self, status: str | None, shown: bool, marks: Mapping[str, str]
    ) -> PersonalScreen | None:
        if status == "open":
            # The form asks a phone without a nickname for one. The standings wait
            # until the vote closes: while answers come in they change with each.
            return "name"
        if marks.get(LEADERBOARD_MARK) == LEADERBOARD_SHOWN:
            return "board"  # step 2: the standings
        if shown:
            return "points"  # step 1: the right answer, and what hers earned
        return None

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Counts only; every audience that gets results may see the right answer
        # (phones and the projector get them once the facilitator reveals them).
        options = [
            row | {"correct": row["id"] in self.correct}
            for row in bars(self.answer_options(), aggregate)
        ]
        right = sum(row["count"] for row in options if row["correct"])
        return {
            "kind": "quiz",
            "respondents": aggregate.respondents,
            "options": options,
            "right": right,
            "leaderboard": aggregate.marks.get(LEADERBOARD_MARK) == LEADERBOARD_SHOWN,
        }

    def report(self, given: ReportInput) -> dict[str, Any]:
        # The revealed answer: the options' bars with the right ones marked.
        results = self.results_for(given.aggregate, "console")
        options = [row | {"mark": row["correct"]} for row in results["options"]]
        return {
            "respondents": results["respondents"],
            "right": results["right"],
            "points": self.points,
            "time_limit": self.time_limit,
            "chart": hbars(options, value="percent", maximum=100.0),
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        # The right options are marked in their label, as the projector marks them.
        rows = []
        for bar in bars(self.answer_options(), aggregate):
            label = f"{bar['label']} (correct)" if bar["id"] in self.correct else bar["label"]
            rows.append((label, bar["count"], bar["percent"]))
        return rows

    def comparison_basis(self) -> object:
        # Another right answer makes the runs' scores mean something else.
        return (tuple(o.id for o in self.options), tuple(sorted(self.correct)))

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        data = bar_comparison(self.answer_options(), aggregates)
        for row in data["rows"]:
            row["correct"] = row["id"] in self.correct
        return data

    def csv_values(self, answer: Answer) -> list[str]:
        labels = dict(self.answer_options())
        return [labels.get(key, key) for key in answer.keys]
