"""What every item type of a session script provides, and the values they exchange.

An item type is one module in this package holding one subclass of `Item`
(content) or `Question` (something participants answer). The type:

- reads its own YAML through a `SpecReader`, which reports problems with their
  file position;
- turns a participant's raw answer into an `Answer` or refuses it with
  `AnswerRefused`;
- turns the store's counters for the question (`Aggregate`) into a tally;
- renders an `Answer` as CSV cells;
- gives its part of a run's results report (`report`), which its template's
  `report` macro draws.

Stores know nothing about types: they keep `Answer` values and count their keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from poll.answers import Aggregate, Answer

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: How results of a question reach the projector: as they grow, or after a reveal.
ResultsMode = Literal["live", "hidden"]

#: How a participant's submissions combine: one answer that a new one replaces,
#: several entries added one after another (open text with max_answers), or an
#: entry taken back by sending it again (an upvote). See `poll.store.base.Vote`.
AnswerMode = Literal["replace", "append", "toggle"]

#: Keys every item accepts, whatever its type, read by `poll.script` (not the type).
ITEM_KEYS = frozenset({"notes"})
#: The longest `notes:` of an item, in characters.
NOTES_MAX = 5000

#: The seconds a `timer:` may count down.
TIMER_MIN, TIMER_MAX = 5, 3600


#: The tally key of the free-text "other" answer of a choice question.
OTHER_KEY = "_other"

#: What a phone's screen of an item shows of the participant herself (see
#: `Item.personal_screen`): whether she has a nickname yet ("name"), what her
#: answer to this question earned and her score ("points"), or her place and
#: score on the leaderboard ("board", which also puts the standings on the
#: projector and the console).
PersonalScreen = Literal["name", "points", "board"]


#: The answers CSV's columns for a scored answer (a scored type lists them in its
#: `csv_columns`): right or not, seconds taken, points earned.
SCORE_COLUMNS = ("correct", "seconds", "points")


@dataclass(frozen=True)
class ReportInput:
    """What an item's part of a run's results report is drawn from (see `Item.report`)."""

    #: The question's stored counters (empty for content items).
    aggregate: Aggregate = field(default_factory=Aggregate)
    #: Whether texts the facilitator hid are part of the report (the facilitator's
    #: own copy); never for the link shared with participants.
    include_hidden: bool = False
    #: The leaderboard at the end of the run, best first, as the projector lists it:
    #: each line's `place`, `name` (the nickname the player chose) and `score`.
    standings: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Score:
    """What one answer to a scored question earned: right or not, and its points."""

    correct: bool
    points: int


class AnswerRefused(Exception):
    """A participant's answer does not fit the question.

    `message` is English text with `{name}` placeholders; it is also the
    message id in the translation catalogues, so the web layer shows it in the
    session's language with `params` filled in.
    """

    def __init__(self, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


def percentage(count: int, total: int) -> float:
    """Share of `total`, rounded to one decimal; 0 when nobody answered."""
    return round(100.0 * count / total, 1) if total else 0.0


#: Who looks at a snapshot: a phone, the projector, or the facilitator's console.
Audience = Literal["participant", "projector", "console"]

#: A form's fields as the web layer reads them: each name with all its values.
FormFields = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Item(ABC):
    """One step of a session: a content slide or a question.

    A type owns its whole life: its YAML (`parse`, `to_spec`), what clients
    need to show it (`client_view`), and, for questions, the rest below. Its
    screens live in `templates/questions/<type_name>.html` (macros, checked at
    start-up by the web layer), its optional phone enhancement in
    `static/questions/<type_name>.js`, its labels in the catalogues.
    """

    #: The `type:` value in the script that selects this class.
    type_name: ClassVar[str]
    #: Keys this type accepts besides `type`.
    keys: ClassVar[frozenset[str]]
    #: What the console calls this type (a catalogue message id).
    label: ClassVar[str]
    is_question: ClassVar[bool] = False
    #: A word a script may use instead of `type:` for a run of items of this type
    #: (a slide's `deck:`, a range of a PDF's pages), read by `expand`; its keys.
    shorthand: ClassVar[str | None] = None
    shorthand_keys: ClassVar[frozenset[str]] = frozenset()

    id: str
    title: str
    #: `notes:` the facilitator's own notes (Markdown), shown only in the console:
    #: never part of `client_view` or of any audience's results.
    notes: str = field(default="", kw_only=True)

    @classmethod
    @abstractmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        """Read the item from its script mapping; None when `spec` recorded problems."""

    @classmethod
    def expand(cls, spec: SpecReader) -> Sequence[Item]:
        """The items a `shorthand` mapping stands for (ids included); none when
        `spec` recorded problems."""
        raise NotImplementedError(f"{cls.type_name} has no shorthand")

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """Plain data that `parse` reads back into an equal item (kept with each room)."""

    def item_spec(self) -> dict[str, Any]:
        """`to_spec` with the keys every item has (`ITEM_KEYS`), as `poll.script` reads them."""
        spec = self.to_spec()
        if self.notes:
            spec["notes"] = self.notes
        return spec

    def client_view(self) -> dict[str, Any]:
        """What every client needs to show the item (no answers, no results)."""
        return {
            "id": self.id,
            "type": self.type_name,
            "title": self.title,
            "question": self.is_question,
        }

    def personal_screen(
        self, status: str | None, shown: bool, marks: Mapping[str, str]
    ) -> PersonalScreen | None:
        """Whether the phones' screen of this item, in this state, is drawn for each
        participant's own standing (see `PersonalScreen`), and how; None: the same
        for everybody with the same answers (most items, always).

        `status` is the question's status as phones see it (None for content),
        `shown` whether its results are shown, `marks` the facilitator's marks.
        """
        return None

    def report(self, given: ReportInput) -> dict[str, Any] | None:
        """This item's part of the run's results report, as JSON-ready data that the
        `report` macro of its template draws (charts as SVG, numbers also as text);
        None: the item adds nothing but its title, as a section heading (a slide)."""
        return None


@dataclass(frozen=True)
class Question(Item):
    """An item participants answer.

    Besides `Item`'s part, a question type reads an answer from a websocket
    message (`validate`) and from a no-JavaScript form (`answer_from_form`),
    turns the store's counters into results for each audience
    (`results_for`: built from what that audience may see, never by deleting
    what it may not), and writes its CSV cells.
    """

    is_question: ClassVar[bool] = True
    #: Answers earn points on the session's leaderboard (see `score`), and
    #: participants answer under a nickname, unique in the room.
    scored: ClassVar[bool] = False
    #: Keys every question accepts.
    common_keys: ClassVar[frozenset[str]] = frozenset(
        {"id", "prompt", "results", "allow_change", "timer"}
    )
    #: Whether `Room.vote` reads the participant's stored answers to the question
    #: and its aggregate, and asks `admit` (a read per vote: only types that need it).
    needs_context: ClassVar[bool] = False
    #: Whether phones see the others' answers while the question runs: they get
    #: the results as the projector does (while results are live), not only once
    #: the facilitator shows them, and the type's phone results may hold the texts
    #: the facilitator has not hidden. For a type whose answering is reacting to
    #: the others' answers: upvoting the questions on a Q&A board.
    shares_answers_with_phones: ClassVar[bool] = False
    #: Columns this type adds to the answers CSV after the common ones. A run's CSV
    #: has the columns of the types its session uses (none: the common ones only);
    #: other types' rows leave them empty.
    csv_columns: ClassVar[tuple[str, ...]] = ()

    results: ResultsMode = "live"
    allow_change: bool = True
    #: `timer: SECONDS`: the vote closes by itself this long after it opens.
    timer: int | None = None

    @property
    def deadline_seconds(self) -> float | None:
        """Seconds from opening to the deadline, or None for no countdown. A type
        with a time limit of its own (a quiz) returns that."""
        return self.timer

    @property
    def prompt(self) -> str:
        return self.title

    @property
    def max_entries(self) -> int:
        """How many answers one participant may have stored for this question."""
        return 1

    @property
    def answer_mode(self) -> AnswerMode:
        """ "replace": a new answer takes the place of the stored one (when changes
        are allowed); "append": each answer is one more entry, up to max_entries."""
        return "replace"

    def entries(self, aggregate: Aggregate) -> int | None:
        """How many answers were given, for a question where one person may give
        several (shown beside the number of people who answered); None where each
        person has one answer, and people and answers are the same count."""
        if self.answer_mode == "append" and self.max_entries > 1:
            return len(aggregate.texts)
        return None

    def mode_for(self, answer: Answer) -> AnswerMode:
        """The store's mode for this one answer (a Q&A appends questions and toggles upvotes)."""
        return self.answer_mode

    def needs_context_for(self, answer: Answer) -> bool:
        """Whether `Room.vote` must read the question's state and call `admit` for this
        answer: two store reads per vote, so a type asks only for the answers it checks."""
        return self.needs_context

    def admit(self, answer: Answer, mine: Sequence[Answer], aggregate: Aggregate) -> None:
        """Refuse (AnswerRefused) an answer that the question's state rules out: an
        upvote of one's own entry, of one that is not there. Called only when
        `needs_context`; `mine` are the participant's stored answers (with refs)."""

    def mark_allowed(self, key: str, value: str | None) -> bool:
        """Whether the console may set this mark on the question (`Room.mark`);
        a type that reads marks from its aggregate names the ones it takes."""
        return False

    def answer_options(self) -> list[tuple[str, str]]:
        """The fixed answers a participant picks from, as (id, label); none for free text."""
        return []

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {
            "prompt": self.prompt,
            "results": self.results,
            "allow_change": self.allow_change,
            "max_entries": self.max_entries,
            "answer_mode": self.answer_mode,
            "scored": self.scored,
            "timer": self.deadline_seconds,
            "options": [{"id": key, "label": label} for key, label in self.answer_options()],
        }

    @abstractmethod
    def validate(self, raw: object) -> Answer:
        """Check a participant's raw answer (the decoded JSON of a vote message).

        Raises `AnswerRefused` with a reason a participant can act on.
        """

    @abstractmethod
    def answer_from_form(self, fields: FormFields) -> object:
        """The raw answer in a posted form (no JavaScript), in the shape `validate` reads."""

    @abstractmethod
    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        """The results one audience may see, as JSON-ready data.

        Built from an allow-list per audience: phones never get other people's
        texts; the projector gets only texts the facilitator has not hidden;
        the console gets everything, hidden texts marked.
        """

    def tally(self, aggregate: Aggregate) -> dict[str, Any]:
        """The full results (the console's view), for export and reports."""
        return self.results_for(aggregate, "console")

    @abstractmethod
    def report(self, given: ReportInput) -> dict[str, Any]:
        """The question's part of the results report: its chart's data and its texts,
        from the same counts as `tally` and `summary` (so the numbers agree with the
        summary CSV); texts the facilitator hid only when `given.include_hidden`."""

    @abstractmethod
    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        """Summary CSV rows: (option or what was counted, count, percent of respondents)."""

    @abstractmethod
    def csv_values(self, answer: Answer) -> list[str]:
        """One CSV answer cell per value: a multi-select gives one per option."""

    @property
    def csv_type(self) -> str:
        """The `question_type` cell of the CSV files: the type's name, or a finer
        name where a type has variants that a reader of the file must tell apart
        (one answer or several)."""
        return self.type_name

    def csv_rows(self, answer: Answer, aggregate: Aggregate) -> list[dict[str, str]]:
        """The answers CSV rows of one stored answer (its `ref` set), with the
        question's counters at hand: each row's `answer` cell and its cells in
        `csv_columns` (a Q&A question's votes and state). By default one row per
        `csv_values` cell."""
        return [{"answer": value} for value in self.csv_values(answer)]

    def comparison_basis(self) -> object:
        """What must be the same in two runs' copies of this question for their
        results to be compared (the runs of a session match questions by id, and
        the script may have been edited between them): by default the ids of its
        fixed answers. A type whose results depend on more (a scale's range and
        statements) says so; a free-text type compares always."""
        return tuple(key for key, _label in self.answer_options())

    def compare(self, aggregates: Sequence[Aggregate]) -> dict[str, Any]:
        """The results of several runs (oldest first) side by side, as JSON-ready
        data for the `compare` macro of the type's template. By default each run's
        summary rows (`summary`), matched by label."""
        return summary_comparison([self.summary(aggregate) for aggregate in aggregates], aggregates)

    def score(self, answer: Answer, seconds: float) -> Score | None:
        """What `answer`, stored `seconds` after the question was opened, earned on
        the leaderboard; None for a question that does not score (`scored` false)."""
        return None

    def common_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": self.type_name,
            "id": self.id,
            "prompt": self.title,
            "results": self.results,
            "allow_change": self.allow_change,
        }
        if self.timer is not None:
            spec["timer"] = self.timer
        return spec


def first(fields: FormFields, name: str) -> str:
    """A form field's first value, or "" when it was not sent."""
    values = fields.get(name) or ()
    return str(values[0]) if values else ""


def bars(rows: Sequence[tuple[str, str]], aggregate: Aggregate) -> list[dict[str, Any]]:
    """One bar per (id, label): its count and its share of the respondents."""
    total = aggregate.respondents
    return [
        {
            "id": key,
            "label": label,
            "count": aggregate.counts.get(key, 0),
            "percent": percentage(aggregate.counts.get(key, 0), total),
        }
        for key, label in rows
    ]


def texts_for(aggregate: Aggregate, audience: Audience) -> list[dict[str, Any]]:
    """Free texts as an audience may see them: none for phones, the visible ones
    for the projector, all of them (hidden ones marked) for the console."""
    if audience == "participant":
        return []
    return [
        {"ref": entry.ref, "text": entry.text, "hidden": entry.hidden}
        for entry in aggregate.texts
        if audience == "console" or not entry.hidden
    ]


def report_texts(aggregate: Aggregate, include_hidden: bool) -> list[dict[str, Any]]:
    """Free texts for the results report: the ones the facilitator left visible, or
    with `include_hidden` all of them, hidden ones marked."""
    return [
        {"text": entry.text, "hidden": entry.hidden}
        for entry in aggregate.texts
        if include_hidden or not entry.hidden
    ]


def read_common(spec: SpecReader) -> tuple[str | None, ResultsMode, bool]:
    """The prompt, results mode and allow_change every question has."""
    prompt = spec.text("prompt", required=True, max_length=500)
    results = spec.one_of("results", ("live", "hidden"), default="live")
    allow_change = spec.boolean("allow_change", default=True)
    mode: ResultsMode = "hidden" if results == "hidden" else "live"
    return prompt, mode, allow_change


def within(text: str, limit: int, too_long: str) -> str:
    """`text` when it has at most `limit` characters; else `AnswerRefused(too_long)`,
    whose `{length}` and `{limit}` are filled in."""
    if len(text) > limit:
        raise AnswerRefused(too_long, length=len(text), limit=limit)
    return text


def expect_mapping(raw: object) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise AnswerRefused("This answer is not in a form poll understands.")
    return raw


def summary_comparison(
    summaries: Sequence[Sequence[tuple[str, int, float]]], aggregates: Sequence[Aggregate]
) -> dict[str, Any]:
    """Runs' summary rows side by side: one row per label any run has, a cell per
    run (count and percent; zero where a run lacks the label)."""
    labels: list[str] = []
    for summary in summaries:
        labels.extend(label for label, _count, _share in summary if label not in labels)
    cells = [{label: (count, share) for label, count, share in summary} for summary in summaries]
    return {
        "kind": "summary",
        "respondents": [aggregate.respondents for aggregate in aggregates],
        "rows": [
            {
                "label": label,
                "runs": [
                    {"count": run.get(label, (0, 0.0))[0], "percent": run.get(label, (0, 0.0))[1]}
                    for run in cells
                ],
            }
            for label in labels
        ],
    }


def bar_comparison(
    rows: Sequence[tuple[str, str]], aggregates: Sequence[Aggregate]
) -> dict[str, Any]:
    """Fixed answers (id, label) across runs: per answer and run its count and share
    of the run's respondents, and the change in percentage points of each later run
    against the first."""
    runs = [bars(rows, aggregate) for aggregate in aggregates]
    compared = []
    for index, (key, label) in enumerate(rows):
        cells = [run[index] for run in runs]
        first_share = cells[0]["percent"]
        compared.append(
            {
                "id": key,
                "label": label,
                "runs": [{"count": c["count"], "percent": c["percent"]} for c in cells],
                "changes": [round(c["percent"] - first_share, 1) for c in cells[1:]],
            }
        )
    return {
        "kind": "bars",
        "respondents": [aggregate.respondents for aggregate in aggregates],
        "rows": compared,
    }
