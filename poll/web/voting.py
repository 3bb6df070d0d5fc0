"""One participant vote, answered as the protocol's `ack` or `refused` message.

Shared by the websocket and by the HTTP fallback that a phone with JavaScript
uses while its websocket cannot connect (a proxy that blocks websockets, a
reconnect in progress), so both paths say exactly the same thing.
"""

from __future__ import annotations

from typing import Any

from poll import protocol
from poll.rooms import Room, RoomData, RoomError, StoreError, StoreUnavailable
from poll.web.i18n import translate
from poll.web.state import PollState


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
        state.hub.meter.refused(error.reason)
        return protocol.refused(
            error.reason,
            translate(lang, error.message, error.params),
            retry=error.retry,
            submission_id=submission_id,
            question_id=question_id,
        )
    if receipt.mine is not None:
        # A store read per vote would double the store's work in a burst.
        mine = list(receipt.mine)
    else:
        answers = await room.answers_of(participant)
        mine = answers.get(receipt.question_id, [])
    state.hub.poke(room.id)
    state.hub.meter.vote_saved()
    mine_json = room.mine_json(receipt.question_id, mine)
    stage = await stage_for(state, room, receipt.question_id, mine_json, participant)
    return protocol.ack(
        submission_id, receipt.question_id, receipt.status, receipt.version, mine_json, **stage
    )


async def stage_for(
    state: PollState,
    room: Room,
    question_id: str,
    answers: list[dict[str, Any]],
    participant: str,
) -> dict[str, Any]:
    """The phone's stage drawn for its answers, while the question is on screen.

    Drawn for the screen the phones were last sent (the hub's newest participant
    view), so that it matches the snapshot the phone shows; without one, from
    the room's state as last read. No store call for the answers; on a personal
    screen, what it shows of her comes from what this process knows of her.
    When the question is no longer on screen the phone gets its stage with the
    next snapshot instead.
    """
    channel = state.hub.channels.get(room.id)
    view = channel.phone_view if channel is not None else None
    data = channel.data if channel is not None else None
    if view is None or data is None or view["item"]["id"] != question_id:
        if room.state.current_question != question_id:
            return {}
        data = RoomData(room.state, {}, 0, 0)
        view = room.view(data, "participant")
    me = await room.me(data, participant) if view.get("personal") else None
    return {"stage": protocol.stage_key(view), "html": state.screens.stage(view, answers, me)}
