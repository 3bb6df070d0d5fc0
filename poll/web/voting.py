"""One participant vote, answered as the protocol's `ack` or `refused` message.

Shared by the websocket and by the HTTP fallback that a phone with JavaScript
uses while its websocket cannot connect (a proxy that blocks websockets, a
reconnect in progress), so both paths say exactly the same thing.
"""

from __future__ import annotations

from typing import Any

from poll.rooms import Room, RoomError, StoreError, StoreUnavailable
from poll.web.i18n import translate
from poll.web.state import PollState


def reason_of(error: RoomError) -> str:
    """`VotingClosed` → `voting_closed`: the protocol's machine-readable reason."""
    name = type(error).__name__
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


async def vote_reply(
    state: PollState,
    room: Room,
    participant: str,
    question_id: str,
    submission_id: str,
    answer: object,
    lang: str,
) -> dict[str, Any]:
    """Store the vote and return the `ack`, or the `refused` message in `lang`."""
    try:
        receipt = await room.vote(participant, question_id, submission_id, answer)
    except (RoomError, StoreError) as exc:
        error = exc if isinstance(exc, RoomError) else StoreUnavailable()
        return {
            "type": "refused",
            "submission_id": submission_id,
            "question_id": question_id,
            "reason": reason_of(error),
            "retry": error.retry,
            "message": translate(lang, error.message, error.params),
        }
    if receipt.mine is not None:
        # A store read per vote would double the store's work in a burst.
        mine = list(receipt.mine)
    else:
        answers = await room.answers_of(participant)
        mine = answers.get(receipt.question_id, [])
    state.hub.poke(room.id)
    return {
        "type": "ack",
        "submission_id": submission_id,
        "question_id": receipt.question_id,
        "status": receipt.status,
        "version": receipt.version,
        "mine": [a.to_json() for a in mine],
    }
