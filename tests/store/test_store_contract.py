"""The store contract (poll.store.base), run on every store.

Each test reads as a facilitator's and participants' steps against one store;
"two workers" are two store objects on the same database or Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest

from poll.answers import Aggregate, Answer
from poll.store import (
    ResultsLink,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    open_store,
)
from poll.store.fanout import Fanout, Signals
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from tests.store.conftest import Backend

QUESTIONS = ["q1", "q2", "q3"]
SPEC = {"id": "demo", "title": "Demo", "items": [{"type": "yesno", "id": "q1"}]}


def codes(*values: str) -> Iterator[str]:
    yield from values
    while True:
        yield f"{random.randrange(10**6, 10**7)}"


async def new_room(store: Store, *code_values: str) -> RoomState:
    code_source = codes(*code_values)
    return await store.create_room(
        session_id="demo",
        session_spec=SPEC,
        question_ids=list(QUESTIONS),
        new_code=lambda: next(code_source),
    )


async def open_question(store: Store, room_id: str, question: str = "q1") -> RoomState:
    return await store.update(
        room_id,
        RoomPatch(
            current=QUESTIONS.index(question) + 1,
            current_question=question,
            statuses={question: "open"},
        ),
    )


def ballot(
    participant: str,
    *keys: str,
    text: str | None = None,
    question: str = "q1",
    submission: str | None = None,
    mode: Literal["replace", "append", "toggle"] = "replace",
    max_entries: int = 1,
    allow_change: bool = True,
) -> Vote:
    return Vote(
        question_id=question,
        participant=participant,
        submission_id=submission or uuid.uuid4().hex,
        answer=Answer(keys=keys, text=text),
        mode=mode,
        max_entries=max_entries,
        allow_change=allow_change,
    )


async def recount(store: Store, room_id: str) -> dict[str, tuple[int, dict[str, int]]]:
    """Respondents and key counts per question, counted again from the stored responses."""
    people: dict[str, set[str]] = {}
    counts: dict[str, Counter[str]] = {}
    async for response in store.responses(room_id):
        people.setdefault(response.question_id, set()).add(response.participant)
        counts.setdefault(response.question_id, Counter()).update(response.answer.keys)
    return {qid: (len(people[qid]), dict(counts[qid])) for qid in people}


def tallies(aggregates: dict[str, Aggregate]) -> dict[str, tuple[int, dict[str, int]]]:
    return {qid: (agg.respondents, dict(agg.counts)) for qid, agg in aggregates.items()}


async def next_version(subscription: Subscription, at_least: int, within: float = 10.0) -> int:
    """Wait for a signal of `at_least` or later (a generous bound, not a timing assertion)."""
    signals = subscription.__aiter__()
    async with contextlib.aclosing(signals), asyncio.timeout(within):  # type: ignore[type-var]
        async for version in signals:
            if version >= at_least:
                return version
    raise AssertionError("the subscription ended before the signal came")


# Rooms ------------------------------------------------------------------------------


async def test_a_new_room_starts_at_item_zero_with_every_question_pending(store: Store) -> None:
    room = await new_room(store, "1234567")

    assert room.code == "1234567"
    assert room.current == 0 and room.current_question is None
    assert dict(room.questions) == dict.fromkeys(QUESTIONS, "pending")
    assert room.shown == frozenset() and not room.ended
    assert room.created_at.tzinfo == UTC
    assert await store.room(room.id) == room
    assert await store.room_by_code("1234567") == room
    assert await store.session_spec(room.id) == SPEC


async def test_rooms_lists_every_room_newest_first(store: Store) -> None:
    first = await new_room(store)
    second = await new_room(store)
    await store.update(first.id, RoomPatch(end=True))

    ids = [room.id for room in await store.rooms()]

    assert ids == [second.id, first.id]


async def test_unknown_rooms_raise_room_not_found(store: Store) -> None:
    for call in (
        store.room("nope"),
        store.session_spec("nope"),
        store.update("nope", RoomPatch(current=1)),
        store.vote("nope", ballot("p1", "yes")),
        store.reset_question("nope", "q1"),
        store.aggregates("nope"),
    ):
        with pytest.raises(RoomNotFound):
            await call
    assert await store.room_by_code("7654321") is None


async def test_the_facilitator_moves_on_opens_and_shows_results(store: Store) -> None:
    room = await new_room(store)

    moved = await open_question(store, room.id, "q2")
    shown = await store.update(
        room.id, RoomPatch(statuses={"q2": "closed"}, shown={"q2": True, "q1": True})
    )
    hidden = await store.update(room.id, RoomPatch(shown={"q1": False}))

    assert (moved.current, moved.current_question, moved.questions["q2"]) == (2, "q2", "open")
    assert shown.questions["q2"] == "closed" and shown.shown == {"q1", "q2"}
    assert hidden.shown == {"q2"} and hidden.current_question == "q2"
    assert room.version < moved.version < shown.version < hidden.version
    assert await store.room(room.id) == hidden


async def test_hiding_results_is_kept_apart_from_never_having_shown_them(store: Store) -> None:
    """The facilitator's choice overrides a question's default both ways, so the
    store keeps "hidden by her" apart from "not chosen yet"."""
    room = await new_room(store)
    assert room.results_hidden == frozenset()

    hidden = await store.update(room.id, RoomPatch(shown={"q1": False}))
    shown_again = await store.update(room.id, RoomPatch(shown={"q1": True, "q2": False}))

    assert hidden.results_hidden == {"q1"} and hidden.shown == frozenset()
    assert shown_again.shown == {"q1"} and shown_again.results_hidden == {"q2"}
    assert await store.room(room.id) == shown_again
    assert [r for r in await store.rooms() if r.id == room.id] == [shown_again]


async def test_the_join_screen_is_automatic_until_set_and_back_to_automatic(
    store: Store,
) -> None:
    room = await new_room(store)
    assert room.join_screen is None

    on = await store.update(room.id, RoomPatch(join_screen="on"))
    untouched = await store.update(room.id, RoomPatch(statuses={"q1": "open"}))
    off = await store.update(room.id, RoomPatch(join_screen="off"))
    fetched_off = await store.room(room.id)
    auto = await store.update(
        room.id, RoomPatch(current=1, current_question="q1", join_screen="auto")
    )

    assert on.join_screen is True and untouched.join_screen is True
    assert off.join_screen is False and fetched_off == off
    assert auto.join_screen is None and await store.room(room.id) == auto
    assert on.version < untouched.version < off.version < auto.version


async def test_moving_to_a_slide_clears_the_current_question(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    state = await store.update(room.id, RoomPatch(current=0, current_question=None))

    assert state.current == 0 and state.current_question is None


async def test_a_patch_naming_an_unknown_question_is_refused(store: Store) -> None:
    room = await new_room(store)

    with pytest.raises(StoreError, match="no question 'zz'"):
        await store.update(room.id, RoomPatch(statuses={"zz": "open"}))

    assert await store.room(room.id) == room


async def test_join_codes_are_unique_among_rooms_that_have_not_ended(store: Store) -> None:
    first = await new_room(store, "1111111")
    second = await new_room(store, "1111111", "2222222")
    assert second.code == "2222222"

    ended = await store.update(first.id, RoomPatch(end=True))
    third = await new_room(store, "1111111")

    assert ended.ended and ended.ended_at is not None and ended.ended_at.tzinfo == UTC
    assert third.code == "1111111"
    assert (await store.room_by_code("1111111")) == third
    assert (await store.room(first.id)).code == "1111111"  # the ended run keeps its code


async def test_many_rooms_created_at_once_get_distinct_codes(store: Store) -> None:
    pool = ["3000001", "3000002", "3000003", "3000004", "3000005", "3000006"]

    async def create() -> RoomState:
        return await store.create_room(
            session_id="demo",
            session_spec=SPEC,
            question_ids=QUESTIONS,
            new_code=lambda: random.choice(pool),
        )

    rooms = await asyncio.gather(*(create() for _ in range(6)))

    assert sorted(room.code for room in rooms) == pool


# Votes ------------------------------------------------------------------------------------


async def test_a_vote_is_saved_and_counted(store: Store) -> None:
    room = await new_room(store)
    opened = await open_question(store, room.id)

    outcome = await store.vote(room.id, ballot("alice", "yes"))

    assert outcome.status == "saved" and outcome.stored
    assert outcome.version == opened.version + 1
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"yes": 1})}
    assert await store.answers_of(room.id, "alice") == {"q1": [Answer(keys=("yes",))]}
    assert await store.answers_of(room.id, "bob") == {}
    assert (await store.room(room.id)).version == outcome.version


async def test_a_retried_submission_is_counted_once(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    vote = ballot("alice", "yes", submission="sub-1")

    outcomes = await asyncio.gather(*(store.vote(room.id, vote) for _ in range(20)))
    again = await store.vote(room.id, vote)

    assert sorted(o.status for o in outcomes).count("saved") == 1
    assert {o.status for o in outcomes} == {"saved", "duplicate"}
    assert again.status == "duplicate" and again.stored
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"yes": 1})}
    assert len([r async for r in store.responses(room.id)]) == 1


async def test_a_changed_answer_moves_the_counters(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", "a", "b"))
    await store.vote(room.id, ballot("bob", "b"))

    changed = await store.vote(room.id, ballot("alice", "c"))

    assert changed.status == "saved"
    assert tallies(await store.aggregates(room.id)) == {"q1": (2, {"b": 1, "c": 1})}
    assert await store.answers_of(room.id, "alice") == {"q1": [Answer(keys=("c",))]}
    assert tallies(await store.aggregates(room.id)) == await recount(store, room.id)


async def test_answers_in_any_script_survive_exactly(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    text = 'Zoë zegt "ja" 👍 \\ {x} \x1f'

    await store.vote(room.id, ballot("zoë-👩‍🔬", "optie-é", "🍕", text=text))

    assert await store.answers_of(room.id, "zoë-👩‍🔬") == {
        "q1": [Answer(keys=("optie-é", "🍕"), text=text)]
    }
    aggregate = (await store.aggregates(room.id))["q1"]
    assert dict(aggregate.counts) == {"optie-é": 1, "🍕": 1}
    assert [t.text for t in aggregate.texts] == [text]


async def test_no_change_when_the_question_does_not_allow_it(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    first = await store.vote(room.id, ballot("alice", "yes", allow_change=False))

    refused = await store.vote(room.id, ballot("alice", "no", allow_change=False))

    assert refused.status == "no_change" and not refused.stored
    assert refused.version == first.version
    assert await store.answers_of(room.id, "alice") == {"q1": [Answer(keys=("yes",))]}
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"yes": 1})}


async def test_append_mode_keeps_entries_up_to_the_limit(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    def entry(text: str) -> Vote:
        return ballot("alice", text=text, mode="append", max_entries=3)

    statuses = [(await store.vote(room.id, entry(t))).status for t in ("one", "two", "three")]
    too_many = await store.vote(room.id, entry("four"))
    other = await store.vote(room.id, ballot("bob", text="bob's", mode="append", max_entries=3))

    assert statuses == ["saved"] * 3
    assert too_many.status == "too_many" and not too_many.stored
    assert other.status == "saved"
    aggregate = (await store.aggregates(room.id))["q1"]
    assert aggregate.respondents == 2
    assert [t.text for t in aggregate.texts] == ["one", "two", "three", "bob's"]
    assert len({t.ref for t in aggregate.texts}) == 4
    assert [a.text for a in (await store.answers_of(room.id, "alice"))["q1"]] == [
        "one",
        "two",
        "three",
    ]


async def test_concurrent_appends_never_exceed_the_limit(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    outcomes = await asyncio.gather(
        *(
            store.vote(room.id, ballot("alice", text=f"idea {i}", mode="append", max_entries=3))
            for i in range(30)
        )
    )

    assert Counter(o.status for o in outcomes) == {"saved": 3, "too_many": 27}
    assert (await store.aggregates(room.id))["q1"].respondents == 1


@pytest.mark.parametrize(
    "patch, expected",
    [
        (RoomPatch(current=2, current_question="q2", statuses={"q2": "open"}), "not_current"),
        (RoomPatch(current=0, current_question=None), "not_current"),
        (RoomPatch(statuses={"q1": "closed"}), "closed"),
        (RoomPatch(statuses={"q1": "pending"}), "closed"),
        (RoomPatch(end=True), "room_ended"),
    ],
)
async def test_votes_are_refused_unless_the_question_is_current_and_open(
    store: Store, patch: RoomPatch, expected: str
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", "yes"))
    before = await store.update(room.id, patch)

    outcome = await store.vote(room.id, ballot("bob", "no"))
    change = await store.vote(room.id, ballot("alice", "no"))

    assert (outcome.status, change.status) == (expected, expected)
    assert outcome.version == before.version and not outcome.stored
    assert await store.room(room.id) == before
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"yes": 1})}
    assert await store.answers_of(room.id, "bob") == {}


async def test_a_vote_before_any_question_is_opened_is_refused(store: Store) -> None:
    room = await new_room(store)

    outcome = await store.vote(room.id, ballot("alice", "yes"))

    assert outcome.status == "not_current"
    assert await store.aggregates(room.id) == {}


async def test_two_thousand_participants_vote_and_change_at_once(store: Store) -> None:
    """The counters kept with each vote equal a recount of the stored answers, exactly."""
    room = await new_room(store)
    await open_question(store, room.id)
    rng = random.Random(42)
    options = ["a", "b", "c", "d"]

    async def participant(n: int) -> list[str]:
        first = ballot(f"p{n}", *rng.sample(options, rng.randint(1, 2)))
        second = ballot(f"p{n}", *rng.sample(options, rng.randint(0, 3)), text=f"t{n}")
        statuses = [(await store.vote(room.id, first)).status]
        # A flaky phone retries its change while sending it.
        retries = await asyncio.gather(store.vote(room.id, second), store.vote(room.id, second))
        return statuses + sorted(o.status for o in retries)

    results = await asyncio.gather(*(participant(n) for n in range(2000)))

    assert all(r == ["saved", "duplicate", "saved"] for r in results)
    aggregates = await store.aggregates(room.id)
    assert aggregates["q1"].respondents == 2000
    assert len(aggregates["q1"].texts) == 2000
    assert tallies(aggregates) == await recount(store, room.id)
    responses = [r async for r in store.responses(room.id)]
    assert len(responses) == 2000 and all(r.answer.text for r in responses)


async def test_a_snapshot_read_shows_exactly_the_votes_acknowledged_up_to_its_version(
    backend: Backend,
) -> None:
    """Read under a vote burst (from a second worker), every snapshot counts each vote
    acknowledged with its version or an older one, and none acknowledged later."""
    store = await backend.open_store()
    reader = await backend.open_store()
    room = await new_room(store)
    await open_question(store, room.id)
    acks: dict[str, int] = {}
    reads: list[tuple[RoomState, dict[str, Aggregate]]] = []
    done = asyncio.Event()

    async def vote(n: int) -> None:
        # A key of its own per participant: the counts say exactly who is in a read.
        text = f"t{n}" if n % 3 == 0 else None
        outcome = await store.vote(room.id, ballot(f"p{n}", f"k{n}", text=text))
        assert outcome.status == "saved"
        acks[f"k{n}"] = outcome.version

    async def read() -> None:
        while not done.is_set():
            reads.append(await reader.room_with_aggregates(room.id))
            await asyncio.sleep(0)

    async def burst() -> None:
        try:
            for start in range(0, 400, 50):
                await asyncio.gather(*(vote(n) for n in range(start, start + 50)))
        finally:
            done.set()

    await asyncio.gather(burst(), read(), read())

    assert len(acks) == 400 and len(set(acks.values())) == 400
    assert len(reads) > 2
    for state, aggregates in [*reads, await reader.room_with_aggregates(room.id)]:
        aggregate = aggregates.get("q1", Aggregate())
        expected = {key for key, version in acks.items() if version <= state.version}
        assert set(aggregate.counts) == expected, f"version {state.version}"
        assert aggregate.respondents == len(expected)
        assert {entry.text for entry in aggregate.texts} == {
            f"t{key[1:]}" for key in expected if int(key[1:]) % 3 == 0
        }


async def test_a_snapshot_read_is_the_rooms_state_with_its_aggregates(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", "yes"))
    await store.update(room.id, RoomPatch(shown={"q1": True}))

    state, aggregates = await store.room_with_aggregates(room.id)

    assert state == await store.room(room.id)
    assert aggregates == await store.aggregates(room.id)
    with pytest.raises(RoomNotFound):
        await store.room_with_aggregates("no-such-room")


async def test_a_participants_answers_come_back_from_many_questions_in_answer_order(
    store: Store,
) -> None:
    room = await new_room(store)
    for n, question in enumerate(QUESTIONS):
        await open_question(store, room.id, question)
        for who in ("bob", "alice", "carol"):
            await store.vote(room.id, ballot(who, f"{who}{n}", question=question))
    await store.vote(room.id, ballot("alice", "again", question="q3"))

    mine = await store.answers_of(room.id, "alice")

    assert mine == {
        "q1": [Answer(keys=("alice0",))],
        "q2": [Answer(keys=("alice1",))],
        "q3": [Answer(keys=("again",))],
    }
    assert all(a.ref for answers in mine.values() for a in answers)


# Results, moderation, reset ------------------------------------------------------------


async def test_set_hidden_hides_and_shows_one_free_text(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", text="nice"))
    await store.vote(room.id, ballot("bob", text="rude"))
    rude = (await store.aggregates(room.id))["q1"].texts[1]
    version = (await store.room(room.id)).version

    assert await store.set_hidden(room.id, "q1", rude.ref, True)
    texts = (await store.aggregates(room.id))["q1"].texts
    exported = {r.answer.text: r.hidden async for r in store.responses(room.id)}
    assert await store.set_hidden(room.id, "q1", rude.ref, False)

    assert [(t.text, t.hidden) for t in texts] == [("nice", False), ("rude", True)]
    assert exported == {"nice": False, "rude": True}
    assert not (await store.aggregates(room.id))["q1"].texts[1].hidden
    assert (await store.room(room.id)).version == version + 2
    assert not await store.set_hidden(room.id, "q2", rude.ref, True)  # another question's
    assert not await store.set_hidden(room.id, "q1", "999999", True)
    assert not await store.set_hidden(room.id, "q1", "not-a-ref", True)


async def test_reset_question_deletes_its_answers_but_keeps_its_status(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id, "q2")
    await store.vote(room.id, ballot("alice", "yes", question="q2"))
    await open_question(store, room.id, "q1")
    await store.vote(room.id, ballot("alice", "yes", text="hi"))
    await store.vote(room.id, ballot("bob", "no"))

    state = await store.reset_question(room.id, "q1")

    assert state.questions["q1"] == "open" and state.current_question == "q1"
    assert tallies(await store.aggregates(room.id)) == {"q2": (1, {"yes": 1})}
    assert await store.answers_of(room.id, "alice") == {"q2": [Answer(keys=("yes",))]}
    again = await store.vote(room.id, ballot("alice", "no"))
    assert again.status == "saved"
    assert tallies(await store.aggregates(room.id)) == {
        "q2": (1, {"yes": 1}),
        "q1": (1, {"no": 1}),
    }
    assert tallies(await store.aggregates(room.id)) == await recount(store, room.id)


async def test_responses_export_every_answer_in_order_with_utc_times(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    before = datetime.now(UTC) - timedelta(seconds=1)
    for n in range(1200):  # more than one export chunk
        await store.vote(room.id, ballot(f"p{n}", "yes" if n % 2 else "no"))
    await store.vote(room.id, ballot("p0", "yes", text="changed"))

    responses = [r async for r in store.responses(room.id)]

    assert len(responses) == 1200
    assert [r.participant for r in responses] == [f"p{n}" for n in range(1, 1200)] + ["p0"]
    assert responses[-1].answer == Answer(keys=("yes",), text="changed")
    assert all(r.answered_at.tzinfo == UTC and r.answered_at >= before for r in responses)
    assert all(r.room_id == room.id and r.question_id == "q1" for r in responses)
    assert len({r.ref for r in responses}) == 1200


# Several workers, restarts ------------------------------------------------------------------


async def test_two_workers_see_each_others_votes_and_signals(backend: Backend) -> None:
    one = await backend.open_store()
    two = await backend.open_store()
    room = await new_room(one)
    await open_question(two, room.id)

    async with one.subscribe(room.id) as changes:
        outcome = await two.vote(room.id, ballot("alice", "yes"))
        seen = await next_version(changes, outcome.version)
        update = await one.update(room.id, RoomPatch(shown={"q1": True}))
        async with two.subscribe(room.id) as other:
            more = await one.vote(room.id, ballot("bob", "no"))
            assert await next_version(other, more.version) >= more.version

    assert seen >= outcome.version and update.version > outcome.version
    assert tallies(await one.aggregates(room.id)) == {"q1": (2, {"yes": 1, "no": 1})}
    assert tallies(await two.aggregates(room.id)) == {"q1": (2, {"yes": 1, "no": 1})}
    assert await two.room(room.id) == await one.room(room.id)


async def test_a_slow_subscriber_gets_the_latest_version_not_a_backlog(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    async with store.subscribe(room.id) as changes:
        outcomes = [await store.vote(room.id, ballot(f"p{n}", "yes")) for n in range(50)]
        latest = await next_version(changes, outcomes[-1].version)

    assert latest == outcomes[-1].version


async def test_signals_keep_only_the_newest_unread_version() -> None:
    signals = Signals("room")
    for version in (3, 9, 5):
        signals.put(version)

    received = await next_version(signals, 0)
    signals.put(10)
    signals.close()

    assert received == 9
    assert [v async for v in signals] == []  # closed: pending signals are dropped


async def test_the_fanout_signals_each_rooms_own_subscribers_from_any_thread() -> None:
    fanout = Fanout()
    first, second, other = Signals("room"), Signals("room"), Signals("other")

    assert [fanout.add(signals) for signals in (first, second, other)] == [True, False, True]
    await asyncio.to_thread(fanout.signal_all, {"room": 4})  # as the SQLite writer's reader

    assert await next_version(first, 4) == 4 and await next_version(second, 4) == 4
    assert fanout.sent("room") == 4 and fanout.sent("other") is None
    assert fanout.count() == 3 and sorted(fanout.rooms()) == ["other", "room"]
    assert [fanout.remove(first), fanout.remove(second)] == [False, True]  # the room's last
    assert "room" not in fanout and fanout.sent("room") is None


async def test_everything_survives_close_and_reopen(backend: Backend) -> None:
    store = await backend.open_store()
    room = await new_room(store, "5550001")
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", "a", text="first"))
    await store.vote(room.id, ballot("bob", "b"))
    await store.vote(room.id, ballot("alice", "b", text="second"))
    await store.update(room.id, RoomPatch(shown={"q2": False}, join_screen="off"))
    state = await store.room(room.id)
    responses = [r async for r in store.responses(room.id)]
    aggregates = await store.aggregates(room.id)
    await store.close()

    reopened = await backend.open_store()

    assert await reopened.room(room.id) == state
    assert await reopened.room_by_code("5550001") == state
    assert [r async for r in reopened.responses(room.id)] == responses
    assert await reopened.aggregates(room.id) == aggregates
    assert (await reopened.vote(room.id, ballot("carol", "a"))).status == "saved"


async def test_a_closed_store_refuses_work_clearly(backend: Backend) -> None:
    store = await backend.open_store()
    await store.close()

    with pytest.raises(StoreError, match="not open"):
        await store.room("any")


# Presence ------------------------------------------------------------------------------


async def test_presence_sums_live_processes_and_forgets_silent_ones(backend: Backend) -> None:
    one = await backend.open_store()
    two = await backend.open_store()
    room = await new_room(one)

    async with one.subscribe(room.id) as changes:
        await one.set_presence(room.id, "worker-1", 3)
        await next_version(changes, room.version)  # a changed total signals
        await two.set_presence(room.id, "worker-2", 4)
        assert await one.presence(room.id) == 7
        assert await two.presence(room.id) == 7

    backend.clock.advance(20)
    await one.set_presence(room.id, "worker-1", 5)
    backend.clock.advance(15)  # worker-2 silent for 35 s, longer than PRESENCE_TTL

    assert await one.presence(room.id) == 5
    assert await two.presence(room.id) == 5


# Operators' figures ---------------------------------------------------------------------


async def test_every_worker_reads_every_live_workers_metrics(backend: Backend) -> None:
    one = await backend.open_store()
    two = await backend.open_store()
    assert await one.metrics_reports() == {}

    await one.report_metrics("worker-1", {"votes_last_minute": 3, "phones": {"r1": 2}})
    await two.report_metrics("worker-2", {"votes_last_minute": 5, "phones": {}})
    await one.report_metrics("worker-1", {"votes_last_minute": 4, "phones": {"r1": 1}})

    expected = {
        "worker-1": {"votes_last_minute": 4, "phones": {"r1": 1}},
        "worker-2": {"votes_last_minute": 5, "phones": {}},
    }
    assert await one.metrics_reports() == expected
    assert await two.metrics_reports() == expected

    backend.clock.advance(20)
    await one.report_metrics("worker-1", {"votes_last_minute": 0, "phones": {}})
    backend.clock.advance(15)  # worker-2 silent for 35 s, longer than METRICS_TTL

    assert await two.metrics_reports() == {"worker-1": {"votes_last_minute": 0, "phones": {}}}


# Facilitator sign-ins -------------------------------------------------------------------


async def test_a_sign_out_moves_the_console_epoch_for_every_worker(backend: Backend) -> None:
    one = await backend.open_store()
    two = await backend.open_store()
    assert await one.console_epoch() == 0 and await two.console_epoch() == 0
    assert await one.end_console_sessions() == 1
    assert await two.console_epoch() == 1
    assert await two.end_console_sessions() == 2
    assert await one.console_epoch() == 2


# Who joined ---------------------------------------------------------------------------


async def test_joined_counts_each_participant_once_and_signals_a_newcomer(
    backend: Backend,
) -> None:
    one = await backend.open_store()
    two = await backend.open_store()
    room = await new_room(one)
    other = await new_room(one)

    async with one.subscribe(room.id) as changes:
        assert await one.join(room.id, "alice") is True
        version = await next_version(changes, room.version)  # "N joined" moves on screen
    assert await two.join(room.id, "alice") is False  # again, or through another process
    assert await two.join(room.id, "bob") is True
    for _ in range(5):
        await one.join(room.id, "bob")  # a phone that reloads, or opens many sockets

    assert await one.joined(room.id) == 2
    assert await two.joined(room.id) == 2
    assert await one.joined(other.id) == 0
    assert (await one.room(room.id)).version > version
    with pytest.raises(RoomNotFound):
        await one.join("no-such-room", "alice")


# The end --------------------------------------------------------------------------------


async def test_an_ended_room_stays_findable_by_its_code_until_the_code_is_taken_again(
    store: Store,
) -> None:
    room = await new_room(store, "4440010")
    assert await store.ended_room_by_code("4440010") is None  # still running

    await store.update(room.id, RoomPatch(end=True))

    assert await store.room_by_code("4440010") is None
    ended = await store.ended_room_by_code("4440010")
    assert ended is not None and ended.id == room.id and ended.ended
    assert await store.ended_room_by_code("4440011") is None

    again = await new_room(store, "4440010")  # the code is free for a new run
    assert (await store.room_by_code("4440010")) == again
    await store.update(again.id, RoomPatch(end=True))
    last = await store.ended_room_by_code("4440010")
    assert last is not None and last.id == again.id  # the run that ended last

    await store.purge(datetime.now(UTC) + timedelta(seconds=1))
    assert await store.ended_room_by_code("4440010") is None


# Housekeeping -----------------------------------------------------------------------------


async def test_purge_deletes_rooms_that_ended_before_the_cutoff(store: Store) -> None:
    old = await new_room(store, "4440001")
    await open_question(store, old.id)
    await store.vote(old.id, ballot("alice", "yes", text="bye"))
    await store.update(old.id, RoomPatch(end=True))
    running = await new_room(store, "4440002")

    nothing = await store.purge(datetime.now(UTC) - timedelta(hours=1))
    purged = await store.purge(datetime.now(UTC) + timedelta(seconds=1))

    assert nothing == [] and purged == [old.id]
    with pytest.raises(RoomNotFound):
        await store.room(old.id)
    with pytest.raises(RoomNotFound):
        await store.aggregates(old.id)
    assert [room.id for room in await store.rooms()] == [running.id]
    assert (await new_room(store, "4440001")).code == "4440001"


async def test_purge_leaves_nothing_of_the_room_behind(backend: Backend) -> None:
    store = await backend.open_store()
    room = await new_room(store, "4440003")
    await open_question(store, room.id)
    await store.vote(room.id, ballot("alice", "yes", text="x"))
    await store.set_results_link(room.id, results_link("purged"))
    await store.set_presence(room.id, "w", 1)
    await store.join(room.id, "alice")
    await store.update(room.id, RoomPatch(end=True))
    assert await backend.leftovers(room.id), "the check sees nothing even before the purge"

    await store.purge(datetime.now(UTC) + timedelta(seconds=1))

    assert await backend.leftovers(room.id) == []
    assert await store.presence(room.id) == 0


# Results links -----------------------------------------------------------------------------


def results_link(
    digest: str, *, expires: datetime | None = None, in_room: bool = False
) -> ResultsLink:
    return ResultsLink(
        digest=digest,
        nonce=f"nonce-{digest}",
        created_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        expires_at=expires,
        in_room=in_room,
    )


async def test_a_results_link_is_found_by_its_digest_until_revoked(backend: Backend) -> None:
    store = await backend.open_store()
    other_worker = await backend.open_store()
    room = await new_room(store)
    assert await store.results_link(room.id) is None
    until = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    before = (await store.room(room.id)).version

    await store.set_results_link(room.id, results_link("aa11", expires=until, in_room=True))

    assert (await store.room(room.id)).version > before  # the screens show it
    assert await other_worker.room_of_results_link("aa11") == room.id
    assert await other_worker.results_link(room.id) == results_link(
        "aa11", expires=until, in_room=True
    )
    assert await store.room_of_results_link("bb22") is None

    # A new link replaces the old one, which stops working at once.
    await store.set_results_link(room.id, results_link("cc33"))
    assert await other_worker.room_of_results_link("aa11") is None
    assert await other_worker.room_of_results_link("cc33") == room.id
    assert (await store.results_link(room.id)) == results_link("cc33")

    # Revoked: nothing finds it any more.
    await store.set_results_link(room.id, None)
    assert await other_worker.room_of_results_link("cc33") is None
    assert await store.results_link(room.id) is None


async def test_results_links_of_two_rooms_stay_apart(store: Store) -> None:
    first, second = await new_room(store), await new_room(store)
    await store.set_results_link(first.id, results_link("f1"))
    await store.set_results_link(second.id, results_link("s2"))
    await store.set_results_link(first.id, None)

    assert await store.room_of_results_link("f1") is None
    assert await store.room_of_results_link("s2") == second.id
    with pytest.raises(RoomNotFound):
        await store.set_results_link("no-such-room", results_link("x9"))
    assert await store.room_of_results_link("x9") is None


async def test_health_reports_the_kind_and_ok(store: Store) -> None:
    health = await store.health()

    assert health["kind"] == store.kind and health["ok"] is True


# Opening stores ----------------------------------------------------------------------------


async def test_an_unreachable_redis_fails_fast_with_a_clear_message() -> None:
    store = RedisStore("redis://127.0.0.1:1/0")

    with pytest.raises(
        StoreError, match=r"cannot reach Redis at redis://127\.0\.0\.1:1/0: connection refused"
    ):
        await store.open()
    health = await store.health()

    assert health["ok"] is False and health["kind"] == "redis"


async def test_store_urls_choose_the_store_and_create_directories(tmp_path: object) -> None:
    path = f"{tmp_path}/deep/er/poll.db"
    store = open_store(f"sqlite:///{path}")
    assert isinstance(store, SqliteStore) and store.kind == "sqlite"
    await store.open()
    try:
        assert (await store.health())["ok"] is True
    finally:
        await store.close()
    assert isinstance(open_store("redis://localhost:6379/0"), RedisStore)
    with pytest.raises(StoreError, match="unknown store URL"):
        open_store("mysql://x")
    with pytest.raises(StoreError, match="bad SQLite store URL"):
        open_store("sqlite:relative.db")


# Toggles (upvotes), marks, names and deadlines ---------------------------------------------


async def test_a_toggle_adds_an_entry_and_the_same_answer_again_takes_it_back(store: Store) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    first = await store.vote(room.id, ballot("alice", "up:7", mode="toggle"))
    other = await store.vote(room.id, ballot("alice", "up:8", mode="toggle"))
    assert (first.status, other.status) == ("saved", "saved")
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"up:7": 1, "up:8": 1})}

    back = ballot("alice", "up:7", mode="toggle")
    assert (await store.vote(room.id, back)).status == "saved"
    # A retried toggle is the same submission: it does not toggle back again.
    assert (await store.vote(room.id, back)).status == "duplicate"
    assert tallies(await store.aggregates(room.id)) == {"q1": (1, {"up:8": 1})}
    mine = (await store.answers_of(room.id, "alice"))["q1"]
    assert [a.keys for a in mine] == [("up:8",)] and mine[0].ref

    await store.vote(room.id, ballot("alice", "up:8", mode="toggle"))
    # No entry left: she no longer counts as a respondent.
    assert await store.aggregates(room.id) == {}
    assert tallies(await store.aggregates(room.id)) == await recount(store, room.id)


async def test_the_append_limit_counts_texts_only_so_toggles_do_not_use_it_up(
    store: Store,
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    for n in range(3):
        await store.vote(room.id, ballot("alice", f"up:{n}", mode="toggle"))

    asked = [
        await store.vote(room.id, ballot("alice", text=f"q{n}", mode="append", max_entries=2))
        for n in range(3)
    ]

    assert [o.status for o in asked] == ["saved", "saved", "too_many"]
    aggregate = (await store.aggregates(room.id))["q1"]
    assert aggregate.respondents == 1 and [t.text for t in aggregate.texts] == ["q0", "q1"]


async def test_two_thousand_participants_toggle_at_once_and_the_counts_equal_a_recount(
    store: Store,
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    rng = random.Random(7)

    async def participant(n: int) -> dict[str, bool]:
        """Toggles each of two entries a random number of times; returns what she holds."""
        flips = {key: rng.randint(0, 3) for key in ("up:1", "up:2")}
        for key, times in flips.items():
            for _ in range(times):
                vote = ballot(f"p{n}", key, mode="toggle")
                # A flaky phone sends each toggle twice: counted once.
                outcomes = await asyncio.gather(
                    store.vote(room.id, vote), store.vote(room.id, vote)
                )
                assert sorted(o.status for o in outcomes) == ["duplicate", "saved"]
        return {key: times % 2 == 1 for key, times in flips.items()}

    held = await asyncio.gather(*(participant(n) for n in range(2000)))

    expected = {key: sum(h[key] for h in held) for key in ("up:1", "up:2")}
    holders = sum(1 for h in held if any(h.values()))
    aggregates = await store.aggregates(room.id)
    assert tallies(aggregates) == await recount(store, room.id)
    if holders:
        assert aggregates["q1"].respondents == holders
        assert {k: v for k, v in expected.items() if v} == dict(aggregates["q1"].counts)


async def test_marks_are_set_cleared_counted_with_the_question_and_reset_with_it(
    store: Store,
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    before = (await store.room(room.id)).version

    await store.set_mark(room.id, "q1", "hide:bike", "1")
    await store.set_mark(room.id, "q1", "pinned", "12")

    # Marks come with the aggregate even before anyone answered.
    assert (await store.aggregates(room.id))["q1"] == Aggregate(
        marks={"hide:bike": "1", "pinned": "12"}
    )
    assert (await store.room(room.id)).version == before + 2

    await store.vote(room.id, ballot("alice", "bike"))
    await store.set_mark(room.id, "q1", "pinned", None)
    aggregate = (await store.aggregates(room.id))["q1"]
    assert aggregate.marks == {"hide:bike": "1"} and aggregate.respondents == 1

    await store.reset_question(room.id, "q1")
    assert await store.aggregates(room.id) == {}
    with pytest.raises(RoomNotFound):
        await store.set_mark("no-such-room", "q1", "pinned", "1")


async def test_a_name_is_unique_in_the_room_and_a_participant_keeps_her_first(
    store: Store,
) -> None:
    room = await new_room(store)
    other = await new_room(store)

    assert await store.claim_name(room.id, "alice", "Anna", "anna") == "Anna"
    assert await store.claim_name(room.id, "bob", "ANNA", "anna") is None
    assert await store.claim_name(room.id, "alice", "Alice", "alice") == "Anna"
    assert await store.claim_name(room.id, "bob", "Bob", "bob") == "Bob"
    # Another room has names of its own.
    assert await store.claim_name(other.id, "carol", "Anna", "anna") == "Anna"

    assert await store.names(room.id) == {"alice": "Anna", "bob": "Bob"}
    assert (await store.room(room.id)).version == room.version
    with pytest.raises(RoomNotFound):
        await store.claim_name("no-such-room", "alice", "Anna", "anna")


async def test_of_many_participants_claiming_one_name_at_once_exactly_one_gets_it(
    store: Store,
) -> None:
    room = await new_room(store)

    names = await asyncio.gather(
        *(store.claim_name(room.id, f"p{n}", f"Kim {n}", "kim") for n in range(200))
    )

    winners = [name for name in names if name is not None]
    assert len(winners) == 1
    assert list((await store.names(room.id)).values()) == winners


async def test_opening_with_a_timer_sets_a_deadline_that_closing_clears(store: Store) -> None:
    room = await new_room(store)
    before = datetime.now(UTC)

    state = await store.update(
        room.id,
        RoomPatch(current=1, current_question="q1", statuses={"q1": "open"}, timers={"q1": 30}),
    )

    opened = state.opened_at["q1"]
    assert before - timedelta(seconds=1) <= opened <= datetime.now(UTC) + timedelta(seconds=1)
    assert state.deadlines == {"q1": opened + timedelta(seconds=30)}
    # Votes before the deadline are taken.
    assert (await store.vote(room.id, ballot("alice", "yes"))).status == "saved"

    closed = await store.update(room.id, RoomPatch(statuses={"q1": "closed"}))
    assert closed.deadlines == {} and closed.opened_at == {"q1": opened}
    reopened = await store.update(room.id, RoomPatch(statuses={"q1": "open"}))
    assert reopened.deadlines == {} and reopened.opened_at["q1"] >= opened


async def test_a_vote_after_the_deadline_is_refused_and_none_before_it(store: Store) -> None:
    """Phones vote while a short countdown runs out: every vote that returned before
    the deadline was taken, every vote sent after it refused, none stored after it."""
    room = await new_room(store)
    state = await store.update(
        room.id,
        RoomPatch(current=1, current_question="q1", statuses={"q1": "open"}, timers={"q1": 0.4}),
    )
    deadline = state.deadlines["q1"]

    async def participant(n: int) -> tuple[datetime, datetime, str]:
        await asyncio.sleep(n * 0.0004)  # spread over ±0.8 s around the deadline
        sent = datetime.now(UTC)
        outcome = await store.vote(room.id, ballot(f"p{n}", "yes"))
        return sent, datetime.now(UTC), outcome.status

    results = await asyncio.gather(*(participant(n) for n in range(2000)))

    assert {status for _, _, status in results} <= {"saved", "too_late"}
    assert all(status == "saved" for _, back, status in results if back < deadline)
    assert all(status == "too_late" for sent, _, status in results if sent >= deadline)
    stored = [r async for r in store.responses(room.id)]
    assert all(r.answered_at < deadline for r in stored)
    saved = sum(1 for _, _, status in results if status == "saved")
    assert len(stored) == saved
    assert tallies(await store.aggregates(room.id)) == await recount(store, room.id)


async def test_a_deadline_holds_for_a_second_store_on_the_same_data(backend: Backend) -> None:
    """Kept in the store: another process (or the same one after a restart) sees it."""
    first = await backend.open_store()
    room = await new_room(first)
    state = await first.update(
        room.id,
        RoomPatch(current=1, current_question="q1", statuses={"q1": "open"}, timers={"q1": 0.2}),
    )
    await first.close()
    backend.opened.remove(first)

    second = await backend.open_store()
    assert (await second.room(room.id)).deadlines == state.deadlines
    await asyncio.sleep(0.3)
    assert (await second.vote(room.id, ballot("alice", "yes"))).status == "too_late"
