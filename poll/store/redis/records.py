"""Redis replies read back as the contract's values, and votes written as the scripts read them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from poll.answers import Answer
from poll.store.base import QuestionStatus, Response, RoomState, Vote
from poll.store.timestamps import from_ms


def vote_json(vote: Vote, answered_at: int) -> bytes:
    """The vote script's one argument, also stored as the response (see lua/vote.lua)."""
    return json.dumps(
        {
            "q": vote.question_id,
            "p": vote.participant,
            "k": vote.answer.keys,
            "t": vote.answer.text,
            "at": answered_at,
            "s": vote.submission_id,
            "m": vote.mode,
            "n": vote.max_entries,
            "a": int(vote.allow_change),
        },
        separators=(",", ":"),
    ).encode()


def room_state(
    meta: Mapping[str, str],
    statuses: Mapping[str, str],
    shown: set[str],
    unshown: set[str],
    opened: Mapping[str, str],
    deadlines: Mapping[str, str],
) -> RoomState:
    """A room from its hash, its question statuses, its shown and hidden sets and its
    question times."""
    order: list[str] = json.loads(meta.get("qorder", "[]"))
    questions: dict[str, QuestionStatus] = {}
    for qid in order:
        status = statuses.get(qid, "pending")
        questions[qid] = (
            "open" if status == "open" else "closed" if status == "closed" else "pending"
        )
    ended_at = meta.get("ended_at")
    join_screen = meta.get("join_screen")
    return RoomState(
        id=meta["id"],
        code=meta["code"],
        session_id=meta["session_id"],
        created_at=from_ms(meta["created_at"]),
        ended_at=None if ended_at is None else from_ms(ended_at),
        current=int(meta.get("current", 0)),
        current_question=meta.get("current_question"),
        questions=questions,
        shown=frozenset(shown),
        version=int(meta["version"]),
        opened_at={qid: from_ms(ms) for qid, ms in opened.items() if qid in questions},
        deadlines={qid: from_ms(ms) for qid, ms in deadlines.items() if qid in questions},
        results_hidden=frozenset(unshown - shown),
        join_screen=None if join_screen is None else join_screen == "1",
    )


def response(room_id: str, ref: str, record: Mapping[str, Any], hidden: bool) -> Response:
    """One stored response from its JSON record."""
    return Response(
        room_id=room_id,
        question_id=record["q"],
        participant=record["p"],
        ref=ref,
        answer=Answer(tuple(record["k"]), record["t"], ref=ref),
        answered_at=from_ms(record["at"]),
        hidden=hidden,
    )


def pairs(flat: Sequence[str]) -> Iterator[tuple[str, str]]:
    """HGETALL's flat reply from inside a script, as (field, value) pairs."""
    return zip(flat[::2], flat[1::2], strict=True)
