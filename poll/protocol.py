"""The live protocol's vocabulary: message types, builders, reasons, close codes.

Every message poll sends to a phone, the projector or the console is built
here, and every machine-readable reason and close code is named here, so
that the server's code and docs/protocol.md can be checked against one list.
The page scripts read the same names from static/protocol.js, a mirror that
tests/test_protocol.py holds equal to this module.

A leaf module: it imports nothing of poll, so any layer may use it.

Builders return plain dicts (the HTTP fallback answers with them as JSON);
`encode` turns one into the text of a websocket frame. Their keys come in the
order docs/protocol.md shows them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

Message = dict[str, Any]

# --- Message types ------------------------------------------------------------

# Server → client.
#: The room as this audience may see it.
SNAPSHOT: Final = "snapshot"
#: A participant's own stored answers to one question.
MINE: Final = "mine"
#: A vote was stored.
ACK: Final = "ack"
#: A vote was not stored (with a reason, and whether to retry).
REFUSED: Final = "refused"
#: An action failed, or a message could not be read.
ERROR: Final = "error"
#: An action was carried out.
DONE: Final = "done"
# Both ways.
#: Keep-alive; answered with `pong` carrying the same `t`.
PING: Final = "ping"
#: The answer to `ping`.
PONG: Final = "pong"
# Client → server.
#: A participant's answer.
VOTE: Final = "vote"
#: A facilitator's action (console, projector).
ACTION: Final = "action"
#: Asks for the current snapshot (and `mine`) again.
SYNC: Final = "sync"

#: Every message type, either way.
MESSAGE_TYPES: Final = (SNAPSHOT, MINE, ACK, REFUSED, ERROR, DONE, PING, PONG, VOTE, ACTION, SYNC)

# --- Reasons --------------------------------------------------------------------
# The `reason` of a `refused` or `error`: stable strings a client may branch on
# (the `message` beside it is for people and is translated).

# A vote refused by the room (the `reason` of poll.rooms' RoomError subclasses).
#: No running room with this code or id.
UNKNOWN_ROOM: Final = "unknown_room"
#: Starting a run of a session the script does not have (console only).
UNKNOWN_SESSION: Final = "unknown_session"
#: The run is over.
ROOM_ENDED: Final = "room_ended"
#: The question is not on screen now.
NOT_CURRENT: Final = "not_current"
#: The question is closed for voting.
VOTING_CLOSED: Final = "voting_closed"
#: The question has not been opened yet.
NOT_YET_OPEN: Final = "not_yet_open"
#: The question's countdown has run out (the vote came after its deadline).
TOO_LATE: Final = "too_late"
#: Answered already, and the question does not allow changes.
CHANGE_NOT_ALLOWED: Final = "change_not_allowed"
#: An open question's `max_answers` reached.
TOO_MANY_ANSWERS: Final = "too_many_answers"
#: The answer does not fit the question.
INVALID_ANSWER: Final = "invalid_answer"
#: Another participant of the room plays under this nickname already.
NICKNAME_TAKEN: Final = "nickname_taken"
#: The store failed; send the same vote again later (`retry: true`).
STORE_UNAVAILABLE: Final = "store_unavailable"
# Refused by the connection or the HTTP fallback, before the room is asked.
#: Over the connection's message rate; a vote gets `retry: true`.
RATE_LIMITED: Final = "rate_limited"
#: This address tried too many wrong join codes; wait a minute.
TOO_MANY_ATTEMPTS: Final = "too_many_attempts"
#: HTTP fallback: no participant cookie, or a missing or wrong form token.
NOT_SENT: Final = "not_sent"
# Errors about a message itself.
#: Not JSON, not a JSON object, or a binary frame.
BAD_MESSAGE: Final = "bad_message"
#: A message type this endpoint does not take.
UNKNOWN_TYPE: Final = "unknown_type"
#: Larger than the connection's limit.
TOO_LARGE: Final = "too_large"
# Errors answering an `action`.
#: An action name poll does not know.
UNKNOWN_ACTION: Final = "unknown_action"
#: An action missing what it needs (an index, a question, a text's ref).
ACTION_ERROR: Final = "action_error"

#: Every reason.
REASONS: Final = (
    UNKNOWN_ROOM,
    UNKNOWN_SESSION,
    ROOM_ENDED,
    NOT_CURRENT,
    VOTING_CLOSED,
    NOT_YET_OPEN,
    TOO_LATE,
    CHANGE_NOT_ALLOWED,
    TOO_MANY_ANSWERS,
    INVALID_ANSWER,
    NICKNAME_TAKEN,
    STORE_UNAVAILABLE,
    RATE_LIMITED,
    TOO_MANY_ATTEMPTS,
    NOT_SENT,
    BAD_MESSAGE,
    UNKNOWN_TYPE,
    TOO_LARGE,
    UNKNOWN_ACTION,
    ACTION_ERROR,
)

# --- Close codes ------------------------------------------------------------------
# 1000-2999 are the websocket standard's (RFC 6455, 7.4.1); 4000-4999 are ours.
# A client reconnects after any code except the final ones.

#: No message from the client for IDLE_TIMEOUT (60 s): the peer is gone.
CLOSE_GOING_AWAY: Final = 1001
#: The client kept sending after `rate_limited` refusals.
CLOSE_POLICY: Final = 1008
#: The store failed; reconnect with backoff.
CLOSE_STORE_FAILED: Final = 1011
#: Sent by uvicorn (not poll) when the server shuts down; reconnect with backoff.
CLOSE_SERVICE_RESTART: Final = 1012
#: The socket stopped reading: a send hung, or too many messages waited.
CLOSE_TOO_SLOW: Final = 1013
#: No participant cookie: load /r/CODE first. Final.
CLOSE_NO_PARTICIPANT: Final = 4401
#: Not the facilitator, or a foreign Origin (refused before accepting: HTTP 403). Final.
CLOSE_FORBIDDEN: Final = 4403
#: No running room with this code or id. Final.
CLOSE_UNKNOWN_ROOM: Final = 4404
#: This client (address and cookie) tried too many wrong join codes; reconnect after a minute.
CLOSE_TOO_MANY_ATTEMPTS: Final = 4429

#: Every close code, by name.
CLOSE_CODES: Final = {
    "CLOSE_GOING_AWAY": CLOSE_GOING_AWAY,
    "CLOSE_POLICY": CLOSE_POLICY,
    "CLOSE_STORE_FAILED": CLOSE_STORE_FAILED,
    "CLOSE_SERVICE_RESTART": CLOSE_SERVICE_RESTART,
    "CLOSE_TOO_SLOW": CLOSE_TOO_SLOW,
    "CLOSE_NO_PARTICIPANT": CLOSE_NO_PARTICIPANT,
    "CLOSE_FORBIDDEN": CLOSE_FORBIDDEN,
    "CLOSE_UNKNOWN_ROOM": CLOSE_UNKNOWN_ROOM,
    "CLOSE_TOO_MANY_ATTEMPTS": CLOSE_TOO_MANY_ATTEMPTS,
}
#: Close codes after which reconnecting cannot help.
FINAL_CLOSE_CODES: Final = frozenset({CLOSE_NO_PARTICIPANT, CLOSE_FORBIDDEN, CLOSE_UNKNOWN_ROOM})


# --- Builders ----------------------------------------------------------------------


def encode(message: Mapping[str, Any]) -> str:
    """The text of one websocket frame: compact JSON, non-ASCII left as is."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def snapshot(view: Mapping[str, Any], **screen: Any) -> Message:
    """The room as one audience sees it (`view` from `Room.view` or `Room.snapshot`);
    `screen`: the screen rendered for it (phones: `stage`, `html`, `results_html`;
    projector: `html`)."""
    return {"type": SNAPSHOT, **view, **screen}


def mine(question_id: str, answers: list[dict[str, Any]], version: int, **stage: Any) -> Message:
    """A participant's stored answers (`Answer.to_json()` each) to one question;
    `stage`: her stage drawn for them, and the screen it was drawn for (`stage`, `html`)."""
    return {
        "type": MINE,
        "version": version,
        "question_id": question_id,
        "answers": answers,
        **stage,
    }


def stage_key(view: Mapping[str, Any]) -> str:
    """The `stage` field: what a phone's stage depends on besides her own answers
    (the item itself never changes within a room, which keeps its own script),
    and, on a personal screen, what it shows of her and the standings it was
    drawn from (the view's `personal`)."""
    # An ended room's stage also shows its results link when the facilitator shows it.
    room = view["room"]
    ended = (2 if room.get("results_link") else 1) if room["ended"] else 0
    key = f"{view['item']['id']}|{view['status']}|{ended}"
    personal = view.get("personal")
    return f"{key}|{personal}" if personal else key


def ack(
    submission_id: str,
    question_id: str,
    status: str,
    version: int,
    answers: list[dict[str, Any]],
    **stage: Any,
) -> Message:
    """A stored vote: `status` is "saved", or "duplicate" (stored by an earlier try);
    `answers` are her answers to the question after it (sent as `mine`); `stage`:
    her stage drawn for them, as in `mine`."""
    return {
        "type": ACK,
        "submission_id": submission_id,
        "question_id": question_id,
        "status": status,
        "version": version,
        "mine": answers,
        **stage,
    }


def refused(
    reason: str,
    message: str,
    *,
    retry: bool,
    submission_id: str | None = None,
    question_id: str | None = None,
) -> Message:
    """A vote not stored. The ids are left out only when the vote could not be read
    (the HTTP fallback's refusals before the form is parsed)."""
    body: Message = {"type": REFUSED}
    if submission_id is not None:
        body["submission_id"] = submission_id
    if question_id is not None:
        body["question_id"] = question_id
    body.update(reason=reason, retry=retry, message=message)
    return body


def error(reason: str, message: str) -> Message:
    """A refusal that answers no `action`: a message poll could not read, or a
    connection refused before it starts (with a close code after it)."""
    return {"type": ERROR, "reason": reason, "message": message}


def action_error(request_id: object, reason: str, message: str) -> Message:
    """An `action` that failed. `request_id` is echoed as the client sent it (null if none)."""
    return {"type": ERROR, "request_id": request_id, "reason": reason, "message": message}


def done(request_id: object, version: int) -> Message:
    """An `action` carried out; `version` is the room's after it."""
    return {"type": DONE, "request_id": request_id, "version": version}


def ping(t: int) -> Message:
    """The server's keep-alive; `t` is milliseconds since the epoch."""
    return {"type": PING, "t": t}


def pong(t: object) -> Message:
    """The answer to a client's `ping`, echoing its `t`."""
    return {"type": PONG, "t": t}
