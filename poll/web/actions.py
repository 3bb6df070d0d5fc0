"""The facilitator's actions on a room, shared by console forms and the websockets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from poll import protocol
from poll.rooms import Room, RoomError
from poll.web.i18n import N_

ACTIONS = (
    "next",
    "previous",
    "go",
    "open",
    "close",
    "show",
    "hide",
    "join",
    "reset",
    "moderate",
    "mark",
    "end",
)


class ActionError(RoomError):
    """A console request that cannot be carried out (not a participant's refusal)."""

    reason = protocol.ACTION_ERROR


def _question(fields: Mapping[str, Any]) -> str | None:
    value = fields.get("question_id")
    return str(value) if value else None


async def perform(room: Room, action: str, fields: Mapping[str, Any]) -> None:
    """Carry out one action; RoomError (translated by the caller) when it cannot be done."""
    if action == "next":
        await room.next()
    elif action == "previous":
        await room.previous()
    elif action == "go":
        try:
            index = int(fields.get("index", ""))
        except (TypeError, ValueError, OverflowError):  # OverflowError: JSON's 1e400
            raise ActionError(N_("Choose an item to go to.")) from None
        await room.go(index)
    elif action == "open":
        await room.open_vote(_question(fields))
    elif action == "close":
        await room.close_vote(_question(fields))
    elif action == "show":
        await room.show_results(_question(fields), True)
    elif action == "hide":
        await room.show_results(_question(fields), False)
    elif action == "join":
        # The projector's join screen on or off (until the next move), whichever
        # browser the projector runs in: the choice is the room's, in its snapshot.
        shown = str(fields.get("shown", "")).lower()
        if shown not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ActionError(N_("Say whether to show the join screen."))
        await room.show_join_screen(shown in ("1", "true", "yes", "on"))
    elif action == "reset":
        question = _question(fields)
        if question is None:
            raise ActionError(N_("Choose a question to reset."))
        await room.reset(question)
    elif action == "moderate":
        question = _question(fields)
        ref = str(fields.get("ref") or "")
        hidden = str(fields.get("hidden", "")).lower() in ("1", "true", "yes", "on")
        if question is None or not ref:
            raise ActionError(N_("Choose an answer to hide or show."))
        if not await room.moderate(question, ref, hidden):
            raise ActionError(N_("That answer no longer exists."))
    elif action == "mark":
        # A type's own console control (hide a word, pin a question): the type
        # says which marks it takes; an empty value clears the mark.
        question = _question(fields)
        key = str(fields.get("key") or "")
        value = str(fields.get("value") or "") or None
        if question is None or not key:
            raise ActionError(N_("Choose what to mark."))
        await room.mark(question, key, value)
    elif action == "end":
        await room.end()
    else:
        raise ActionError(N_("Unknown action {action}."), action=action)
