"""The sample session (sessions.yaml's `team-day`, every item type) played with answers
from a few participants, for the report's tests: one run on any store, ended."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from poll.rooms import Room, Rooms
from poll.script import load_script
from poll.store.base import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "team-day"
#: Texts the facilitator hides during the run: never in a shared report.
HIDDEN_TEXT = "Fire the whole management team"
HIDDEN_WORD = "Awful"
HIDDEN_QUESTION = "Why is the lead always late?"
PENDING_QUESTION = "Can we get a second coffee machine?"


@dataclass(frozen=True)
class Played:
    rooms: Rooms
    room: Room


async def play_sample(store: Store) -> Played:
    """Run the sample session through every item with four phones and end it."""
    script = load_script(ROOT / "sessions.yaml")
    rooms = Rooms(store, lambda: script)
    room = await rooms.create(SAMPLE)
    session = room.session
    ann, bo, cy, dee = "phone-ann", "phone-bo", "phone-cy", "phone-dee"
    counter = iter(range(1, 10_000))

    async def vote(who: str, question: str, raw: object) -> None:
        await room.vote(who, question, f"s{next(counter)}", raw)

    async def at(item_id: str) -> None:
        await room.go(session.index_of(item_id))

    await at("one-word")
    await vote(ann, "one-word", {"words": ["Busy", "fun"]})
    await vote(bo, "one-word", {"words": ["busy", "Hectic"]})
    await vote(cy, "one-word", {"words": ["Busy!", HIDDEN_WORD]})
    await vote(dee, "one-word", {"words": ["calm"]})
    await room.mark("one-word", "hide:" + HIDDEN_WORD.casefold(), "1")

    await at("on-track")
    for who, choice in ((ann, "yes"), (bo, "yes"), (cy, "no")):
        await vote(who, "on-track", {"choice": choice})

    await at("best-part")
    await vote(ann, "best-part", {"choices": ["planning"]})
    await vote(bo, "best-part", {"choices": ["reviews"]})
    await vote(cy, "best-part", {"choices": ["reviews"]})
    await vote(dee, "best-part", {"choices": ["_other"], "other": "Lunch walks"})

    await at("how-it-felt")
    await vote(ann, "how-it-felt", {"ratings": {"our-workload-is-manageable": 4}})
    await vote(
        bo,
        "how-it-felt",
        {"ratings": {"our-workload-is-manageable": 2, "our-meetings-are-useful": 5}},
    )
    await vote(cy, "how-it-felt", {"ratings": {"our-workload-is-manageable": 5}})

    await at("next-focus")
    order = {"rank-1": "onboarding", "rank-2": "documentation", "rank-3": "test-automation"}
    await vote(ann, "next-focus", order)
    await vote(bo, "next-focus", order | {"rank-1": "documentation", "rank-2": "onboarding"})

    await at("one-change")
    await vote(ann, "one-change", {"text": "Fewer meetings on Monday"})
    await vote(bo, "one-change", {"text": HIDDEN_TEXT})
    await vote(bo, "one-change", {"text": "More pairing"})
    hidden = [r async for r in room.responses() if r.answer.text == HIDDEN_TEXT]
    await room.moderate("one-change", hidden[0].ref, True)

    await at("ask-the-lead")
    await vote(ann, "ask-the-lead", {"text": "When is the next team outing?", "name": "Ann"})
    await vote(bo, "ask-the-lead", {"text": HIDDEN_QUESTION})
    await vote(cy, "ask-the-lead", {"text": PENDING_QUESTION})
    refs = {r.answer.text: r.ref async for r in room.responses() if r.question_id == "ask-the-lead"}
    first = refs["When is the next team outing?\nAnn"]
    await room.mark("ask-the-lead", f"state:{first}", "approved")
    await room.mark("ask-the-lead", f"state:{refs[HIDDEN_QUESTION]}", "approved")
    await vote(bo, "ask-the-lead", {"up": first})
    await vote(cy, "ask-the-lead", {"up": first})
    await room.moderate("ask-the-lead", refs[HIDDEN_QUESTION], True)

    await at("releases")
    await vote(ann, "releases", {"choice": "twelve", "nickname": "Ann"})
    await vote(bo, "releases", {"choice": "seven", "nickname": "Bo"})
    await at("coffee")
    await vote(ann, "coffee", {"choice": "stroopwafels"})
    await vote(bo, "coffee", {"choice": "stroopwafels"})
    await room.show_results("coffee")

    await at("standings")
    await room.end()
    return Played(rooms, room)
