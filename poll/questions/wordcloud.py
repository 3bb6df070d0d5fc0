"""A word cloud: each participant sends a few words or short phrases, counted together.

One answer per participant (replace mode, as the other types): its keys are
the normalised words, distinct, at most `max_words`; its text is the words as
typed (cleaned as any free text), one per line, in the same order as the keys.
The store counts the keys; the spelling shown for a word is the most common
one among the texts, so "Python", "python" and "python!" count as one word
shown as "Python" when most people wrote it so.

Normalising for counting: Unicode NFC, case folded, runs of spaces made one,
punctuation and spaces around the word dropped (`display_form` does the same
but keeps the case, for what is shown). Characters that carry meaning at a
word's edge (`#`, `%`, `@`, `&`, `*`, `/`, `\\`) are kept: `C#` is not `C`.

The facilitator hides a word with a mark on the question, `hide:<normalised
word>` = "1": it leaves the projector's cloud and the phones' view; the
console lists it with its count, marked hidden, to show it again.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions._chart import cloud
from poll.questions.base import (
    AnswerRefused,
    Audience,
    FormFields,
    Question,
    ReportInput,
    expect_mapping,
    percentage,
    read_common,
)
from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: Bounds and defaults of the script's keys.
MAX_WORDS, DEFAULT_WORDS = 10, 3
MAX_LENGTH, DEFAULT_LENGTH = 40, 25
#: A vote's list of words may carry empty fields (the form sends every input),
#: but not this many: a list longer than this is not a phone's form.
MAX_FIELDS = 50
#: The form field (and the vote's key) that carries the words, as a list.
FIELD = "words"
#: How many words each audience gets, most frequent first. The projector's
#: cloud stays readable at this size; a phone shows the top of it; the console
#: lists more (and every hidden word) so that anything shown can be hidden.
CLOUD_WORDS = 50
PHONE_WORDS = 20
CONSOLE_WORDS = 100
#: Font steps (1 smallest) and colours (see static/questions/wordcloud.css).
LEVELS = 6
TONES = 6
#: The mark that hides a word: `hide:<normalised word>` with the value "1".
HIDE = "hide:"

# Punctuation kept at a word's edge: in "C#", "100%", "@name" or "R&D" it is
# part of the word. Every other punctuation character there is dropped.
_KEEP = frozenset("#%&*@/\\")


_BRACKETS = {"(": ")", "[": "]", "{": "}", "\uff08": "\uff09", "\uff3b": "\uff3d"}
_OPENERS = {close: open_ for open_, close in _BRACKETS.items()}


def _partner_in(partner: str | None, rest: str) -> bool:
    return partner is not None and partner in rest


def _at_edge(char: str) -> bool:
    """True for what is dropped around a word: spaces and most punctuation."""
    category = unicodedata.category(char)
    return category[0] == "Z" or (category[0] == "P" and char not in _KEEP)


def display_form(typed: str) -> str:
    """A word as typed, cleaned (NFC, no control characters, single spaces) and
    without the punctuation and spaces around it; its case is kept.

    A bracket stays when its partner is inside the word ("f(x)", "=SUM(A1)");
    a pair around the whole word goes ("(open source)")."""
    text = clean_text(typed)
    start, end = 0, len(text)
    while start < end:
        first, last = text[start], text[end - 1]
        if end - start >= 2 and _BRACKETS.get(first) == last:
            start, end = start + 1, end - 1
        elif _at_edge(first) and not _partner_in(_BRACKETS.get(first), text[start + 1 : end]):
            start += 1
        elif _at_edge(last) and not _partner_in(_OPENERS.get(last), text[start : end - 1]):
            end -= 1
        else:
            break
    return text[start:end]


@lru_cache(maxsize=16384)
def _forms(typed: str) -> tuple[str, str]:
    """(normalised, display form) of one typed word; cached, as every change of the
    room reads all texts again and most of them are the same few words."""
    shown = display_form(typed)
    # Case folding can undo NFC (and turns ß into ss): normalise once more after it.
    return unicodedata.normalize("NFC", shown.casefold()), shown


def normalise(typed: str) -> str:
    """The form a word is counted under: NFC, case folded, trimmed as `display_form`."""
    return _forms(typed)[0]


def tone_of(key: str) -> int:
    """A colour for the word that stays the same as the cloud grows (from its key)."""
    return zlib.crc32(key.encode("utf-8")) % TONES


def level_of(count: int, most: int) -> int:
    """The font step of a word (1 to LEVELS): by the square root of its share of the
    top count, so that a word with a quarter of the top one's votes is half way up."""
    if most <= 0:
        return 1
    return 1 + int((LEVELS - 1) * (count / most) ** 0.5 + 0.5)


@dataclass(frozen=True)
class Word:
    """One counted word: its key, how it is shown, how often, and how it was spelled."""

    key: str
    text: str
    count: int
    hidden: bool
    #: Every spelling (display form) with its count, most common first.
    spellings: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class WordCloud(Question):
    type_name: ClassVar[str] = "wordcloud"
    keys: ClassVar[frozenset[str]] = Question.common_keys | {"max_words", "max_length"}
    label: ClassVar[str] = N_("Word cloud")

    max_words: int = DEFAULT_WORDS
    max_length: int = DEFAULT_LENGTH

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        max_words = spec.integer("max_words", default=DEFAULT_WORDS, minimum=1, maximum=MAX_WORDS)
        max_length = spec.integer(
            "max_length", default=DEFAULT_LENGTH, minimum=1, maximum=MAX_LENGTH
        )
        if prompt is None or max_words is None or max_length is None:
            return None
        return cls(
            id=item_id,
            title=prompt,
            results=results,
            allow_change=allow_change,
            max_words=max_words,
            max_length=max_length,
        )

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec() | {"max_words": self.max_words, "max_length": self.max_length}

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {
            "max_words": self.max_words,
            "max_length": self.max_length,
        }

    # Answers ------------------------------------------------------------------------

    def validate(self, raw: object) -> Answer:
        given = expect_mapping(raw).get(FIELD)
        if (
            not isinstance(given, list)
            or len(given) > MAX_FIELDS
            or not all(isinstance(word, str) for word in given)
        ):
            raise AnswerRefused("This answer is not in a form poll understands.")
        keys: list[str] = []
        typed: list[str] = []
        for number, word in enumerate(given, 1):
            text = clean_text(word)
            if not text:
                continue  # an input left empty
            if len(text) > self.max_length:
                raise AnswerRefused(
                    "Word {number} is {length} characters long; at most {limit} fit.",
                    number=number,
                    length=len(text),
                    limit=self.max_length,
                )
            key = normalise(text)
            if not key:
                raise AnswerRefused(
                    "Word {number} is only punctuation; write a word there or leave it empty.",
                    number=number,
                )
            if key in keys:
                continue  # "Cat" and "cat" from one person count once
            keys.append(key)
            typed.append(text)
        if not keys:
            raise AnswerRefused("Write at least one word first.")
        if len(keys) > self.max_words:
            raise AnswerRefused(
                "You wrote {count} words; at most {limit} fit.",
                count=len(keys),
                limit=self.max_words,
            )
        return Answer(keys=tuple(keys), text="\n".join(typed))

    def answer_from_form(self, fields: FormFields) -> object:
        # One text input per word, all named `words`: the same list the page script sends.
        return {FIELD: [str(value) for value in fields.get(FIELD) or ()]}

    def mark_allowed(self, key: str, value: str | None) -> bool:
        """Only hiding a word: `hide:<normalised word>`, set to "1" or cleared."""
        if value not in (None, "1") or not key.startswith(HIDE):
            return False
        word = key.removeprefix(HIDE)
        # Case folding may lengthen a word (ß → ss): allow twice the typed limit.
        return bool(word) and len(word) <= 2 * MAX_LENGTH and normalise(word) == word

    # Results ------------------------------------------------------------------------

    def words(self, aggregate: Aggregate) -> list[Word]:
        """Every counted word, most frequent first (ties: the one written first first).

        A room's snapshot asks once per audience for the same aggregate: the last
        one's words are kept, by identity (2,000 answers take some 6 ms to count)."""
        cached = _last_words.get(self.id)
        if cached is not None and cached[0] is aggregate:
            return cached[1]
        found = self._count(aggregate)
        _last_words[self.id] = (aggregate, found)
        return found

    def _count(self, aggregate: Aggregate) -> list[Word]:
        # Each typed line once with its count (in the order first written), then
        # each line's forms: the same few words are typed over and over.
        typed = Counter("\n".join(entry.text for entry in aggregate.texts).split("\n"))
        spellings: dict[str, Counter[str]] = {}
        for line, n in typed.items():
            key, shown = _forms(line)
            if key:
                spellings.setdefault(key, Counter())[shown] += n
        hidden = hidden_words(aggregate.marks)
        first = {key: n for n, key in enumerate(spellings)}
        found: list[Word] = []
        for key, count in aggregate.counts.items():
            if count <= 0:
                continue
            # most_common keeps the first seen of equal counts first.
            seen = tuple(spellings[key].most_common()) if key in spellings else ()
            found.append(
                Word(
                    key=key,
                    text=seen[0][0] if seen else key,
                    count=count,
                    hidden=key in hidden,
                    spellings=seen,
                )
            )
        found.sort(key=lambda w: (-w.count, first.get(w.key, len(first)), w.key))
        return found

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        # Phones and the projector: the visible words only, as counted words (the
        # most common spelling), never anybody's answer as sent. The console: every
        # word, hidden ones marked, and how each was spelled.
        words = self.words(aggregate)
        total = aggregate.respondents
        results: dict[str, Any] = {"kind": "wordcloud", "respondents": total}
        if audience == "console":
            listed = words[:CONSOLE_WORDS]
            listed += [w for w in words[CONSOLE_WORDS:] if w.hidden]
            most = max((w.count for w in listed if not w.hidden), default=0)
            return results | {
                "distinct": len(words),
                "more": len(words) - len(listed),
                "words": [
                    {
                        "key": w.key,
                        # A name for the word's button that survives a redraw (the
                        # console keeps the focus by it) whatever the word holds.
                        "id": "word-" + hashlib.sha256(w.key.encode("utf-8")).hexdigest()[:12],
                        "text": w.text,
                        "count": w.count,
                        "percent": percentage(w.count, total),
                        "level": level_of(w.count, most),
                        "tone": tone_of(w.key),
                        "hidden": w.hidden,
                        "spellings": [{"text": t, "count": n} for t, n in w.spellings],
                    }
                    for w in listed
                ],
            }
        visible = [w for w in words if not w.hidden]
        limit = PHONE_WORDS if audience == "participant" else CLOUD_WORDS
        listed = visible[:limit]
        most = listed[0].count if listed else 0
        shown: tuple[str, ...] = ("text", "count", "percent", "level", "tone")
        if audience == "projector":
            shown = ("key", *shown)  # the cloud keeps each word's place by its key
        rows = [
            {
                "key": w.key,
                "text": w.text,
                "count": w.count,
                "percent": percentage(w.count, total),
                "level": level_of(w.count, most),
                "tone": tone_of(w.key),
            }
            for w in listed
        ]
        return results | {
            "more": len(visible) - len(listed),
            "words": [{k: row[k] for k in shown} for row in rows],
        }

    def report(self, given: ReportInput) -> dict[str, Any]:
        # The cloud the projector showed (its visible words, most frequent first), laid
        # out on the server; hidden words only in the facilitator's own copy.
        aggregate = given.aggregate
        total = aggregate.respondents
        words = [w for w in self.words(aggregate) if given.include_hidden or not w.hidden]
        listed = words[:CLOUD_WORDS]
        most = listed[0].count if listed else 0
        rows = [
            {
                "text": w.text,
                "count": w.count,
                "percent": percentage(w.count, total),
                "level": level_of(w.count, most),
                "tone": tone_of(w.key),
                "hidden": w.hidden,
            }
            for w in listed
        ]
        return {
            "respondents": total,
            "distinct": len(words),
            "more": len(words) - len(listed),
            "words": rows,
            "chart": cloud(rows),
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        # Every word, hidden ones too: the export is the facilitator's own record.
        total = aggregate.respondents
        return [(w.text, w.count, percentage(w.count, total)) for w in self.words(aggregate)]

    def csv_values(self, answer: Answer) -> list[str]:
        # The words as typed, one cell each (the export neutralises formulas).
        typed = [line for line in (answer.text or "").split("\n") if line]
        return typed or list(answer.keys)


#: Per question id, the last aggregate counted and its words (see `WordCloud.words`).
_last_words: dict[str, tuple[Aggregate, list[Word]]] = {}


def hidden_words(marks: Mapping[str, str]) -> set[str]:
    """The normalised words the facilitator has hidden, from the question's marks."""
    return {
        key.removeprefix(HIDE) for key, value in marks.items() if key.startswith(HIDE) and value
    }
