"""The live websockets: /ws/participant/CODE, /ws/projector/ROOM, /ws/console/ROOM.

Messages are JSON objects with a "type", built by poll.protocol; see
docs/protocol.md. Each socket gets
an `Outbox` in the hub (snapshots, acks), a heartbeat, and a reader loop here
that turns client messages into calls on the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any, NamedTuple

from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from poll import protocol
from poll.cancel import settle
from poll.live import CLOSE_TIMEOUT, Outbox
from poll.rooms import Audience, Room, RoomError, StoreError, UnknownRoom
from poll.web.actions import ACTIONS, perform
from poll.web.auth import EPOCH_SCOPE_KEY
from poll.web.i18n import negotiate, translate
from poll.web.network import origin_allowed
from poll.web.participant import arrive, find_room
from poll.web.state import PollState, poll_state
from poll.web.throttle import TOO_MANY_ATTEMPTS, client_address
from poll.web.voting import vote_reply

#: Largest message a client may send (an open answer is at most 2,000 characters).
MAX_MESSAGE = 16 * 1024
#: Live sockets one participant id may hold in this process (tabs, a reload not yet noticed).
SOCKETS_PER_PARTICIPANT = 8


class Limits(NamedTuple):
    """What one connection may send: message size, and a token bucket of messages."""

    #: Characters in one message.
    max_message: int
    #: Messages a second, sustained.
    rate: float
    #: Messages at once (the bucket's size).
    burst: int
    #: Messages refused for the rate in a row before the socket is closed (1008, CLOSE_POLICY).
    strikes: int


# A phone sends a vote per tap, a pong every 20 s and a sync after a reconnect:
# 4 KiB fits a 2,000-character answer in JSON, and 5 a second with a burst of
# 20 is far beyond any person's tapping but stops a script flooding the store.
# The console and projector send a click or key press at a time.
LIMITS: dict[Audience, Limits] = {
    "participant": Limits(max_message=4 * 1024, rate=5.0, burst=20, strikes=40),
    "projector": Limits(max_message=MAX_MESSAGE, rate=20.0, burst=60, strikes=100),
    "console": Limits(max_message=MAX_MESSAGE, rate=20.0, burst=60, strikes=100),
}


async def _refuse(websocket: WebSocket, code: int) -> None:
    """Refuse the handshake (HTTP 403), before accepting."""
    await websocket.close(code=code)


async def participant_socket(websocket: WebSocket) -> None:
    state = poll_state(websocket)
    if not origin_allowed(websocket, state.settings.public_url):
        await _refuse(websocket, protocol.CLOSE_FORBIDDEN)
        return
    participant = state.auth.participant(websocket)
    if participant is None:
        await _refuse(websocket, protocol.CLOSE_NO_PARTICIPANT)
        return
    sockets = state.participant_sockets
    if sockets[participant] >= SOCKETS_PER_PARTICIPANT:
        # A phone with a few tabs open needs a few; a script reusing one cookie
        # for hundreds of idle sockets would hold the server's descriptors.
        await _refuse(websocket, protocol.CLOSE_POLICY)
        return
    sockets[participant] += 1
    try:
        await _participant_socket(websocket, state, participant)
    finally:
        sockets[participant] -= 1
        if sockets[participant] <= 0:
            del sockets[participant]


async def _participant_socket(websocket: WebSocket, state: PollState, participant: str) -> None:
    address = client_address(websocket)
    if state.lookups.blocked(address, participant):
        # Accepted only to say why: a guesser learns nothing about the code.
        await websocket.accept()
        lang = negotiate(websocket.headers.get("accept-language"))
        message = translate(lang, TOO_MANY_ATTEMPTS)
        await websocket.send_text(
            protocol.encode(protocol.error(protocol.TOO_MANY_ATTEMPTS, message))
        )
        await websocket.close(protocol.CLOSE_TOO_MANY_ATTEMPTS)
        return
    code = str(websocket.path_params["code"])
    # A run that has ended is found too: its phones are shown the end, not an error.
    room = state.hub.room_with_phones(code) or await find_room(state.rooms, code)
    await websocket.accept()
    if room is None:
        state.lookups.failed(address, participant)
        lang = negotiate(websocket.headers.get("accept-language"))
        message = translate(lang, UnknownRoom.message, {"code": code})
        await websocket.send_text(protocol.encode(protocol.error(UnknownRoom.reason, message)))
        await websocket.close(protocol.CLOSE_UNKNOWN_ROOM)
        return
    # Counted among those who joined while the hub sends her first snapshot and reads
    # her answers: on Redis her join and that read then share one round trip. Her
    # own messages are read only once she is counted (`_serve`).
    counting = asyncio.create_task(arrive(state.rooms, room, participant))
    try:
        await _serve(
            websocket,
            state,
            room,
            "participant",
            participant,
            room.session.language,
            counting=counting,
        )
    finally:
        await settle([counting], CLOSE_TIMEOUT, "counting a phone that joined")


async def facilitator_socket(websocket: WebSocket) -> None:
    state = poll_state(websocket)
    audience: Audience = "console" if websocket.url.path.startswith("/ws/console") else "projector"
    if not origin_allowed(websocket, state.settings.public_url):
        await _refuse(websocket, protocol.CLOSE_FORBIDDEN)
        return
    if state.auth.console_nonce(websocket) is None:
        await _refuse(websocket, protocol.CLOSE_FORBIDDEN)
        return
    try:
        room = await state.rooms.get(str(websocket.path_params["room_id"]))
    except UnknownRoom:
        await _refuse(websocket, protocol.CLOSE_UNKNOWN_ROOM)
        return
    await websocket.accept()
    lang = negotiate(websocket.headers.get("accept-language"))
    await _serve(websocket, state, room, audience, None, lang)


async def _serve(
    websocket: WebSocket,
    state: PollState,
    room: Room,
    audience: Audience,
    participant: str | None,
    lang: str,
    *,
    counting: asyncio.Task[None] | None = None,
) -> None:
    async def close(code: int, reason: str) -> None:
        await websocket.close(code, reason)

    # Set by poll.web.app's AbortHandle when the server lets the transport be cut.
    abort = websocket.scope.get("poll.abort")
    outbox = Outbox(
        websocket.send_text, close, audience=audience, participant=participant, abort=abort
    )
    writer = asyncio.create_task(outbox.run(), name=f"poll-ws-{audience}")
    channel = None
    limits = LIMITS[audience]
    bucket = Bucket(limits.rate, limits.burst)
    try:
        channel = await state.hub.join(room, outbox)
        shared = channel.room
        if counting is not None:
            await counting
        while not outbox.closed:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                outbox.peer_left()
                break
            outbox.last_seen = time.monotonic()
            text = frame.get("text")
            if not bucket.take():
                if bucket.strikes >= limits.strikes:
                    # A client that keeps sending while refused is a script, not a
                    # person: close it (it may reconnect, and start with a full bucket
                    # only after its backoff).
                    outbox.stop()
                    await websocket.close(protocol.CLOSE_POLICY, "too many messages")
                    break
                outbox.put(_too_fast(text))
                state.hub.meter.refused(protocol.RATE_LIMITED)
                continue
            if text is None:
                # Binary frames (or a text frame uvicorn could not decode) carry no JSON.
                outbox.put(_error(protocol.BAD_MESSAGE, "send JSON in text frames"))
                continue
            await _handle(
                text,
                outbox,
                state,
                shared,
                audience,
                participant,
                lang,
                limits,
                console_epoch=websocket.scope.get(EPOCH_SCOPE_KEY),
            )
    except (WebSocketDisconnect, RuntimeError):
        # The client went away; RuntimeError: receive after the socket closed.
        outbox.peer_left()
    except StoreError:
        with contextlib.suppress(Exception):
            await websocket.close(protocol.CLOSE_STORE_FAILED, "store unavailable; reconnect")
    finally:
        state.hub.leave(room.id, outbox)
        # Not `await task` under suppress(CancelledError): that would also swallow
        # the cancellation of this handler itself (server shutdown).
        await settle([writer], CLOSE_TIMEOUT, f"closing a {audience} socket")


def _error(reason: str, message: str) -> str:
    return protocol.encode(protocol.error(reason, message))


class Bucket:
    """A token bucket: `rate` messages a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()
        #: Messages refused in a row.
        self.strikes = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            self.strikes = 0
            return True
        self.strikes += 1
        return False


def _too_fast(text: str | None) -> str:
    """The refusal of a message over the rate: a vote gets `refused` with `retry`, so that
    the phone sends it again later with the same submission id; anything else an error."""
    message = _parse(text) if text is not None and len(text) <= 4 * 1024 else None
    if isinstance(message, dict) and message.get("type") == protocol.VOTE:
        refusal = protocol.refused(
            protocol.RATE_LIMITED,
            "too many messages; slow down",
            retry=True,
            submission_id=str(message.get("submission_id") or ""),
            question_id=str(message.get("question_id") or ""),
        )
        return protocol.encode(refusal)
    return _error(protocol.RATE_LIMITED, "too many messages; slow down")


def _parse(text: str) -> object:
    """The decoded JSON, or None when the text is not JSON (or nests absurdly deep:
    the json module raises RecursionError for a few KiB of "[[[[…")."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


async def _handle(
    text: str,
    outbox: Outbox,
    state: PollState,
    room: Room,
    audience: Audience,
    participant: str | None,
    lang: str,
    limits: Limits,
    *,
    console_epoch: int | None = None,
) -> None:
    if len(text) > limits.max_message:
        outbox.put(_error(protocol.TOO_LARGE, f"message too large (at most {limits.max_message})"))
        return
    message = _parse(text)
    if message is None:
        outbox.put(_error(protocol.BAD_MESSAGE, "not JSON"))
        return
    if not isinstance(message, dict):
        outbox.put(_error(protocol.BAD_MESSAGE, "a message is a JSON object with a 'type'"))
        return
    kind = message.get("type")
    if kind == protocol.PING:
        outbox.put(protocol.encode(protocol.pong(message.get("t"))))
    elif kind == protocol.PONG:
        pass
    elif kind == protocol.SYNC:
        channel = state.hub.channels.get(room.id)
        if channel is not None:
            await state.hub.send_current(channel, outbox)
    elif kind == protocol.VOTE and participant is not None:
        await _vote(message, outbox, state, room, participant, lang)
    elif kind == protocol.ACTION and audience in ("console", "projector"):
        await _action(message, outbox, state, room, lang, console_epoch)
    else:
        shown = kind if isinstance(kind, str) and len(kind) <= 40 else "?"
        outbox.put(_error(protocol.UNKNOWN_TYPE, f"unknown message type {shown!r} here"))


async def _vote(
    message: dict[str, Any],
    outbox: Outbox,
    state: PollState,
    room: Room,
    participant: str,
    lang: str,
) -> None:
    reply = await vote_reply(
        state,
        room,
        participant,
        str(message.get("question_id") or ""),
        str(message.get("submission_id") or ""),
        message.get("answer"),
        lang,
    )
    outbox.put(protocol.encode(reply))


async def _action(
    message: dict[str, Any],
    outbox: Outbox,
    state: PollState,
    room: Room,
    lang: str,
    console_epoch: int | None,
) -> None:
    action = str(message.get("action") or "")
    request_id = message.get("request_id")
    if console_epoch is None or await state.rooms.console_epoch() != console_epoch:
        # Signed out (or a new token) since this socket opened: it acts no more.
        await outbox.shut(protocol.CLOSE_FORBIDDEN, "signed out")
        return
    if action not in ACTIONS:
        text = f"unknown action {action[:40]!r}"
        outbox.put(
            protocol.encode(protocol.action_error(request_id, protocol.UNKNOWN_ACTION, text))
        )
        return
    try:
        await perform(room, action, message)
    except RoomError as exc:
        text = translate(lang, exc.message, exc.params)
        outbox.put(protocol.encode(protocol.action_error(request_id, exc.reason, text)))
        return
    state.hub.poke(room.id)
    outbox.put(protocol.encode(protocol.done(request_id, room.state.version)))


def routes() -> list[BaseRoute]:
    return [
        WebSocketRoute("/ws/participant/{code}", participant_socket, name="ws_participant"),
        WebSocketRoute("/ws/projector/{room_id}", facilitator_socket, name="ws_projector"),
        WebSocketRoute("/ws/console/{room_id}", facilitator_socket, name="ws_console"),
    ]
