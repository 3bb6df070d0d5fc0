"""Runs of one session compared: their sizes, and per question the results side by side.

Each run keeps its own copy of the script, so questions are matched by `id`:
editing a prompt between runs keeps a question comparable. What may differ
without making a comparison wrong is the question type's call
(`Question.comparison_basis`): a question whose options changed between the
runs is listed with a note instead of numbers that do not mean the same thing.
How the results of the runs are put side by side is the type's too
(`Question.compare`, drawn by the `compare` macro of its template).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from poll.answers import Aggregate
from poll.questions import Question
from poll.rooms import Room

#: compared: the numbers are side by side; changed: the question's options (or what
#: else its type compares on) differ between the runs; alone: only one run asked it.
Status = Literal["compared", "changed", "alone"]


@dataclass(frozen=True)
class RunFacts:
    """A run as the list of a session's runs shows it."""

    id: str
    code: str
    started: datetime
    ended: datetime | None
    participants: int
    answers: int


@dataclass(frozen=True)
class QuestionComparison:
    id: str
    prompt: str
    type_name: str
    status: Status
    #: The positions (in `Comparison.runs`) of the runs that asked the question.
    asked_in: tuple[int, ...]
    #: The type's side-by-side data for the runs in `asked_in` (None unless compared).
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Comparison:
    runs: list[RunFacts]
    questions: list[QuestionComparison] = field(default_factory=list)


async def run_facts(room: Room) -> RunFacts:
    """How many people answered anything in the run, and how many answers it has."""
    participants: set[str] = set()
    answers = 0
    async for response in room.responses():
        participants.add(response.participant)
        answers += 1
    return RunFacts(
        id=room.id,
        code=room.state.code,
        started=room.state.created_at,
        ended=room.state.ended_at,
        participants=len(participants),
        answers=answers,
    )


def _order(rooms: Sequence[Room]) -> list[Room]:
    return sorted(rooms, key=lambda room: room.state.created_at)


async def compare_runs(rooms: Sequence[Room]) -> Comparison:
    """The runs oldest first, and each question any of them asked, in the order of
    the newest run's script (then those only older runs asked)."""
    ordered = _order(rooms)
    facts = [await run_facts(room) for room in ordered]
    aggregates: list[dict[str, Aggregate]] = [dict(await room.aggregates()) for room in ordered]
    ids: list[str] = []
    for room in reversed(ordered):
        ids.extend(q for q in room.session.questions if q not in ids)
    questions = []
    for question_id in ids:
        copies: list[tuple[int, Question]] = [
            (index, room.session.questions[question_id])
            for index, room in enumerate(ordered)
            if question_id in room.session.questions
        ]
        latest = copies[-1][1]
        asked_in = tuple(index for index, _question in copies)
        if len(copies) < 2:
            status: Status = "alone"
            data = None
        elif any(
            q.type_name != latest.type_name or q.comparison_basis() != latest.comparison_basis()
            for _index, q in copies
        ):
            status, data = "changed", None
        else:
            status = "compared"
            # The newest copy draws the labels: the runs agree on what they mean.
            data = latest.compare(
                [aggregates[index].get(question_id, Aggregate()) for index in asked_in]
            )
        questions.append(
            QuestionComparison(
                id=question_id,
                prompt=latest.prompt,
                type_name=latest.type_name,
                status=status,
                asked_in=asked_in,
                data=data,
            )
        )
    return Comparison(runs=facts, questions=questions)
