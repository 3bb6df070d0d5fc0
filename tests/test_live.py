"""The per-process hub: bounded per-socket queues, coalesced snapshots, stuck sockets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from poll import live
from poll.live import MAX_PENDING, Hub, Outbox
from poll.rooms import Rooms
from poll.store.sqlite import SqliteStore
from poll.web.screens import Screens
from tests.support.scripts import DUTCH, ENGLISH, fixture_script
from tests.support.waiting import eventually


class Socket:
    """A fake socket that records what it was sent; `stall` makes sends hang."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.closed_with: int | None = None
        self.stall = False

    async def send(self, text: str) -> None:
        if self.stall:
            await asyncio.Event().wait()
        self.sent.append(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code

    def outbox(self, audience: str = "projector", participant: str | None = None) -> Outbox:
        return Outbox(self.send, self.close, audience=audience, participant=participant)  # type: ignore[arg-type]


def test_a_newer_snapshot_replaces_an_unsent_older_one() -> None:
    socket = Socket()
    box = socket.outbox()
    box.offer_snapshot('{"type":"snapshot","version":1}')
    box.put('{"type":"ack","n":1}')
    box.offer_snapshot('{"type":"snapshot","version":2}')
    box.offer_snapshot('{"type":"snapshot","version":3}')
    queued = [json.loads(text) for _, text in box._queue]
    assert queued == [{"type": "ack", "n": 1}, {"type": "snapshot", "version": 3}]


def test_a_socket_with_too_many_waiting_messages_is_given_up() -> None:
    box = Socket().outbox()
    for n in range(MAX_PENDING):
        box.put(f'{{"n":{n}}}')
    assert not box.closed
    box.put('{"n":"one too many"}')
    assert box.closed
    assert len(box._queue) == MAX_PENDING  # bounded: nothing more was queued


async def test_a_stuck_socket_is_closed_and_does_not_hold_up_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(live, "SEND_TIMEOUT", 0.2)
    stuck, healthy = Socket(), Socket()
    stuck.stall = True
    boxes = [stuck.outbox(), healthy.outbox()]
    tasks = [asyncio.create_task(box.run()) for box in boxes]
    for box in boxes:
        box.offer_snapshot('{"type":"snapshot","version":1}')
    await asyncio.sleep(0.3)
    live.watch_sends(boxes, time.monotonic())  # the hub does this every second
    await asyncio.wait_for(tasks[0], 10)
    assert stuck.closed_with == 1013 and boxes[0].closed
    assert healthy.sent == [{"type": "snapshot", "version": 1}]
    boxes[1].stop()
    await asyncio.wait_for(tasks[1], 10)


async def test_one_heartbeat_pings_every_socket_and_cuts_the_silent_ones(rooms: Rooms) -> None:
    room = await rooms.create(ENGLISH)
    hub = Hub(rooms, process_id="test", idle_timeout=60)
    await hub.start()
    aborted: list[str] = []
    talking, silent = Socket(), Socket()
    boxes = {
        "talking": talking.outbox("participant", participant="p1"),
        "silent": Outbox(
            silent.send,
            silent.close,
            audience="participant",
            participant="p2",
            abort=lambda: aborted.append("p2"),
        ),
    }
    writers = [asyncio.create_task(box.run()) for box in boxes.values()]
    try:
        for box in boxes.values():
            await hub.join(room, box)
        boxes["silent"].last_seen -= 61  # nothing from this phone for over a minute
        hub.heartbeat()
        await eventually(
            lambda: any(m["type"] == "ping" for m in talking.sent),
            "the phone that talks is pinged",
            within=10,
            every=0.02,
        )
        await eventually(
            lambda: silent.closed_with == 1001 and aborted == ["p2"],
            "the silent phone is closed, and its connection cut",
            within=10,
            every=0.02,
        )
        assert boxes["silent"].closed and not boxes["talking"].closed
        assert not any(m["type"] == "ping" for m in silent.sent)
    finally:
        for box in boxes.values():
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


@pytest.fixture
async def rooms(tmp_path: Path) -> AsyncIterator[Rooms]:
    store = SqliteStore(tmp_path / "poll.db")
    await store.open()
    script = fixture_script()
    yield Rooms(store, lambda: script)
    await store.close()


async def test_a_burst_of_votes_collapses_into_few_snapshots_ending_exact(rooms: Rooms) -> None:
    room = await rooms.create(DUTCH)
    await room.go(room.session.index_of("herkennen"))
    hub = Hub(rooms, process_id="test", max_rate=10)
    await hub.start()
    projector = Socket()
    box = projector.outbox()
    writer = asyncio.create_task(box.run())
    try:
        await hub.join(room, box)
        votes = 300
        await asyncio.gather(
            *(
                room.vote(f"p{n}", "herkennen", f"s{n}", {"choice": "yes" if n % 3 else "no"})
                for n in range(votes)
            )
        )

        await eventually(
            lambda: bool(projector.sent) and projector.sent[-1].get("answers") == votes,
            "the projector's last snapshot counts every vote",
            within=20,
            every=0.02,
        )
        snapshots = [m for m in projector.sent if m["type"] == "snapshot"]
        assert len(snapshots) < votes / 3, "votes must be coalesced, not sent one by one"
        versions = [int(m["version"]) for m in snapshots]  # type: ignore[call-overload]
        assert versions == sorted(versions)
        bars = {o["id"]: o["count"] for o in snapshots[-1]["results"]["options"]}  # type: ignore[index]
        assert bars == {"yes": 200, "no": 100}
    finally:
        box.stop()
        await writer
        await hub.stop()


async def test_the_last_socket_leaving_closes_the_room_subscription(
    rooms: Rooms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "LINGER", 0.05)
    room = await rooms.create(ENGLISH)
    hub = Hub(rooms, process_id="test")
    await hub.start()
    try:
        boxes = [Socket().outbox("participant", participant=f"p{n}") for n in range(3)]
        channel = None
        for box in boxes:
            channel = await hub.join(room, box)
        assert channel is not None and channel.participants == 3
        for box in boxes:
            channel.remove(box)

        await eventually(
            lambda: room.id not in hub.channels,
            "the hub lets go of the room",
            within=20,
            every=0.02,
        )
    finally:
        await hub.stop()


async def test_the_hub_stops_even_when_a_read_lost_its_cancellation(
    rooms: Rooms, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Python 3.11: a read that times out at the moment its task is cancelled can
    # return as if it had only timed out. The broadcaster then waited for the next
    # change for ever, and server shutdown with it.
    room = await rooms.create(ENGLISH)
    hub = Hub(rooms, process_id="test")
    await hub.start()
    box = Socket().outbox()
    channel = await hub.join(room, box)
    inside, lost = asyncio.Event(), []
    real_load = type(room).load

    async def load_losing_a_cancellation(self: object) -> object:
        inside.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            lost.append(True)  # and carry on, as the read did
        return await real_load(self)  # type: ignore[arg-type]

    monkeypatch.setattr(type(room), "load", load_losing_a_cancellation)
    hub.poke(room.id)
    async with asyncio.timeout(10):
        await inside.wait()
    stopping = asyncio.create_task(hub.stop())
    done, _ = await asyncio.wait([stopping], timeout=20)
    assert stopping in done, "the hub did not stop"
    assert lost, "the cancellation reached the read, and was lost there"
    assert not hub.channels
    assert all(task.done() for task in channel._tasks), "a room task outlived the hub"


async def test_each_phone_gets_its_stage_drawn_for_its_answer_again_when_voting_closes(
    rooms: Rooms,
) -> None:
    """The stage shows a phone's own answer: when the screen changes under it, the
    hub sends every phone its answers with the stage drawn anew; a phone that only
    joins gets one `mine` with its first snapshot, and nothing more."""
    room = await rooms.create(DUTCH)
    await room.go(room.session.index_of("herkennen"))
    hub = Hub(rooms, process_id="test", screens=Screens())
    await hub.start()
    sockets = {name: Socket() for name in ("voted-yes", "voted-no", "silent")}
    boxes = [s.outbox("participant", participant=name) for name, s in sockets.items()]
    writers = [asyncio.create_task(box.run()) for box in boxes]
    try:
        await room.vote("voted-yes", "herkennen", "s1", {"choice": "yes"})
        await room.vote("voted-no", "herkennen", "s2", {"choice": "no"})
        for box in boxes:
            await hub.join(room, box)

        def mines(name: str) -> list[dict[str, Any]]:
            return [m for m in sockets[name].sent if m["type"] == "mine"]

        await eventually(
            lambda: all(mines(name) for name in sockets), "every phone gets its answers"
        )
        await asyncio.sleep(0.3)  # a few broadcasts: joining alone sends no second `mine`
        assert [len(mines(name)) for name in sockets] == [1, 1, 1]
        first = mines("voted-yes")[0]
        assert first["stage"] == "herkennen|open|0"
        assert 'value="yes" class="answer big chosen"' in first["html"]

        await room.close_vote("herkennen")
        hub.poke(room.id)
        await eventually(
            lambda: all(len(mines(name)) == 2 for name in sockets),
            "closing voting sends every phone its stage anew",
        )
        yes, no, silent = (mines(name)[-1] for name in sockets)
        assert yes["stage"] == no["stage"] == "herkennen|closed|0"
        assert "<li>Ja</li>" in yes["html"] and "<li>Nee</li>" in no["html"]
        # Without an answer a phone's stage is the snapshot's own, drawn for none.
        assert silent["answers"] == [] and "html" not in silent
        snapshot = next(m for m in reversed(sockets["silent"].sent) if m["type"] == "snapshot")
        assert snapshot["stage"] == "herkennen|closed|0"
        assert "<form" not in snapshot["html"] and 'class="mine"' not in snapshot["html"]
    finally:
        for box in boxes:
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


async def test_a_console_that_joins_gets_the_room_as_it_is_now(rooms: Rooms) -> None:
    """Never the view the hub built before the room moved on: not while a change
    waits for the next broadcast, nor when the room's last console has just left."""
    room = await rooms.create(DUTCH)
    # One broadcast in five seconds: a change waits for it long enough to be seen.
    hub = Hub(rooms, process_id="test", max_rate=0.2)
    await hub.start()
    sockets = [Socket() for _ in range(3)]
    boxes = [socket.outbox("console") for socket in sockets]
    writers = [asyncio.create_task(box.run()) for box in boxes]

    def first_snapshot(socket: Socket) -> dict[str, object]:
        return next(m for m in socket.sent if m["type"] == "snapshot")

    try:
        await hub.join(room, boxes[0])
        await eventually(lambda: bool(sockets[0].sent), "the first console's snapshot")
        assert first_snapshot(sockets[0])["index"] == 0

        await room.next()
        hub.poke(room.id)
        await hub.join(room, boxes[1])
        await eventually(lambda: bool(sockets[1].sent), "the second console's snapshot")
        assert first_snapshot(sockets[1])["index"] == 1

        hub.leave(room.id, boxes[0])
        hub.leave(room.id, boxes[1])
        assert room.id in hub.channels, "the room lingers for a console that comes back"
        await room.next()  # its signal may come later (another process), or not at all
        await hub.join(room, boxes[2])
        await eventually(lambda: bool(sockets[2].sent), "the third console's snapshot")
        assert first_snapshot(sockets[2])["index"] == 2
    finally:
        for box in boxes:
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


async def test_a_joining_phone_gets_one_snapshot_when_only_the_head_count_changes(
    rooms: Rooms,
) -> None:
    """Phones join a room no socket of this process follows yet, some while others'
    first reads are under way; their arrival changes the head count alone, which
    phones are not sent (docs/protocol.md): each phone gets its first snapshot and
    no second one, while the projector sees every phone counted."""
    room = await rooms.create(DUTCH)
    await room.go(room.session.index_of("herkennen"))
    hub = Hub(rooms, process_id="test", max_rate=50)
    await hub.start()
    phones = {f"p{n}": Socket() for n in range(12)}
    projector = Socket()
    boxes = [s.outbox("participant", participant=who) for who, s in phones.items()]
    boxes.append(projector.outbox())
    writers = [asyncio.create_task(box.run()) for box in boxes]
    try:
        await asyncio.gather(*(hub.join(room, box) for box in boxes[:6]))
        for box in boxes[6:]:  # and one by one, into a room the hub follows already
            await hub.join(room, box)
            await asyncio.sleep(0.05)

        def counted() -> bool:
            last = [m for m in projector.sent if m["type"] == "snapshot"]
            return bool(last) and last[-1]["connected"] == len(phones)

        await eventually(counted, "the projector counts every phone", within=20, every=0.02)
        await asyncio.sleep(0.3)  # a few more broadcasts

        for who, socket in phones.items():
            snapshots = [m for m in socket.sent if m["type"] == "snapshot"]
            assert len(snapshots) == 1, f"{who} got {len(snapshots)} snapshots"
    finally:
        for box in boxes:
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


async def test_phones_joining_while_the_screen_changes_all_end_on_the_new_screen(
    rooms: Rooms,
) -> None:
    room = await rooms.create(DUTCH)
    await room.go(room.session.index_of("herkennen"))
    hub = Hub(rooms, process_id="test", max_rate=50)
    await hub.start()
    phones = {f"p{n}": Socket() for n in range(20)}
    boxes = [s.outbox("participant", participant=who) for who, s in phones.items()]
    writers = [asyncio.create_task(box.run()) for box in boxes]

    async def close_voting() -> None:
        await asyncio.sleep(0.01)
        await room.close_vote("herkennen")
        hub.poke(room.id)

    def last_status(socket: Socket) -> object:
        snapshots = [m for m in socket.sent if m["type"] == "snapshot"]
        return snapshots[-1]["status"] if snapshots else None

    try:
        await asyncio.gather(close_voting(), *(hub.join(room, box) for box in boxes))
        await eventually(
            lambda: all(last_status(s) == "closed" for s in phones.values()),
            "every phone shows voting closed",
            within=20,
            every=0.02,
        )
    finally:
        for box in boxes:
            box.stop()
        await asyncio.gather(*writers)
        await hub.stop()


async def test_a_phone_finds_a_running_room_through_its_channel_while_phones_are_there(
    rooms: Rooms,
) -> None:
    room = await rooms.create(ENGLISH)
    code = room.state.code
    hub = Hub(rooms, process_id="test")
    await hub.start()
    projector = Socket().outbox()
    phone = Socket().outbox("participant", participant="p1")
    try:
        assert hub.room_with_phones(code) is None  # no channel: read the store
        await hub.join(room, projector)
        assert hub.room_with_phones(code) is None  # no phones: the store too
        channel = await hub.join(room, phone)
        assert hub.room_with_phones(code) is channel.room
        assert hub.room_with_phones(f"{code[:3]} {code[3:]}") is channel.room  # as typed
        assert hub.room_with_phones("0000000" if code != "0000000" else "1111111") is None
        assert hub.room_with_phones("not a code") is None
        # Ended elsewhere (another process, say): once the channel read it, the
        # phone is sent to the store, which finds the ended run (or a new one).
        elsewhere = await rooms.get(room.id)
        await elsewhere.end()
        await eventually(
            lambda: hub.room_with_phones(code) is None,
            "the channel's ended room is not handed to joining phones",
            within=20,
            every=0.02,
        )
    finally:
        await hub.stop()
