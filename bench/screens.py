"""What rendering the live screens on the server costs, per snapshot and per phone.

    python -m bench screens [--rounds N]

Phones and the projector show HTML that the server renders (poll/web/screens.py)
and sends with each snapshot; before, they got the data alone and built the
screen in JavaScript. This measures, on the sample session's yes/no, choice
and open questions with 1,000 answers each and results shown, the CPU time of
what the hub does per change of a room, with and without the screens:

- per snapshot and audience: building the view, rendering its screen, encoding;
- per phone: its `mine` message (its stage drawn for its answer; a cache hit
  after the first phone with the same answer) and its `ack`;

and the size of each message. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from poll import protocol
from poll.rooms import Audience, Room, RoomData, Rooms
from poll.script import load_script
from poll.store import open_store
from poll.web.screens import Screens

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = {"yesno": "herkennen", "choice": "met-wie", "open": "aanvullende-vragen"}
ANSWERS = {
    "yesno": {"choice": "yes"},
    "choice": {"choices": ["vakgenoten", "bewoners"]},
    "open": {"text": "Hoe betrekken we jongeren?"},
}


def per_call(work: Callable[[], object], rounds: int) -> float:
    """Microseconds of CPU per call, the best of three passes (the machine is noisy)."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        for _ in range(rounds):
            work()
        best = min(best, (time.process_time() - start) / rounds)
    return best * 1e6


async def prepared_room(store_dir: Path, question: str, answers: int) -> tuple[Room, RoomData]:
    script = load_script(ROOT / "sessions.yaml")
    store = open_store(f"sqlite:///{store_dir / 'poll.db'}")
    await store.open()
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("gemengde-wijken")
    await room.go(room.session.index_of(question))
    kind = next(k for k, q in QUESTIONS.items() if q == question)
    for n in range(answers):
        await room.vote(f"phone-{n}", question, f"s{n}", ANSWERS[kind])
    await room.show_results(question)
    data = await room.load()
    await store.close()
    return room, data


def measure(room: Room, data: RoomData, rounds: int) -> dict[str, Any]:
    screens = Screens()
    figures: dict[str, Any] = {}
    audiences: tuple[Audience, ...] = ("participant", "projector")
    for audience in audiences:
        view = room.view(data, audience)
        plain = protocol.encode(protocol.snapshot(view))
        drawn = protocol.encode(protocol.snapshot(view, **screens.snapshot_fields(view, audience)))

        def data_only(a: Audience = audience) -> str:
            return protocol.encode(protocol.snapshot(room.view(data, a)))

        def with_screen(a: Audience = audience) -> str:
            view = room.view(data, a)
            return protocol.encode(protocol.snapshot(view, **screens.snapshot_fields(view, a)))

        figures[audience] = {
            "data_only_us": per_call(data_only, rounds),
            "with_screen_us": per_call(with_screen, rounds),
            "bytes_data_only": len(plain.encode()),
            "bytes_with_screen": len(drawn.encode()),
        }
    view = room.view(data, "participant")
    question = view["item"]["id"]
    answer = [{"keys": ["yes"], "text": None}]
    screens.stage(view, answer)  # the first phone with this answer renders it

    def mine_plain() -> str:
        return protocol.encode(protocol.mine(question, answer, 1))

    def mine_drawn() -> str:
        stage = {"stage": protocol.stage_key(view), "html": screens.stage(view, answer)}
        return protocol.encode(protocol.mine(question, answer, 1, **stage))

    figures["phone_mine"] = {
        "data_only_us": per_call(mine_plain, rounds * 10),
        "with_stage_us": per_call(mine_drawn, rounds * 10),
        "bytes_data_only": len(mine_plain().encode()),
        "bytes_with_stage": len(mine_drawn().encode()),
    }

    def ack_drawn() -> str:
        # As poll/web/voting.py: drawn for the hub's newest participant view.
        stage = {"stage": protocol.stage_key(view), "html": screens.stage(view, answer)}
        return protocol.encode(protocol.ack("s", question, "saved", 1, answer, **stage))

    figures["phone_ack"] = {
        "data_only_us": per_call(
            lambda: protocol.encode(protocol.ack("s", question, "saved", 1, answer)), rounds * 10
        ),
        "with_stage_us": per_call(ack_drawn, rounds * 10),
    }
    return figures


async def run(rounds: int, answers: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for kind, question in QUESTIONS.items():
        with tempfile.TemporaryDirectory() as tmp:
            room, data = await prepared_room(Path(tmp), question, answers)
            results[kind] = measure(room, data, rounds)
    return results


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench screens", description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--answers", type=int, default=1000)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.rounds, args.answers))
    for kind, figures in results.items():
        for what, row in figures.items():
            cells = ", ".join(
                f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()
            )
            print(f"{kind:7} {what:12} {cells}")
    print(json.dumps(results))
    return 0
