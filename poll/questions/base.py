"""What every item type of a session script provides, and the values they exchange.

An item type is one module in this package holding one subclass of `Item`
(content) or `Question` (something participants answer). The type:

- reads its own YAML through a `SpecReader`, which reports problems with their
  file position;
- turns a participant's raw answer into an `Answer` or refuses it with
  `AnswerRefused`;
- turns the store's counters for the question (`Aggregate`) into a tally;
- renders an `Answer` as CSV cells.

Stores know nothing about types: they keep `Answer` values and count their keys.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from poll.answers import Aggregate, Answer

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: How results of a question reach the projector: as they grow, or after a reveal.
ResultsMode = Literal["live", "hidden"]

#: How a participant's submissions combine: one answer that a new one replaces,
#: or several entries added one after another (open text with max_answers).
AnswerMode = Literal["replace", "append"]


#: The tally key of the free-text "other" answer of a choice question.
OTHER_KEY = "_other"


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


@dataclass(frozen=True)
class Item(ABC):
    """One step of a session: a content slide or a question."""

    #: The `type:` value in the script that selects this class.
    type_name: ClassVar[str]
    #: Keys this type accepts besides `type`.
    keys: ClassVar[frozenset[str]]
    is_question: ClassVar[bool] = False

    id: str
    title: str

    @classmethod
    @abstractmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        """Read the item from its script mapping; None when `spec` recorded problems."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """Plain data that `parse` reads back into an equal item (kept with each room)."""


@dataclass(frozen=True)
class Question(Item):
    """An item participants answer."""

    is_question: ClassVar[bool] = True
    #: Keys every question accepts.
    common_keys: ClassVar[frozenset[str]] = frozenset({"id", "prompt", "results", "allow_change"})

    results: ResultsMode = "live"
    allow_change: bool = True

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

    def answer_options(self) -> list[tuple[str, str]]:
        """The fixed answers a participant picks from, as (id, label); none for free text."""
        return []

    @abstractmethod
    def validate(self, raw: object) -> Answer:
        """Check a participant's raw answer (decoded JSON or form data).

        Raises `AnswerRefused` with a reason a participant can act on.
        """

    @abstractmethod
    def tally(self, aggregate: Aggregate) -> dict[str, Any]:
        """The results as JSON-ready data for projector, console and export."""

    @abstractmethod
    def csv_values(self, answer: Answer) -> list[str]:
        """One CSV answer cell per value: a multi-select gives one per option."""

    def common_spec(self) -> dict[str, Any]:
        return {
            "type": self.type_name,
            "id": self.id,
            "prompt": self.title,
            "results": self.results,
            "allow_change": self.allow_change,
        }


def read_common(spec: SpecReader) -> tuple[str | None, ResultsMode, bool]:
    """The prompt, results mode and allow_change every question has."""
    prompt = spec.text("prompt", required=True, max_length=500)
    results = spec.one_of("results", ("live", "hidden"), default="live")
    allow_change = spec.boolean("allow_change", default=True)
    mode: ResultsMode = "hidden" if results == "hidden" else "live"
    return prompt, mode, allow_change


def expect_mapping(raw: object) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise AnswerRefused("This answer is not in a form poll understands.")
    return raw
