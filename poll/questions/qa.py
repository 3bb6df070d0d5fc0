"""Q&A: participants ask questions and upvote each other's; the board sorts by votes.

How a board is stored, in the store's own terms:

- A question is an append-mode answer whose `text` is the question, up to
  `max_questions` per participant (the store counts only entries with a text
  against that limit). A name the asker gives travels in the same text, after
  a newline: `clean_text` turns every newline a participant types into a
  space, so neither the question nor the name can hold one, and the first
  newline always splits them. The name cannot be a key (`by:<name>`): the
  store's text entries carry no keys, so the board could not show who asked
  what, and every name would become a counter of its own.
- An upvote is a toggle-mode answer with the one key `up:<ref>` (the ref of
  the question's entry): sending it again takes it back. The store counts
  `up:<ref>` exactly, under any concurrency.
- The facilitator's decisions are marks on the question: `state:<ref>` is
  "approved" or "answered" (no mark: waiting, when moderation is "before"),
  and `pinned` holds the ref of the one question on the projector.
- Hiding is the moderation every free text has (`hidden` on the entry, the
  console's "moderate" action), not a mark: the answers CSV's `hidden` column,
  the privacy rules and the console's habits stay the same for every type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

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
    percentage,
    read_common,
    within,
)
from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

Moderation = Literal["none", "before"]
MODERATIONS: tuple[Moderation, ...] = ("none", "before")
#: A name is a short signature under a question, not a text of its own.
NAME_MAX_LENGTH = 40
MAX_QUESTIONS = 20
#: Between a question and the asker's name in the stored text (see the module docstring).
NAME_SEPARATOR = "\n"
UP_PREFIX = "up:"
STATE_PREFIX = "state:"
PINNED = "pinned"
APPROVED, ANSWERED = "approved", "answered"
STATES = (APPROVED, ANSWERED)
#: A stored entry's ref as the stores make them (digits today); kept short and
#: plain, since it ends up in keys and marks.
REF = re.compile(r"[A-Za-z0-9_-]{1,40}")
#: A long board on a phone: its most upvoted questions, and the newest of the rest.
PHONE_TOP, PHONE_NEWEST = 20, 10
#: What a question's state reads as in results and the CSV.
State = Literal["pending", "approved", "answered"]


def up_key(ref: str) -> str:
    return f"{UP_PREFIX}{ref}"


def state_key(ref: str) -> str:
    return f"{STATE_PREFIX}{ref}"


def stored_text(question: str, name: str | None) -> str:
    """The entry's text: the question, then the name after a newline when given."""
    return f"{question}{NAME_SEPARATOR}{name}" if name else question


def split_text(text: str) -> tuple[str, str | None]:
    """(question, name or None) of a stored text; see `stored_text`."""
    question, separator, name = text.partition(NAME_SEPARATOR)
    return question, (name or None) if separator else None


def upvoted_ref(answer: Answer) -> str | None:
    """The ref an upvote is for, or None when the answer is a question."""
    if len(answer.keys) == 1 and answer.keys[0].startswith(UP_PREFIX):
        return answer.keys[0][len(UP_PREFIX) :]
    return None


def _phone_share(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The part of a long board a phone gets: the most upvoted questions, the newest of
    the rest (so a question just asked can still gather upvotes) and the pinned one,
    in board order. Every phone gets the board again at most once a second while
    upvotes come in: a hundred questions to each of two thousand phones would be
    megabytes a second for a list nobody scrolls to the end of."""
    if len(rows) <= PHONE_TOP + PHONE_NEWEST:
        return rows
    rest = sorted(rows[PHONE_TOP:], key=lambda row: -row["order"])
    kept = {row["ref"] for row in (*rows[:PHONE_TOP], *rest[:PHONE_NEWEST])}
    return [row for row in rows if row["ref"] in kept or row["pinned"]]


@dataclass(frozen=True)
class QandA(Question):
    type_name: ClassVar[str] = "qa"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {
        "moderation",
        "max_length",
        "max_questions",
    }
    label: ClassVar[str] = N_("Q&A")
    # Upvoting asks what the question's entries are now (whose, hidden, approved).
    needs_context: ClassVar[bool] = True
    # The board is the point: phones see the questions on it, to upvote them.
    shares_answers_with_phones: ClassVar[bool] = True
    # The answers CSV: a question's row has its asker's name, votes and state.
    csv_columns: ClassVar[tuple[str, ...]] = ("name", "votes", "state")

    moderation: Moderation = "none"
    max_length: int = 280
    max_questions: int = 3

    # The script ----------------------------------------------------------------

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        moderation = cls._read_moderation(spec)
        max_length = spec.integer("max_length", default=280, minimum=1, maximum=2000)
        max_questions = spec.integer("max_questions", default=3, minimum=1, maximum=MAX_QUESTIONS)
        if prompt is None or moderation is None or max_length is None or max_questions is None:
            return None
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            moderation=moderation,
            max_length=max_length,
            max_questions=max_questions,
        )

    @staticmethod
    def _read_moderation(spec: SpecReader) -> Moderation | None:
        value = spec.data.get("moderation")
        if value is None:
            return "none"
        if isinstance(value, bool):
            # YAML reads `no`, `off` and `false` (and `yes`, `on`) as true/false.
            spec.error(
                "moderation",
                "must be none (questions appear at once) or before (you approve each "
                f"first), not {str(value).lower()}; YAML reads no/off/yes/on as true/false",
            )
            return None
        for moderation in MODERATIONS:
            if value == moderation:
                return moderation
        spec.error(
            "moderation",
            "must be none (questions appear at once) or before (you approve each first), "
            f"not {value!r}",
        )
        return None

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec() | {
            "moderation": self.moderation,
            "max_length": self.max_length,
            "max_questions": self.max_questions,
        }

    # What clients need ---------------------------------------------------------

    @property
    def max_entries(self) -> int:
        return self.max_questions

    @property
    def answer_mode(self) -> AnswerMode:
        return "append"

    def needs_context_for(self, answer: Answer) -> bool:
        # Asking needs no look at the board (the store keeps the limit); an upvote
        # does: whose question it is, and whether it is on the board.
        return upvoted_ref(answer) is not None

    def mode_for(self, answer: Answer) -> AnswerMode:
        # A question is one more entry; an upvote (keys, no text) comes and goes.
        return "toggle" if upvoted_ref(answer) is not None else "append"

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {
            "moderation": self.moderation,
            "max_length": self.max_length,
            "max_questions": self.max_questions,
            "name_max_length": NAME_MAX_LENGTH,
        }

    # Answers -------------------------------------------------------------------

    def validate(self, raw: object) -> Answer:
        data = expect_mapping(raw)
        up = data.get("up")
        if up not in (None, ""):
            if not isinstance(up, str) or not REF.fullmatch(up):
                raise AnswerRefused("This answer is not in a form poll understands.")
            return Answer(keys=(up_key(up),))
        text = data.get("text")
        if text is None or text == "":
            raise AnswerRefused("Write your question first.")
        if not isinstance(text, str):
            raise AnswerRefused("This answer is not in a form poll understands.")
        question = clean_text(text)
        if not question:
            raise AnswerRefused("Write your question first.")
        within(
            question,
            self.max_length,
            N_("Your question is {length} characters long; at most {limit} fit."),
        )
        name = data.get("name")
        if name is not None and not isinstance(name, str):
            raise AnswerRefused("This answer is not in a form poll understands.")
        name = clean_text(name or "") or None
        if name is not None:
            within(
                name,
                NAME_MAX_LENGTH,
                N_("Your name is {length} characters long; at most {limit} fit."),
            )
        return Answer(text=stored_text(question, name))

    def answer_from_form(self, fields: FormFields) -> object:
        # The ask form sends text and name; each upvote's own small form sends `up`.
        return {
            "text": first(fields, "text"),
            "name": first(fields, "name"),
            "up": first(fields, "up"),
        }

    def admit(self, answer: Answer, mine: Sequence[Answer], aggregate: Aggregate) -> None:
        """Refuse an upvote of her own question, or of one not on the board.

        Taking an upvote back is always allowed (even of a question hidden since),
        so nobody is stuck with a vote they cannot see any more.
        """
        ref = upvoted_ref(answer)
        if ref is None or any(stored.keys == answer.keys for stored in mine):
            return
        if any(stored.text and stored.ref == ref for stored in mine):
            raise AnswerRefused("You cannot upvote your own question.")
        entry = next((e for e in aggregate.texts if e.ref == ref), None)
        if entry is None:
            raise AnswerRefused("That question is not on the board.")
        if entry.hidden:
            raise AnswerRefused("That question has been taken off the board.")
        if not self._approved(aggregate.marks, ref):
            raise AnswerRefused("That question is waiting for the facilitator's approval.")

    def mark_allowed(self, key: str, value: str | None) -> bool:
        """The console approves or marks answered (`state:<ref>`) and pins one (`pinned`)."""
        if key == PINNED:
            return value is None or bool(REF.fullmatch(value))
        if key.startswith(STATE_PREFIX) and REF.fullmatch(key[len(STATE_PREFIX) :]):
            return value is None or value in STATES
        return False

    # Results -------------------------------------------------------------------

    def _approved(self, marks: Mapping[str, str], ref: str) -> bool:
        return self.moderation == "none" or marks.get(state_key(ref)) in STATES

    def _state(self, marks: Mapping[str, str], ref: str) -> State:
        mark = marks.get(state_key(ref))
        if mark == ANSWERED:
            return "answered"
        if mark == APPROVED or self.moderation == "none":
            return "approved"
        return "pending"

    def board(self, aggregate: Aggregate) -> list[dict[str, Any]]:
        """Every question, by votes (most first), then in the order they were asked."""
        marks = aggregate.marks
        pinned = marks.get(PINNED)
        rows: list[dict[str, Any]] = []
        for order, entry in enumerate(aggregate.texts):
            question, name = split_text(entry.text)
            rows.append(
                {
                    "ref": entry.ref,
                    "text": question,
                    "name": name,
                    "votes": aggregate.counts.get(up_key(entry.ref), 0),
                    "state": self._state(marks, entry.ref),
                    "answered": marks.get(state_key(entry.ref)) == ANSWERED,
                    "pinned": entry.ref == pinned,
                    "hidden": entry.hidden,
                    "order": order,
                }
            )
        rows.sort(key=lambda row: (-row["votes"], row["order"]))
        return rows

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Phones and the projector: the questions on the board (not hidden, approved
        # when moderated), each with the name only when its asker gave one. The
        # console: every question, with its state and whether it is hidden.
        rows = self.board(aggregate)
        shown: tuple[str, ...] = ("ref", "text", "name", "votes", "answered", "pinned")
        if audience == "console":
            shown = (*shown, "state", "hidden")
        else:
            rows = [row for row in rows if not row["hidden"] and row["state"] != "pending"]
        count = len(rows)
        if audience == "participant":
            rows = _phone_share(rows)
        questions = [{key: row[key] for key in shown} for row in rows]
        pinned = next((q for q in questions if q["pinned"]), None)
        results: dict[str, Any] = {
            "kind": "qa",
            "respondents": aggregate.respondents,
            "count": count,
            "more": count - len(questions),
            "pinned": pinned,
            "questions": questions,
        }
        if audience == "console":
            # Waiting: neither approved nor hidden (hiding one is turning it down).
            results["pending"] = sum(
                1 for row in rows if row["state"] == "pending" and not row["hidden"]
            )
            results["hidden"] = sum(1 for row in rows if row["hidden"])
        return results

    def report(self, given: ReportInput) -> dict[str, Any]:
        # The board as it ended, most upvoted first: the questions that were on it
        # (not hidden, approved when moderated); every question in the facilitator's
        # own copy, hidden and unapproved ones marked.
        rows = [
            row
            for row in self.board(given.aggregate)
            if given.include_hidden or (not row["hidden"] and row["state"] != "pending")
        ]
        shown = ("text", "name", "votes", "answered", "hidden", "state")
        return {
            "respondents": given.aggregate.respondents,
            "count": len(rows),
            "questions": [{key: row[key] for key in shown} for row in rows],
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        # One row per question, in board order: its votes, and the share of the
        # respondents (askers and voters) who upvoted it.
        total = aggregate.respondents
        return [
            (
                f"{row['text']} — {row['name']}" if row["name"] else row["text"],
                row["votes"],
                percentage(row["votes"], total),
            )
            for row in self.board(aggregate)
        ]

    def csv_values(self, answer: Answer) -> list[str]:
        ref = upvoted_ref(answer)
        if ref is not None:
            return [f"upvote: {ref}"]
        return [split_text(answer.text or "")[0]]

    def csv_rows(self, answer: Answer, aggregate: Aggregate) -> list[dict[str, str]]:
        """A question: its text, the name its asker gave, its votes and state (its
        time and whether it is hidden are the CSV's own columns). An upvote: the
        question it is for."""
        ref = upvoted_ref(answer)
        if ref is not None:
            entry = next((e for e in aggregate.texts if e.ref == ref), None)
            target = split_text(entry.text)[0] if entry is not None else f"#{ref}"
            return [{"answer": f"upvote: {target}"}]
        question, name = split_text(answer.text or "")
        row = {"answer": question, "name": name or ""}
        if answer.ref is not None:
            row["votes"] = str(aggregate.counts.get(up_key(answer.ref), 0))
            row["state"] = self._state(aggregate.marks, answer.ref)
        return [row]
