"""The leaderboard of a room: every player's score, computed from the stored answers.

Scores are never kept as counters: `compute_standings` recounts them from the
responses each time (every answer to a question that scores, timed from when
that question was last opened), so they always equal a recount of the CSV.
`poll.rooms` caches the result per room version, so that the thousands of
phones of one room share one computation per change.

Who is on it: every participant with a nickname (she got one at her first
scored question), with 0 points until she scores.

Places and ties: a higher score is a better place. The same score is the same
place (two players on 2450 points are both 2nd, and the next is 4th); within
one place, the player whose right answers took less time in total comes first,
then nicknames in alphabetical order (casefolded). The listing order is
therefore complete and stable, while the place number stays fair.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any, Protocol

from poll.answers import Answer
from poll.questions import Question

#: Players on the projector's list.
TOP = 10
#: Players on the podium of a session's last leaderboard.
PODIUM = 3


class ScoredResponse(Protocol):
    """What a stored response needs to count (the store's `Response` has it)."""

    @property
    def question_id(self) -> str: ...
    @property
    def participant(self) -> str: ...
    @property
    def answer(self) -> Answer: ...
    @property
    def answered_at(self) -> datetime: ...


@dataclass(frozen=True)
class Result:
    """One scored answer: right or not, seconds taken, points earned."""

    correct: bool
    seconds: float
    points: int


@dataclass(frozen=True)
class Standing:
    """One player's line on the leaderboard."""

    participant: str
    name: str
    place: int
    score: int
    #: Seconds her right answers took, added up (the first tie-break).
    seconds: float
    #: Her answers to scored questions, by question id.
    results: Mapping[str, Result] = field(default_factory=dict)

    @property
    def correct(self) -> int:
        return sum(1 for result in self.results.values() if result.correct)

    @property
    def answered(self) -> int:
        return len(self.results)


@dataclass(frozen=True)
class Standings:
    """Every player, best first (see the module's docstring for the order)."""

    entries: tuple[Standing, ...] = ()

    @cached_property
    def by_participant(self) -> Mapping[str, Standing]:
        return {entry.participant: entry for entry in self.entries}

    @cached_property
    def digest(self) -> str:
        """Short and stable: changes whenever any player's line changes (a phone's
        screen of her standing is drawn again then, and only then)."""
        lines = "\n".join(
            f"{e.participant}\t{e.name}\t{e.place}\t{e.score}\t"
            + ",".join(f"{q}:{r.points}" for q, r in sorted(e.results.items()))
            for e in self.entries
        )
        return hashlib.sha256(lines.encode()).hexdigest()[:12]

    def top(self, count: int = TOP) -> list[dict[str, Any]]:
        """The first `count` players as the projector lists them."""
        return [{"place": e.place, "name": e.name, "score": e.score} for e in self.entries[:count]]


def seconds_between(opened: datetime, answered: datetime) -> float:
    """The seconds an answer took, to the millisecond (half up), never below 0: the
    time every count of points uses, and the answers CSV shows."""
    microseconds = (answered - opened) // timedelta(microseconds=1)
    return max((microseconds + 500) // 1000, 0) / 1000


def compute_standings(
    questions: Mapping[str, Question],
    responses: Iterable[ScoredResponse],
    opened_at: Mapping[str, datetime],
    names: Mapping[str, str],
) -> Standings:
    """The standings from the room's stored responses, in one pass.

    `questions` are the session's questions by id (those that do not score are
    skipped), `opened_at` when each was last opened, `names` every player's
    nickname. A participant's first answer to a question is the one that counts.
    """
    results: dict[str, dict[str, Result]] = {}
    for response in responses:
        question = questions.get(response.question_id)
        opened = opened_at.get(response.question_id)
        if question is None or not question.scored or opened is None:
            continue
        mine = results.setdefault(response.participant, {})
        if response.question_id in mine:
            continue
        seconds = seconds_between(opened, response.answered_at)
        earned = question.score(response.answer, seconds)
        if earned is not None:
            mine[response.question_id] = Result(earned.correct, seconds, earned.points)
    players = set(names) | set(results)
    rows = []
    for participant in players:
        mine = results.get(participant, {})
        score = sum(r.points for r in mine.values())
        seconds = round(sum(r.seconds for r in mine.values() if r.correct), 3)
        name = names.get(participant, "")
        rows.append((participant, name, score, seconds, mine))
    rows.sort(key=lambda row: (-row[2], row[3], row[1].casefold(), row[1], row[0]))
    entries: list[Standing] = []
    for position, (participant, name, score, seconds, mine) in enumerate(rows, 1):
        tied = entries and entries[-1].score == score
        place = entries[-1].place if tied else position
        entries.append(Standing(participant, name, place, score, seconds, mine))
    return Standings(tuple(entries))
