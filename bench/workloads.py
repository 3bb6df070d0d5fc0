"""What the load benchmark's phones answer, and how it checks that nothing was lost.

One workload per question type, registered by its type name; `python -m bench
load --question TYPE` picks one. A workload names the question it runs on (in
the bench's own script, bench/sessions.yaml), makes each phone's answer in the
shape docs/protocol.md gives for the type (the `answer` of the vote message),
and counts what the answers should add up to in *units* of its own choosing:
one unit for each thing the tally and the CSV export count separately (a
ticked option, a rated statement, a ranked place, a text, a word, an
upvote). It then reads the same units back from the console's final tally
(the snapshot's `results`) and from the rows of the CSV export
(`/console/room/R/responses.csv`: one row per `answer` cell, plus a type's
own columns). A unit the phones' acknowledged answers have and a reading
lacks is *lost*; one a reading has beyond them is *doubled*. For yes/no one
unit is one vote; for a multi-select a lost vote shows as one lost unit per
option it ticked.

Everything a workload needs about its question it reads from `item`, the
question as the console's snapshot describes it (its options with ids and
labels, its statements, places, limits, `answer_mode`), never from the
script, so the checks follow the question as the server understood it.

What is expected, by the item's `answer_mode`:

- `"replace"`: each phone's last acknowledged answer counts, nothing before
  it. A phone sends its second answer only after its first was acknowledged,
  so the order in which a phone sent its answers is the order in which the
  server stored them. Respondents: the phones with an acknowledged answer.
- `"append"` (an open question with `max_answers` > 1): every acknowledged
  answer is one more entry, and every one of them counts: a phone that has
  "second thoughts" adds a second text, it does not replace the first. Each
  answer has a submission id of its own and texts are unique per phone and
  answer (`Idea 17.2: …`), so a lost or doubled entry is seen as exactly
  that text. Respondents: the phones with at least one acknowledged entry.
- any other mode: no default; the type's workload defines `expected` itself,
  or the run stops and says so. The Q&A board does: a question appends, an
  upvote toggles (sent again, it is taken back).

"Acknowledged" means an `ack` with status `saved` or `duplicate` (both mean
the store has the answer). A refused or unanswered vote is expected to be
absent; if it was stored anyway, it shows up as doubled.

How to add a workload for a new question type:

1. Add one question of the type to bench/sessions.yaml, in English, with an
   id that will not change (the bench uses the type's name) and enough
   options or texts to make the answers vary. Check it with `poll check
   bench/sessions.yaml`.
2. Below, a subclass of `Workload` with `@register`: `type_name`,
   `question_id`, and four methods: `answer` (a phone's random answer, from
   the protocol's answer table), `units` (what one answer adds to the tally),
   `from_results` (the units in the console's `results` for the type, as
   docs/protocol.md gives them) and `from_csv` (the units in the type's CSV
   rows, as the README gives them). Override `change` when a second answer
   is not just another random one: yes/no sends the other answer, a Q&A
   phone upvotes a question from the board it was sent (`Seen`: the newest
   `results` the phone got and the answers of its last ack). Override
   `expected` when the type's answer mode is neither replace nor append.
   An answer may carry notes for `units` under keys starting with `_`
   (`NOTE`); the phone leaves them out of the vote (`sendable`).
3. tests/bench/test_workloads.py then checks its answers against poll's own
   validation, reads poll's own results and CSV rows for them back, and runs
   it with 30 phones against a real server; `python -m bench load --question
   TYPE` takes it.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

#: The question as the console's snapshot gives it (its `item`).
Item = Mapping[str, Any]
#: A vote message's `answer`, in the shape docs/protocol.md gives for the type;
#: keys starting with NOTE are the bench's own notes, never sent (see `sendable`).
Answer = dict[str, Any]
#: A row of the CSV export (answers), by column name: `answer` and a type's own columns.
Row = Mapping[str, str]
NOTE = "_"

#: Statuses of an `ack`: the store has the answer.
ACKED = ("saved", "duplicate")
#: What poll/export.py puts an apostrophe before, so no spreadsheet runs the cell.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Words of the generated texts: plain ASCII, so poll's cleaning keeps them as sent.
WORDS = (
    *("how", "do", "we", "reach", "young", "people", "in", "the", "street", "who"),
    *("decides", "about", "housing", "what", "works", "for", "mixed", "schools"),
    *("shops", "parks", "safety", "trust", "residents", "council", "rent", "green"),
)


@dataclass(frozen=True)
class Seen:
    """What a phone knows when it answers again: the `results` of the newest
    snapshot it got for the question (None while it was sent none: most types
    show phones no results during a vote), and the answers in its last `ack`
    (`mine`, with their `ref` where the type gives them)."""

    results: Mapping[str, Any] | None = None
    mine: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Expected:
    """What the acknowledged answers add up to."""

    units: Counter[str]
    respondents: int


def sendable(answer: Answer) -> Answer:
    """The answer as the vote message carries it: without the bench's notes."""
    return {key: value for key, value in answer.items() if not key.startswith(NOTE)}


def csv_cell(cell: str) -> str:
    """An `answer` cell as the phone's text was, before the export neutralised it."""
    if cell.startswith("'") and cell[1:2] and cell[1] in _FORMULA_START:
        return cell[1:]
    return cell


def text(rng: random.Random, prefix: str, limit: int) -> str:
    """A text no other phone or answer sends (its prefix), at most `limit` characters."""
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
    return f"{prefix}: {words}"[:limit].rstrip()


def unreadable(cell: str) -> str:
    """The unit of a CSV cell a workload cannot read: never expected, so it counts as doubled."""
    return f"unreadable cell: {cell}"


class Workload(ABC):
    """A question type's part of the load benchmark (see the module's docstring)."""

    #: The question type, as in the script's `type:` and the item's `type`.
    type_name: ClassVar[str]
    #: The id of the question of this type in bench/sessions.yaml.
    question_id: ClassVar[str]
    #: The item's `type` when it differs from the workload's name (a PDF slide is a slide).
    item_type: ClassVar[str | None] = None
    #: Whether the phones answer; a workload that does not (a slide) has them `sync`
    #: instead: each asks for the current snapshot once, spread like the answers.
    answers: ClassVar[bool] = True

    @abstractmethod
    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        """A random answer of phone number `phone`; `take` counts its answers from 1."""

    def change(
        self, item: Item, rng: random.Random, phone: int, previous: Answer, seen: Seen
    ) -> Answer:
        """The phone's second answer: by default a new one that differs from its first."""
        for _ in range(20):
            second = self.answer(item, rng, phone, 2)
            if second != previous:
                return second
        raise RuntimeError(
            f"the {self.type_name} workload made the same answer 20 times running; "
            f"question {item.get('id')!r} leaves too little to choose"
        )

    def may_change(self, item: Item) -> bool:
        """Whether a phone may send a second answer that the server keeps."""
        mode = item.get("answer_mode", "replace")
        if mode == "replace":
            return bool(item.get("allow_change", True))
        if mode == "append":
            return int(item.get("max_entries", 1)) > 1
        return False

    @abstractmethod
    def units(self, item: Item, answer: Answer) -> list[str]:
        """What one stored answer adds to the tally."""

    @abstractmethod
    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        """The units in the console's tally (its snapshot's `results`)."""

    @abstractmethod
    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        """The units in the CSV export's rows of the question (most read `answer`)."""

    def expected(self, item: Item, votes: Iterable[Mapping[str, Any]]) -> Expected:
        """The units the phones' acknowledged answers add up to, by the answer mode."""
        acked = [v for v in votes if v["status"] in ACKED]
        mode = item.get("answer_mode", "replace")
        if mode == "append":
            return Expected(
                Counter(unit for v in acked for unit in self.units(item, v["answer"])),
                len({v["participant"] for v in acked}),
            )
        if mode != "replace":
            raise ValueError(
                f"question {item.get('id')!r} has answer mode {mode!r}: the {self.type_name} "
                "workload must define expected() to say what is counted in that mode"
            )
        last: dict[int, Mapping[str, Any]] = {}
        for vote in sorted(acked, key=lambda v: float(v["sent"])):
            last[int(vote["participant"])] = vote
        return Expected(
            Counter(unit for v in last.values() for unit in self.units(item, v["answer"])),
            len(last),
        )


WORKLOADS: dict[str, Workload] = {}


def register(cls: type[Workload]) -> type[Workload]:
    if cls.type_name in WORKLOADS:
        raise ValueError(f"two workloads for the question type {cls.type_name!r}")
    WORKLOADS[cls.type_name] = cls()
    return cls


def names() -> list[str]:
    """Every registered type name, in the order they are defined."""
    return list(WORKLOADS)


def get(type_name: str) -> Workload:
    try:
        return WORKLOADS[type_name]
    except KeyError:
        raise KeyError(
            f"no load workload for the question type {type_name!r}; "
            f"there are: {', '.join(WORKLOADS)}"
        ) from None


def _by_label(options: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """Labels to ids: the CSV names options by their labels."""
    return {str(o["label"]): str(o["id"]) for o in options}


def _read(rows: Sequence[Row], read: Callable[[str], list[str] | None]) -> Counter[str]:
    """The units of each row's `answer` cell; a cell `read` cannot place is doubled."""
    found: Counter[str] = Counter()
    for row in rows:
        cell = csv_cell(row["answer"])
        found.update(read(cell) or [unreadable(cell)])
    return found


# The workloads -------------------------------------------------------------------------


@register
class YesNo(Workload):
    """Units: `yes` and `no`; the CSV says the session language's label of each.

    A phone that changes its mind sends the other answer, as the bench did
    before it knew other types: the same run as the one docs/performance.md
    reports."""

    type_name = "yesno"
    question_id = "yesno"
    #: The ids of the two answers are fixed by the protocol, in every language.
    OPTIONS = ("yes", "no")

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        return {"choice": rng.choice(list(self.OPTIONS))}

    def change(
        self, item: Item, rng: random.Random, phone: int, previous: Answer, seen: Seen
    ) -> Answer:
        return {"choice": rng.choice([o for o in self.OPTIONS if o != previous["choice"]])}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [str(answer["choice"])]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        return Counter({str(o["id"]): int(o["count"]) for o in results.get("options", [])})

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        labels = _by_label(item.get("options", []))
        return _read(rows, lambda cell: [labels[cell]] if cell in labels else None)


@register
class Open(Workload):
    """Units: the texts themselves. Each text starts `Idea PHONE.TAKE:`, so no
    two answers are the same and a missing or extra card is exactly one unit.

    With one answer each (replace) a second thought replaces the first text;
    with more (append, the bench's question takes three) it is one more card,
    and both count (see the module's docstring)."""

    type_name = "open"
    question_id = "open"

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        return {"text": text(rng, f"Idea {phone}.{take}", int(item.get("max_length", 280)))}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [str(answer["text"])]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        # The console gets every text, hidden ones too (the bench hides none).
        return Counter(str(t["text"]) for t in results.get("texts", []))

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        return _read(rows, lambda cell: [cell])


@register
class Choice(Workload):
    """Units: each ticked option's id; a ticked "other" is two units, its key
    (`_other`, counted as a bar) and `other: TEXT` (its text). In the CSV a
    row's `answer` is an option's label, and the "other" row has its text in
    `other_text`.

    A phone ticks between one and `choice_limit` answers at random, "other"
    among them when the question has it."""

    type_name = "choice"
    question_id = "choice"

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        other_key = str(item.get("other_key", "_other"))
        pool = [str(o["id"]) for o in item.get("options", [])]
        if item.get("other"):
            pool.append(other_key)
        ticked = rng.sample(pool, rng.randint(1, min(int(item.get("choice_limit", 1)), len(pool))))
        answer: Answer = {"choices": ticked}
        if other_key in ticked:
            limit = int(item.get("other_max_length", 200))
            answer["other"] = text(rng, f"Other {phone}.{take}", limit)
        return answer

    def units(self, item: Item, answer: Answer) -> list[str]:
        units = [str(c) for c in answer["choices"]]
        if answer.get("other"):
            units.append(f"other: {answer['other']}")
        return units

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        found = Counter({str(o["id"]): int(o["count"]) for o in results.get("options", [])})
        found.update(f"other: {t['text']}" for t in results.get("other_texts", []))
        return found

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        labels = _by_label(item.get("options", []))
        other_key = str(item.get("other_key", "_other"))

        found: Counter[str] = Counter()
        for row in rows:
            # The "other" row has its text in a column of its own (`other_text`).
            other = row.get("other_text")
            if other and item.get("other"):
                found.update([other_key, f"other: {csv_cell(other)}"])
                continue
            cell = csv_cell(row["answer"])
            found.update([labels[cell]] if cell in labels else [unreadable(cell)])
        return found


@register
class Scale(Workload):
    """Units: `STATEMENT=VALUE` for each rated statement (the store's own keys;
    a scale without statements rates the one statement `answer`). The CSV
    cell is `Statement label: VALUE` in a block, just `VALUE` otherwise.

    A phone rates each statement with a chance of 4 in 5 (at least one, as the
    question asks), so some answers leave statements open."""

    type_name = "scale"
    question_id = "scale"

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        statements = [str(s["id"]) for s in item.get("statements", [])]
        values = [int(s["value"]) for s in item.get("steps", [])]
        ratings = {s: rng.choice(values) for s in statements if rng.random() < 0.8}
        if not ratings:
            ratings = {rng.choice(statements): rng.choice(values)}
        return {"ratings": ratings}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [f"{statement}={value}" for statement, value in answer["ratings"].items()]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        return Counter(
            {
                f"{statement['id']}={step['value']}": int(step["count"])
                for statement in results.get("statements", [])
                for step in statement["steps"]
            }
        )

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        statements = item.get("statements", [])
        labels = _by_label(statements)
        only = str(statements[0]["id"]) if len(statements) == 1 else None

        def read(cell: str) -> list[str] | None:
            if not item.get("block"):
                return [f"{only}={cell}"] if only is not None else None
            label, colon, value = cell.rpartition(": ")
            return [f"{labels[label]}={value}"] if colon and label in labels else None

        return _read(rows, read)


@register
class Ranking(Workload):
    """Units: `OPTION@PLACE` for each ranked place (the store's own keys). The
    console's tally has them as each option's `at` (how many put it in each
    place); the CSV cell is `PLACE. Option label`.

    A phone fills every place the question asks (`places`: its `top`, or all
    options) with options in random order."""

    type_name = "ranking"
    question_id = "ranking"

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        ids = [str(o["id"]) for o in item.get("options", [])]
        order = rng.sample(ids, int(item.get("places") or len(ids)))
        return {f"rank-{place}": option for place, option in enumerate(order, 1)}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [f"{option}@{name.removeprefix('rank-')}" for name, option in answer.items()]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        found: Counter[str] = Counter()
        for option in results.get("options", []):
            if "at" not in option:
                raise ValueError(
                    "the ranking tally has no per-place counts ('at'): "
                    "only the console's snapshot carries them"
                )
            for place, count in enumerate(option["at"], 1):
                found[f"{option['id']}@{place}"] += int(count)
        return found

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        labels = _by_label(item.get("options", []))

        def read(cell: str) -> list[str] | None:
            place, dot, label = cell.partition(". ")
            if dot and place.isdigit() and label in labels:
                return [f"{labels[label]}@{place}"]
            return None

        return _read(rows, read)


@register
class WordCloud(Workload):
    """Units: the words as counted, each a key of the console's `words`. A phone
    writes one to `max_words` words, distinct, from a list of 40 plain ones,
    each in one of three spellings (`green`, `Green`, `GREEN`: counted as one
    word, so a unit is the word in lower case) and leaves the other inputs
    empty, as the form sends them. The CSV has one cell per word as typed.

    Forty words stay well within the console's list (the 100 most frequent
    words, `more` counting the rest): a tally with words left out of the list
    cannot be compared, and the run stops and says so."""

    type_name = "wordcloud"
    question_id = "wordcloud"
    WORDS = (
        *("green", "quiet", "safe", "busy", "friendly", "noisy", "old", "young"),
        *("parks", "shops", "schools", "trees", "traffic", "bikes", "cafes", "market"),
        *("neighbours", "playground", "library", "river", "bridge", "church", "station"),
        *("streets", "gardens", "benches", "lights", "houses", "flats", "rent", "dogs"),
        *("children", "elderly", "students", "festival", "football", "music", "art"),
        *("home", "change"),
    )

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        inputs = int(item.get("max_words", 3))
        chosen = rng.sample(self.WORDS, rng.randint(1, inputs))
        typed = [rng.choice((word, word.capitalize(), word.upper())) for word in chosen]
        return {"words": typed + [""] * (inputs - len(typed))}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [word.lower() for word in answer["words"] if word]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        if results.get("more"):
            raise ValueError(
                f"the console listed only some of the {results.get('distinct')} words "
                f"({results['more']} more): the tally cannot be compared; "
                "give the workload fewer distinct words"
            )
        return Counter({str(w["key"]): int(w["count"]) for w in results.get("words", [])})

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        return _read(rows, lambda cell: [cell.lower()] if cell.lower() in self.WORDS else None)


@register
class QandA(Workload):
    """A Q&A board: a phone asks a question (a text unique to it, `Question
    17.1: …`, with a name or anonymous); one in ten then upvotes a question of
    someone else's from the board its snapshots showed it (or, while that
    board has none, asks a second question).

    Asking appends (up to `max_questions`) and an upvote toggles (sent again,
    it is taken back), so `expected` is the type's own: every acknowledged
    question counts, and an upvote counts when the phone's acknowledged
    upvotes of that question are odd in number. Units: `question: TEXT (by
    NAME)` (or `(anonymous)`) for each question, and `upvote: TEXT` for each
    upvote of the question TEXT. The console lists every question with its
    name and `votes`; the CSV has a row per question (its `name` column) and
    one per upvote (`upvote: TEXT`). The phone keeps the upvoted question's
    text in a note, since the vote names it by its `ref` only."""

    type_name = "qa"
    question_id = "qa"
    NAMES = ("", "", "Ann", "Bram", "Chris", "Dee", "Eli", "Fenna")

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        limit = int(item.get("max_length", 280))
        return {
            "text": text(rng, f"Question {phone}.{take}", limit),
            "name": rng.choice(self.NAMES),
        }

    def change(
        self, item: Item, rng: random.Random, phone: int, previous: Answer, seen: Seen
    ) -> Answer:
        own = {str(a.get("ref")) for a in seen.mine if a.get("text")}
        board = (seen.results or {}).get("questions") or []
        others = [q for q in board if str(q["ref"]) not in own]
        if not others:
            return self.answer(item, rng, phone, 2)
        chosen = rng.choice(others)
        return {"up": str(chosen["ref"]), f"{NOTE}question": str(chosen["text"])}

    @staticmethod
    def asked(question: str, name: str | None) -> str:
        return f"question: {question} ({f'by {name}' if name else 'anonymous'})"

    def units(self, item: Item, answer: Answer) -> list[str]:
        if answer.get("up"):
            return [f"upvote: {answer[f'{NOTE}question']}"]
        return [self.asked(str(answer["text"]), answer.get("name") or None)]

    def expected(self, item: Item, votes: Iterable[Mapping[str, Any]]) -> Expected:
        units: Counter[str] = Counter()
        upvoted: dict[tuple[int, str], str] = {}
        answered: set[int] = set()
        for vote in sorted(votes, key=lambda v: float(v["sent"])):
            if vote["status"] not in ACKED:
                continue
            answer, participant = vote["answer"], int(vote["participant"])
            if answer.get("up"):
                key = (participant, str(answer["up"]))
                if upvoted.pop(key, None) is None:  # sent again, it is taken back
                    upvoted[key] = self.units(item, answer)[0]
            else:
                units.update(self.units(item, answer))
                answered.add(participant)
        units.update(upvoted.values())
        return Expected(units, len(answered | {participant for participant, _ in upvoted}))

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        if results.get("more"):
            raise ValueError(
                f"the tally lists only some of the board's questions ({results['more']} more): "
                "read the console's snapshot, which lists them all"
            )
        found: Counter[str] = Counter()
        for question in results.get("questions", []):
            found[self.asked(str(question["text"]), question.get("name"))] += 1
            found[f"upvote: {question['text']}"] += int(question["votes"])
        return found

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        found: Counter[str] = Counter()
        for row in rows:
            cell = csv_cell(row["answer"])
            if cell.startswith("upvote: "):
                found[cell] += 1
            else:
                found[self.asked(cell, csv_cell(row.get("name") or "") or None)] += 1
        return found


@register
class Quiz(Workload):
    """Units: the chosen option's id, as for yes/no; the CSV names it by its
    label. A phone picks an option at random under a nickname of its own
    (`Player 17`: the first question that scores asks for one) and answers
    once: a quiz takes no change, so nobody has second thoughts (`may_change`
    reads `allow_change: false`). Points and standings are not checked here:
    tests/questions/test_quiz.py recounts them.

    The bench's quiz question counts down 300 s, the longest `time_limit`:
    the countdown starts when the facilitator opens it, before the phones
    join, and a thousand phones can take half a minute to come in on a busy
    machine."""

    type_name = "quiz"
    question_id = "quiz"

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        ids = [str(o["id"]) for o in item.get("options", [])]
        return {"choice": rng.choice(ids), "nickname": f"Player {phone}"}

    def units(self, item: Item, answer: Answer) -> list[str]:
        return [str(answer["choice"])]

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        return Counter({str(o["id"]): int(o["count"]) for o in results.get("options", [])})

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        labels = _by_label(item.get("options", []))
        return _read(rows, lambda cell: [labels[cell]] if cell in labels else None)


class _Looking(Workload):
    """Phones that only look: a slide is current, they join and each `sync`s once.
    Nothing is answered, so nothing is counted: the figures are the server's CPU and
    the round trips, to compare a picture slide with a text slide."""

    item_type = "slide"
    answers = False

    def answer(self, item: Item, rng: random.Random, phone: int, take: int) -> Answer:
        raise RuntimeError(f"the {self.type_name} workload's phones do not answer")

    def may_change(self, item: Item) -> bool:
        return False

    def units(self, item: Item, answer: Answer) -> list[str]:
        return []

    def from_results(self, item: Item, results: Mapping[str, Any]) -> Counter[str]:
        return Counter()

    def from_csv(self, item: Item, rows: Sequence[Row]) -> Counter[str]:
        return Counter()

    def expected(self, item: Item, votes: Iterable[Mapping[str, Any]]) -> Expected:
        return Expected(Counter(), 0)


@register
class Slide(_Looking):
    """A text slide (a title and Markdown), as every slide was before pictures."""

    type_name = "slide"
    question_id = "slide"


@register
class PdfSlide(_Looking):
    """A page of a PDF deck: the phones show only its title, the projector the page."""

    type_name = "pdf-slide"
    question_id = "pdf-slide"
