"""The tests' own session script (tests/fixtures/sessions.yaml) and where its items are.

Tests name items by id; these turn an id into the position a page or an action needs,
so that adding an item to the fixture renumbers nothing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from poll.script import Script, load_script

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "fixtures" / "sessions.yaml"
#: The Dutch session (slides, yes/no, open, every kind of choice) and the English one
#: (hidden results, allow_change: false).
DUTCH = "wijken"
ENGLISH = "retro"


@cache
def fixture_script() -> Script:
    return load_script(SCRIPT)


def index_of(item_id: str, session: str = DUTCH) -> int:
    """The item's index (from 0), as the console's `go` action takes it."""
    return fixture_script().sessions[session].index_of(item_id)


def number_of(item_id: str, session: str = DUTCH) -> int:
    """The item's number (from 1), as the console's list of items shows it."""
    return index_of(item_id, session) + 1


def item_count(session: str = DUTCH) -> int:
    return len(fixture_script().sessions[session].items)
