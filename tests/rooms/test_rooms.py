"""A live run as the facilitator and the participants live it, on every store."""

from __future__ import annotations

import asyncio
import re

import pytest

from poll.rooms import (
    ChangeNotAllowed,
    InvalidAnswer,
    InvalidMark,
    NotCurrent,
    NotYetOpen,
    Room,
    RoomEnded,
    Rooms,
    TooManyAnswers,
    UnknownRoom,
    UnknownSession,
    VotingClosed,
    display_code,
    normalize_code,
)
from poll.script import Script, parse_script
from poll.store.base import RoomState, Store
from tests.support.scripts import DUTCH, ENGLISH, fixture_script


def index_of(room: Room, item_id: str) -> int:
    return room.session.index_of(item_id)


@pytest.fixture
def rooms(store: Store) -> Rooms:
    return Rooms(store, fixture_script)


async def at(rooms: Rooms, question_id: str, session: str = DUTCH) -> Room:
    room = await rooms.create(session)
    await room.go(index_of(room, question_id))
    return room


def test_codes_are_seven_digits_read_in_two_groups() -> None:
    assert display_code("1234567") == "123 4567"
    assert normalize_code(" 123 4567 ") == "1234567"
    assert normalize_code("123-4567") == "1234567"
    assert normalize_code("12345") is None
    assert normalize_code("abcdefg") is None


async def test_a_new_run_starts_at_the_first_item_with_every_question_pending(rooms: Rooms) -> None:
    room = await rooms.create(DUTCH)
    assert re.fullmatch(r"\d{7}", room.state.code)
    assert room.state.current == 0 and room.state.current_question is None
    assert set(room.state.questions.values()) == {"pending"}
    found = await rooms.by_code(display_code(room.state.code))
    assert found is not None and found.id == room.id
    with pytest.raises(UnknownSession, match="no session no-such-session"):
        await rooms.create("no-such-session")
    with pytest.raises(UnknownRoom):
        await rooms.get("no-such-room")
    assert await rooms.by_code("000 0000") is None or room.state.code == "0000000"


async def test_lookups_of_one_code_at_the_same_time_share_one_read(
    rooms: Rooms, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await rooms.create(DUTCH)
    reads: list[str] = []
    read = rooms.store.room_by_code

    async def counted(code: str) -> RoomState | None:
        reads.append(code)
        return await read(code)

    monkeypatch.setattr(rooms.store, "room_by_code", counted)
    found = await asyncio.gather(*(rooms.by_code(room.state.code) for _ in range(20)))
    assert reads == [room.state.code]
    assert {r.id for r in found if r is not None} == {room.id} and None not in found
    # A lookup after that one reads again, and sees the room end.
    await room.end()
    assert await rooms.by_code(room.state.code) is None
    assert reads == [room.state.code] * 2


async def test_moving_to_a_question_opens_it_unless_told_otherwise(rooms: Rooms) -> None:
    room = await rooms.create(DUTCH)
    herkennen = index_of(room, "herkennen")
    await room.go(herkennen, open_question=False)
    assert room.state.questions["herkennen"] == "pending"
    with pytest.raises(NotYetOpen, match="not started yet"):
        await room.vote("p1", "herkennen", "s1", {"choice": "yes"})
    await room.open_vote()
    await room.vote("p1", "herkennen", "s1", {"choice": "yes"})
    await room.next()
    assert room.state.current_question == "aanvullende-vragen"
    assert room.state.questions["aanvullende-vragen"] == "open"
    await room.previous()
    assert room.state.current == herkennen
    await room.go(10_000)
    assert room.state.current == len(room.session.items) - 1
    await room.go(-5)
    assert room.state.current == 0


async def test_a_vote_is_saved_once_even_when_retried(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    first = await room.vote("p1", "herkennen", "sub-1", {"choice": "yes"})
    again = await room.vote("p1", "herkennen", "sub-1", {"choice": "yes"})
    assert (first.status, again.status) == ("saved", "duplicate")
    snapshot = await room.snapshot("console")
    assert snapshot["answers"] == 1
    assert [o["count"] for o in snapshot["results"]["options"]] == [1, 0]


async def test_a_participant_may_change_her_answer_while_open(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    await room.vote("p1", "herkennen", "s1", {"choice": "yes"})
    await room.vote("p1", "herkennen", "s2", {"choice": "no"})
    snapshot = await room.snapshot("participant", participant="p1")
    assert snapshot["mine"] == [{"keys": ["no"], "text": None}]
    console = await room.snapshot("console")
    assert [o["count"] for o in console["results"]["options"]] == [0, 1]
    assert console["answers"] == 1


async def test_votes_only_for_the_current_question_while_it_is_open(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    with pytest.raises(NotCurrent, match="moved on"):
        await room.vote("p1", "met-wie", "s1", {"choices": ["bewoners"]})
    with pytest.raises(NotCurrent):
        await room.vote("p1", "no-such-question", "s2", {"choice": "yes"})
    await room.close_vote()
    with pytest.raises(VotingClosed, match="closed"):
        await room.vote("p1", "herkennen", "s3", {"choice": "yes"})
    await room.next()
    with pytest.raises(NotCurrent):
        await room.vote("p1", "herkennen", "s4", {"choice": "yes"})
    assert (await room.snapshot("console"))["items"][index_of(room, "herkennen")]["answers"] == 0


async def test_a_closed_question_stays_closed_when_the_facilitator_returns(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    await room.close_vote()
    await room.next()
    await room.previous()
    assert room.state.questions["herkennen"] == "closed"


async def test_refusals_say_what_to_do_in_plain_words(rooms: Rooms) -> None:
    room = await at(rooms, "met-wie")
    with pytest.raises(InvalidAnswer, match="not part of this question"):
        await room.vote("p1", "met-wie", "s1", {"choices": ["iedereen"]})
    with pytest.raises(InvalidAnswer, match="form poll understands"):
        await room.vote("p1", "met-wie", "s2", "nonsense")
    with pytest.raises(InvalidAnswer):
        await room.vote("p1", "met-wie", "bad id with spaces", {"choices": ["bewoners"]})
    snapshot = await room.snapshot("console")
    assert snapshot["answers"] == 0


async def test_without_allow_change_the_first_answer_stands(rooms: Rooms) -> None:
    room = await at(rooms, "one-change", session=ENGLISH)
    await room.vote("p1", "one-change", "s1", {"text": "Fewer meetings"})
    await room.vote("p1", "one-change", "s2", {"text": "More demos"})
    with pytest.raises(TooManyAnswers, match="2 answers"):
        await room.vote("p1", "one-change", "s3", {"text": "Third"})

    retro = await rooms.create(ENGLISH)
    script = parse_script(
        "sessions:\n  s:\n    title: S\n    items:\n"
        "      - {type: yesno, id: q, prompt: Q, allow_change: false}\n"
    )
    fixed = Rooms(rooms.store, lambda: script)
    room = await fixed.create("s")
    await room.go(0)
    await room.vote("p1", "q", "s1", {"choice": "yes"})
    with pytest.raises(ChangeNotAllowed):
        await room.vote("p1", "q", "s2", {"choice": "no"})
    assert retro.id != room.id


async def test_open_text_takes_up_to_max_answers_entries(rooms: Rooms) -> None:
    room = await at(rooms, "aanvullende-vragen")
    for n in range(3):
        await room.vote("p1", "aanvullende-vragen", f"s{n}", {"text": f"vraag {n}"})
    with pytest.raises(TooManyAnswers, match="3 answers"):
        await room.vote("p1", "aanvullende-vragen", "s9", {"text": "nog een"})
    await room.vote("p2", "aanvullende-vragen", "t1", {"text": "andere deelnemer"})
    results = (await room.snapshot("console"))["results"]
    assert results["count"] == 4 and results["respondents"] == 2


ONE_ANSWER = """
sessions:
  s:
    title: One idea each
    items:
      - type: open
        id: idea
        prompt: Your one idea?
      - type: open
        id: final
        prompt: Your final word?
        allow_change: false
"""


async def test_an_open_question_taking_one_answer_lets_her_change_it(store: Store) -> None:
    rooms = Rooms(store, lambda: parse_script(ONE_ANSWER))
    room = await rooms.create("s")
    await room.go(0)
    first = await room.vote("p1", "idea", "s1", {"text": "Meer groen"})
    changed = await room.vote("p1", "idea", "s2", {"text": "Meer groen en bankjes"})
    await room.vote("p2", "idea", "t1", {"text": "Een buurthuis"})

    assert [a.text for a in first.mine or ()] == ["Meer groen"]
    assert [a.text for a in changed.mine or ()] == ["Meer groen en bankjes"]
    results = (await room.snapshot("console"))["results"]
    assert [e["text"] for e in results["texts"]] == ["Meer groen en bankjes", "Een buurthuis"]
    assert results["count"] == 2 and results["respondents"] == 2
    assert [a["text"] for a in await room.mine("p1")] == ["Meer groen en bankjes"]

    await room.go(1)
    await room.vote("p1", "final", "s3", {"text": "Bedankt"})
    with pytest.raises(ChangeNotAllowed):
        await room.vote("p1", "final", "s4", {"text": "Toch niet"})
    assert [e["text"] for e in (await room.snapshot("console"))["results"]["texts"]] == ["Bedankt"]


async def test_hidden_results_reach_the_projector_only_when_revealed(rooms: Rooms) -> None:
    room = await at(rooms, "on-track", session=ENGLISH)
    await room.vote("p1", "on-track", "s1", {"choice": "yes"})
    projector = await room.snapshot("projector")
    assert projector["results"] is None and projector["answers"] == 1
    assert (await room.snapshot("console"))["results"]["options"][0]["count"] == 1
    await room.show_results()
    projector = await room.snapshot("projector")
    assert projector["results_shown"] and projector["results"]["options"][0]["count"] == 1
    await room.show_results(shown=False)
    assert (await room.snapshot("projector"))["results"] is None


async def test_participants_see_counts_only_when_shown_and_never_texts(rooms: Rooms) -> None:
    room = await at(rooms, "manieren")
    await room.vote("p1", "manieren", "s1", {"choices": ["intervisie"], "other": "Wijkschouw"})
    assert (await room.snapshot("participant", participant="p2"))["results"] is None
    await room.show_results()
    seen = await room.snapshot("participant", participant="p2")
    assert seen["results"]["options"][0]["count"] == 1
    assert "other_texts" not in seen["results"] and "Wijkschouw" not in str(seen)
    assert seen["mine"] == []


async def test_moderation_hides_an_open_answer_from_the_projector(rooms: Rooms) -> None:
    room = await at(rooms, "aanvullende-vragen")
    await room.vote("p1", "aanvullende-vragen", "s1", {"text": "Nette vraag"})
    await room.vote("p2", "aanvullende-vragen", "s2", {"text": "Grof antwoord"})
    texts = (await room.snapshot("console"))["results"]["texts"]
    rude = next(t for t in texts if t["text"] == "Grof antwoord")
    assert await room.moderate("aanvullende-vragen", rude["ref"], hidden=True)
    projector = (await room.snapshot("projector"))["results"]
    assert [t["text"] for t in projector["texts"]] == ["Nette vraag"]
    console = (await room.snapshot("console"))["results"]["texts"]
    assert [t["hidden"] for t in console] == [False, True]
    await room.moderate("aanvullende-vragen", rude["ref"], hidden=False)
    assert len((await room.snapshot("projector"))["results"]["texts"]) == 2
    assert not await room.moderate("aanvullende-vragen", "999999", hidden=True)


async def test_reset_clears_one_question_only(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    await room.vote("p1", "herkennen", "s1", {"choice": "yes"})
    await room.next()
    await room.vote("p1", "aanvullende-vragen", "s2", {"text": "blijft"})
    await room.reset("herkennen")
    items = {i["id"]: i for i in (await room.snapshot("console"))["items"]}
    assert items["herkennen"]["answers"] == 0
    assert items["aanvullende-vragen"]["answers"] == 1
    # After a reset the same participant can vote again with a new submission.
    await room.go(index_of(room, "herkennen"))
    await room.vote("p1", "herkennen", "s3", {"choice": "no"})


async def test_an_ended_run_refuses_votes_but_stays_readable(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    await room.vote("p1", "herkennen", "s1", {"choice": "yes"})
    await room.end()
    with pytest.raises(RoomEnded):
        await room.vote("p2", "herkennen", "s2", {"choice": "no"})
    with pytest.raises(RoomEnded):
        await room.next()
    assert await rooms.by_code(room.state.code) is None
    again = await rooms.get(room.id)
    assert again.state.ended
    assert [r.answer.keys for r in [r async for r in rooms.store.responses(room.id)]] == [("yes",)]
    assert room.id in [state.id for state in await rooms.list()]


async def test_a_run_keeps_its_own_copy_of_the_script(rooms: Rooms) -> None:
    current: list[Script] = [fixture_script()]
    live = Rooms(rooms.store, lambda: current[0])
    room = await live.create(ENGLISH)
    current[0] = parse_script(
        f"sessions:\n  {ENGLISH}:\n    title: Renamed\n    items:\n"
        "      - {type: slide, title: Only a slide}\n"
    )
    fresh = Rooms(rooms.store, lambda: current[0])  # a new process knows only the new script
    again = await fresh.get(room.id)
    assert again.session.title == "Team retrospective"
    assert [i.id for i in again.session.items] == [
        i.id for i in fixture_script().sessions[ENGLISH].items
    ]
    assert (await fresh.create(ENGLISH)).session.title == "Renamed"


async def test_snapshots_describe_the_current_item_for_every_audience(rooms: Rooms) -> None:
    room = await rooms.create(DUTCH)
    slide = await room.snapshot("participant", participant="p1")
    assert slide["item"]["type"] == "slide" and slide["item"]["title"].startswith("Leernetwerk")
    assert "<em>" in slide["item"]["body_html"] and slide["status"] is None
    assert slide["room"]["code_display"] == display_code(room.state.code)
    await room.go(index_of(room, "met-wie"))
    question = await room.snapshot("projector")
    assert question["item"]["prompt"] == "Met wie zou je willen leren?"
    assert question["item"]["multiple"] is True and question["status"] == "open"
    assert [o["label"] for o in question["item"]["options"]][:2] == ["Vakgenoten", "Beleidsmakers"]
    console = await room.snapshot("console")
    assert len(console["items"]) == len(room.session.items)
    assert console["items"][room.state.current]["status"] == "open"


async def test_a_mark_the_question_type_does_not_take_is_refused(rooms: Rooms) -> None:
    room = await at(rooms, "herkennen")
    before = room.state.version
    with pytest.raises(InvalidMark):
        await room.mark("herkennen", "pinned", "1")
    with pytest.raises(InvalidMark):
        await room.mark("herkennen", "x" * 201, None)
    assert (await room.refresh()).version == before
    assert await room.aggregates() == {}


async def test_a_process_meeting_a_room_first_reads_its_script_once_for_all_callers(
    rooms: Rooms, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = await rooms.create(DUTCH)
    # Another process (a second worker, or this one restarted): it has parsed nothing yet.
    other = Rooms(store, fixture_script)
    reads: list[str] = []
    read = store.session_spec

    async def counted(room_id: str) -> dict[str, object]:
        reads.append(room_id)
        await asyncio.sleep(0.01)  # still under way when the others ask
        return await read(room_id)

    monkeypatch.setattr(store, "session_spec", counted)
    found = await asyncio.gather(*(other.by_code(room.state.code) for _ in range(50)))
    assert reads == [room.id]
    assert {id(f.session) for f in found if f is not None} == {id(found[0].session)}
    assert found[0] is not None and found[0].session.id == DUTCH
    # A read that fails is not kept: the next caller reads again.
    other.forget(room.id)

    async def failing(room_id: str) -> dict[str, object]:
        reads.append(room_id)
        raise RuntimeError("store down")

    monkeypatch.setattr(store, "session_spec", failing)
    with pytest.raises(RuntimeError):
        await other.by_code(room.state.code)
    monkeypatch.setattr(store, "session_spec", counted)
    again = await other.by_code(room.state.code)
    assert again is not None and again.session.id == DUTCH and reads == [room.id] * 3
