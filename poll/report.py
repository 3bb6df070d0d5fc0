"""A run's results report: what the report page shows, read through the run's `Room`.

The page itself (one self-contained HTML file: inline CSS and SVG, no script)
is rendered by `poll.web.report`, for the console, the link shared with
participants and `poll report` alike. This module gathers what it shows: the
session's title and language, when the run started and how long it took, how
many took part, and each item's part as its type gives it (`Item.report`),
from the same counters the projector and the summary CSV read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from poll.answers import Aggregate
from poll.questions.base import ReportInput
from poll.rooms import Room, display_code


@dataclass(frozen=True)
class ReportPart:
    """One item of the session in the report: its view, its part, its heading level."""

    item: dict[str, Any]
    results: dict[str, Any] | None
    #: How many answered (questions), None for content.
    respondents: int | None
    #: The level of the item's heading: 2 before the first slide, 3 under a slide.
    level: int
    #: Whether the item is a slide-like heading of the questions that follow it.
    heading: bool


@dataclass(frozen=True)
class Report:
    """Everything the report page shows of one run."""

    title: str
    language: str
    session_id: str
    code: str
    started: datetime
    ended: datetime | None
    participants: int
    answers: int
    parts: tuple[ReportPart, ...]
    include_hidden: bool

    @property
    def minutes(self) -> int | None:
        """The run's length in whole minutes (at least 1), or None while it runs."""
        if self.ended is None:
            return None
        return max(1, round((self.ended - self.started).total_seconds() / 60))


async def build_report(room: Room, *, include_hidden: bool = False) -> Report:
    """The report of `room` as it is stored now (a run still going is reported so far).

    `include_hidden`: the facilitator's own copy, with the texts she hid (marked);
    never for the link shared with participants.
    """
    await room.refresh()
    aggregates = await room.aggregates()
    participants: set[str] = set()
    answers = 0
    async for response in room.responses():
        participants.add(response.participant)
        answers += 1
    scored = any(q.scored for q in room.session.questions.values())
    standings: list[dict[str, Any]] = []
    if scored:
        # The leaderboard the projector lists: place, nickname, score. Nothing else
        # of a player (no participant id) reaches the report.
        board = await room.standings()
        standings = [{"place": e.place, "name": e.name, "score": e.score} for e in board.entries]
    parts: list[ReportPart] = []
    under_heading = False
    for item in room.session.items:
        aggregate = aggregates.get(item.id, Aggregate())
        given = ReportInput(aggregate=aggregate, include_hidden=include_hidden, standings=standings)
        results = item.report(given)
        heading = not item.is_question and results is None
        if heading:
            under_heading = True
        parts.append(
            ReportPart(
                item=item.client_view(),
                results=results,
                respondents=aggregate.respondents if item.is_question else None,
                level=2 if heading or not under_heading else 3,
                heading=heading,
            )
        )
    state = room.state
    return Report(
        title=room.session.title,
        language=room.session.language,
        session_id=room.session.id,
        code=display_code(state.code),
        started=state.created_at.astimezone(UTC),
        ended=state.ended_at.astimezone(UTC) if state.ended_at else None,
        participants=len(participants),
        answers=answers,
        parts=tuple(parts),
        include_hidden=include_hidden,
    )


def filename(room: Room) -> str:
    """The report's file name, like the CSV files': session, code, day."""
    day = room.state.created_at.astimezone(UTC).strftime("%Y-%m-%d")
    return f"poll-{room.session.id}-{room.state.code}-{day}-report.html"
