"""`timer: SECONDS` on any question: the vote counts down and closes by itself,
on every store; the deadline is the store's, not a phone's."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from poll import protocol
from poll.rooms import Room, Rooms, TimeUp
from poll.script import ScriptError, parse_script
from poll.store.base import RoomPatch, Store

SCRIPT = """
sessions:
  timed:
    title: Timed
    language: en
    items:
      - type: slide
        title: Welcome
      - type: yesno
        id: quick
        prompt: Quick?
        timer: 5
      - type: open
        id: slow
        prompt: Ideas?
"""


@pytest.fixture
def rooms(store: Store) -> Rooms:
    script = parse_script(SCRIPT, "sessions.yaml")
    return Rooms(store, lambda: script)


async def started(rooms: Rooms) -> Room:
    room = await rooms.create("timed")
    await room.go(1)
    return room


def test_any_question_takes_a_timer_and_keeps_it_in_the_run_copy() -> None:
    session = parse_script(SCRIPT, "sessions.yaml").sessions["timed"]
    question = session.questions["quick"]
    assert question.timer == 5 and question.deadline_seconds == 5
    assert question.to_spec()["timer"] == 5
    assert session.questions["slow"].timer is None
    assert "timer" not in session.questions["slow"].to_spec()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("4", "timer: must be between 5 and 3600, not 4"),
        ("3601", "timer: must be between 5 and 3600, not 3601"),
        ("soon", "timer: must be a whole number, not 'soon'"),
    ],
)
def test_a_wrong_timer_is_an_error_at_its_position(value: str, message: str) -> None:
    text = SCRIPT.replace("timer: 5", f"timer: {value}")
    with pytest.raises(ScriptError) as caught:
        parse_script(text, "sessions.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith("sessions.yaml:12:16:") and message in p for p in problems), problems


async def test_opening_starts_the_countdown_that_every_audience_sees(rooms: Rooms) -> None:
    room = await started(rooms)
    data = await room.load()
    assert (data.state.deadlines["quick"] - data.state.opened_at["quick"]).total_seconds() == 5
    for audience in ("participant", "projector", "console"):
        view = room.view(data, audience)
        assert view["status"] == "open"
        assert 0 < view["deadline_in"] <= 5
        assert view["item"]["timer"] == 5


async def test_after_the_deadline_the_question_reads_closed_and_votes_are_refused(
    rooms: Rooms,
) -> None:
    room = await started(rooms)
    await room.vote("alice", "quick", "s1", {"choice": "yes"})
    data = await room.load()
    later = dataclasses.replace(data, read_at=data.state.deadlines["quick"])

    view = room.view(later, "projector")
    assert view["status"] == "closed" and view["deadline_in"] is None
    console = room.view(later, "console")
    assert [it["status"] for it in console["items"] if it["id"] == "quick"] == ["closed"]


async def test_a_vote_that_arrives_late_gets_the_time_up_reason(store: Store) -> None:
    script = parse_script(SCRIPT.replace("timer: 5", "timer: 5\n        results: live"), "s.yaml")
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("timed")
    # A countdown far shorter than a script allows, to see it pass within the test.
    await room.go(1, open_question=False)
    await room._apply(dataclasses.replace(_open_patch(room), timers={"quick": 0.1}))
    await asyncio.sleep(0.3)

    with pytest.raises(TimeUp) as caught:
        await room.vote("alice", "quick", "s1", {"choice": "yes"})
    assert caught.value.reason == protocol.TOO_LATE
    assert await room.aggregates() == {}


async def test_a_question_without_a_timer_has_no_countdown(rooms: Rooms) -> None:
    room = await started(rooms)
    await room.go(2)
    view = room.view(await room.load(), "participant")
    assert view["deadline_in"] is None and view["item"]["timer"] is None


async def test_opening_again_restarts_the_countdown(rooms: Rooms) -> None:
    room = await started(rooms)
    first = room.state.deadlines["quick"]
    await room.close_vote("quick")
    assert room.state.deadlines == {}
    await asyncio.sleep(0.01)
    await room.open_vote("quick")
    assert room.state.deadlines["quick"] > first


def _open_patch(room: Room) -> RoomPatch:

    return RoomPatch(statuses={"quick": "open"})
