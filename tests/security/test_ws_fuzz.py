"""Hostile websocket frames: whatever a phone or a console sends, the server answers
with a clear message, keeps the socket, never shows a traceback, and changes the
store only for a message it acknowledged (`ack`, `done`).

One socket per audience takes every generated frame in turn; after each frame a
ping acts as a barrier (the server answers messages in order), then the store is
read again and compared with its state before the frame.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.security.conftest import PROFILE, World, count, examples, store_dump
from tests.security.strategies import actions, frames, word_frames
from tests.support.scripts import ENGLISH

pytestmark = pytest.mark.usefixtures("generous_limits")

PARTICIPANT_REPLIES = {"snapshot", "mine", "ack", "refused", "error", "pong", "ping"}
FACILITATOR_REPLIES = {"snapshot", "done", "error", "pong", "ping"}
_barrier = itertools.count()


def send(ws: Any, frame: tuple[str, str | bytes]) -> None:
    kind, data = frame
    if kind == "bytes":
        assert isinstance(data, bytes)
        ws.send_bytes(data)
    else:
        assert isinstance(data, str)
        ws.send_text(data)


def replies_until_barrier(ws: Any) -> list[dict[str, Any]]:
    """Everything the server sent in answer to the frames so far (ends with our ping's pong)."""
    mark = f"barrier-{next(_barrier)}"
    ws.send_text(json.dumps({"type": "ping", "t": mark}))
    replies: list[dict[str, Any]] = []
    for _ in range(200):
        raw = ws.receive_text()
        assert "Traceback" not in raw and 'File "' not in raw, raw[:500]
        message = json.loads(raw)
        assert isinstance(message, dict) and "type" in message, raw[:200]
        if message["type"] == "pong" and message.get("t") == mark:
            return replies
        replies.append(message)
    raise AssertionError("no answer to the barrier ping")


def check_frame(
    world: World, ws: Any, rooms: tuple[str, ...], frame: Any, allowed: set[str], label: str
) -> list[dict[str, Any]]:
    before = store_dump(world, *rooms)
    send(ws, frame)
    replies = replies_until_barrier(ws)
    kinds = {reply["type"] for reply in replies}
    assert kinds <= allowed, (kinds - allowed, replies)
    for reply in replies:
        if reply["type"] in ("error", "refused"):
            # A refusal says what was wrong, in words.
            assert isinstance(reply.get("message"), str) and reply["message"], reply
    after = store_dump(world, *rooms)
    accepted = kinds & {"ack", "done"}
    if not accepted:
        assert after == before, f"a refused frame changed the store: {frame!r:.300}"
        count("attacks refused: malformed or refused websocket messages")
    count(f"hypothesis examples: websocket {label}")
    return replies


def drain_first(ws: Any) -> None:
    replies_until_barrier(ws)


def test_a_phone_sending_anything_changes_nothing_it_was_refused(world: World) -> None:
    room, code = world.start_run()
    other_room, _other_code = world.start_run(ENGLISH)
    world.go_to(other_room, "on-track")
    rooms = (room, other_room)
    # Stages: a yes/no open; a multi-choice with "other" open; an open question closed.
    stages = [("herkennen", None), ("manieren", None), ("aanvullende-vragen", "close")]
    share = 1.0 / len(stages)
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            drain_first(ws)
            for item, then in stages:
                with world.as_("facilitator"):
                    world.go_to(room, item)
                    if then:
                        world.act(room, then)
                drain_first(ws)

                @settings(settings.get_profile(PROFILE), max_examples=examples(share))
                @given(frame=frames)
                def one(frame: Any) -> None:
                    replies = check_frame(world, ws, rooms, frame, PARTICIPANT_REPLIES, "phone")
                    for ack in (r for r in replies if r["type"] == "ack"):
                        # An acknowledged vote is in the store, exactly as acknowledged.
                        stored = [
                            answer
                            for question, _p, _ref, answer, _h in store_dump(world, room)[room][
                                "responses"
                            ]
                            if question == ack["question_id"]
                        ]
                        count("votes acknowledged during fuzzing")
                        if not all(mine in stored for mine in ack["mine"]):
                            count("votes lost")
                        assert all(mine in stored for mine in ack["mine"]), (ack, stored)

                one()
    count("votes lost", 0)


def word_vote(question_id: str, submission_id: str, words: list[str]) -> tuple[str, str]:
    vote = {"type": "vote", "question_id": question_id, "submission_id": submission_id}
    return ("text", json.dumps({**vote, "answer": {"words": words}}))


def test_a_phone_sending_anything_to_a_word_cloud_changes_nothing_it_was_refused(
    world: World,
) -> None:
    room, code = world.start_run("words")
    other_room, _other_code = world.start_run(ENGLISH)
    rooms = (room, other_room)
    # Stages: three words that may change; then one word that may not.
    stages = ["square-words", "one-word"]
    share = 0.5 / len(stages)
    acked: list[dict[str, Any]] = []
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            drain_first(ws)
            for item in stages:
                with world.as_("facilitator"):
                    world.go_to(room, item)
                drain_first(ws)

                # Besides what hypothesis makes up: votes a phone's page script sends.
                @settings(settings.get_profile(PROFILE), max_examples=examples(share))
                @given(frame=word_frames)
                @example(frame=word_vote(item, "w1", ["Trees", "", "C#"]))
                @example(frame=word_vote(item, "w2", ["trees!", "Straße"]))
                @example(frame=word_vote(item, "w3", ["?!"]))
                @example(frame=word_vote(item, "w4", ["Bänke"]))
                def one(frame: Any) -> None:
                    replies = check_frame(world, ws, rooms, frame, PARTICIPANT_REPLIES, "phone")
                    for ack in (r for r in replies if r["type"] == "ack"):
                        acked.append(ack)
                        stored = [
                            answer
                            for question, _p, _ref, answer, _h in store_dump(world, room)[room][
                                "responses"
                            ]
                            if question == ack["question_id"]
                        ]
                        count("votes acknowledged during fuzzing")
                        assert all(mine in stored for mine in ack["mine"]), (ack, stored)
                        # What is stored is a word cloud's answer: distinct keys, one
                        # typed word per key, none longer than the question allows.
                        for mine in ack["mine"]:
                            typed = mine["text"].split("\n")
                            assert len(typed) == len(mine["keys"]) == len(set(mine["keys"]))
                            assert all(0 < len(word) <= 25 for word in typed)

                one()
    assert acked, "no vote was acknowledged"


facilitator_frames = st.one_of(
    frames,
    actions.filter(lambda m: m.get("action") != "end").map(lambda m: ("text", json.dumps(m))),
)


@pytest.mark.parametrize("view", ["console", "projector"])
def test_a_console_sending_anything_gets_a_clear_error(world: World, view: str) -> None:
    room, code = world.start_run()
    other_room, _ = world.start_run(ENGLISH)
    rooms = (room, other_room)
    with world.as_("phone") as phone:  # one answer, so reset and moderate have something
        phone.get(f"/r/{code}")
    world.go_to(room, "aanvullende-vragen")
    with world.client.websocket_connect(f"/ws/{view}/{room}") as ws:
        drain_first(ws)

        @settings(settings.get_profile(PROFILE), max_examples=examples(0.5))
        @given(frame=facilitator_frames)
        def one(frame: Any) -> None:
            check_frame(world, ws, rooms, frame, FACILITATOR_REPLIES, view)

        one()
