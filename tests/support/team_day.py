"""Runs of the sample session `team-day` (sessions.yaml: every question type), played
straight through `Room`, with answers a test chooses per run."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from poll.rooms import Room, Rooms
from poll.script import Script, load_script
from poll.store.base import Store

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sessions.yaml"
SESSION = "team-day"


def copy_sample(folder: Path, text: str | None = None) -> Path:
    """The sample script (or `text` in its place) in `folder`, with the files it names
    (the Dutch session's deck and logo, relative to it): a copy a test may edit."""
    shutil.copytree(ROOT / "examples", folder / "examples", dirs_exist_ok=True)
    path = folder / "sessions.yaml"
    path.write_text(SAMPLE.read_text(encoding="utf-8") if text is None else text, "utf-8")
    return path


#: Answers of a first run: per question, one raw answer per participant.
FIRST_RUN: dict[str, list[object]] = {
    "one-word": [
        {"words": ["calm"]},
        {"words": ["busy"]},
        {"words": ["calm"]},
        {"words": ["focused"]},
    ],
    "on-track": [{"choice": "yes"}, {"choice": "yes"}, {"choice": "yes"}, {"choice": "no"}],
    "best-part": [
        {"choices": ["planning"]},
        {"choices": ["planning"]},
        {"choices": ["pairing"]},
        {"choices": ["_other"], "other": '=HYPERLINK("http://evil","x")'},
    ],
    "how-it-felt": [
        {"ratings": {"our-workload-is-manageable": 2, "our-meetings-are-useful": 4}},
        {"ratings": {"our-workload-is-manageable": 3, "our-meetings-are-useful": 4}},
        {"ratings": {"our-workload-is-manageable": 4}},
        {"ratings": {"our-meetings-are-useful": 2}},
    ],
    "next-focus": [
        {"rank-1": "onboarding", "rank-2": "documentation", "rank-3": "test-automation"},
        {"rank-1": "test-automation", "rank-2": "onboarding", "rank-3": "documentation"},
    ],
    "one-change": [{"text": "+31 fewer meetings"}, {"text": "@SUM(A1)"}],
    "ask-the-lead": [{"text": "When is the next release?"}],
    "releases": [{"choice": "twelve", "nickname": "Ann"}, {"choice": "four", "nickname": "Bo"}],
    "coffee": [{"choice": "stroopwafels", "nickname": "Ann"}],
}

#: A second run: fewer yes, more pairing, other means.
SECOND_RUN: dict[str, list[object]] = {
    "on-track": [{"choice": "yes"}, {"choice": "no"}, {"choice": "no"}, {"choice": "no"}, {}],
    "best-part": [
        {"choices": ["pairing"]},
        {"choices": ["pairing"]},
        {"choices": ["planning"]},
        {"choices": ["demos"]},
        {"choices": ["demos"]},
    ],
    "how-it-felt": [
        {"ratings": {"our-workload-is-manageable": 5, "our-meetings-are-useful": 1}},
        {"ratings": {"our-workload-is-manageable": 4, "our-meetings-are-useful": 2}},
    ],
    "one-change": [{"text": "more demos"}],
}


def sample_script() -> Script:
    return load_script(SAMPLE)


async def play(
    store: Store,
    answers: Mapping[str, Sequence[object]],
    *,
    script: Script | None = None,
    rooms: Rooms | None = None,
) -> Room:
    """Start a run of team-day, open each question in turn and cast `answers`
    (participants p0, p1, ... in the order given; an empty answer is skipped), then
    end the run."""
    parsed = script or sample_script()
    rooms = rooms or Rooms(store, lambda: parsed)
    room = await rooms.create(SESSION)
    for index, item in enumerate(room.session.items):
        await room.go(index)
        for number, raw in enumerate(answers.get(item.id, ())):
            if raw:
                await room.vote(f"p{number}", item.id, f"s{index}x{number}", raw)
    await room.end()
    return room
