"""What the presenter's console gets and the audience does not, on every store: the
facilitator's notes, the next item, the join screen she sets, and results she hides
whatever the question's default."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from poll.questions import REGISTRY
from poll.rooms import Room, Rooms
from poll.script import Script, ScriptError, load_script, parse_script, session_from_spec
from poll.store.base import Store

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Secret-note-marker"


@cache
def presenter_script() -> Script:
    return load_script(ROOT / "tests" / "fixtures" / "presenter.yaml")


@pytest.fixture
def rooms(store: Store) -> Rooms:
    return Rooms(store, presenter_script)


async def at(rooms: Rooms, item_id: str) -> Room:
    room = await rooms.create("townhall")
    await room.go(room.session.index_of(item_id))
    return room


def test_every_item_type_takes_notes_and_its_rooms_keep_them() -> None:
    every = (ROOT / "tests" / "fixtures" / "every_type.yaml").read_text()
    script = parse_script(every)
    session = next(iter(script.sessions.values()))
    assert {item.type_name for item in session.items} == set(REGISTRY), "a type is missing"
    lines = every.splitlines()
    # Give every item notes, indented like its other keys.
    noted: list[str] = []
    for line in lines:
        noted.append(line)
        if line.lstrip().startswith("- type:"):
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            noted.append(f"{indent}notes: |\n{indent}  Say *hello* to {SECRET}.")
    session = next(iter(parse_script("\n".join(noted)).sessions.values()))
    assert all(item.notes == f"Say *hello* to {SECRET}." for item in session.items)
    again = session_from_spec(session.to_spec())
    assert [item.notes for item in again.items] == [item.notes for item in session.items]
    # The audience's view of an item is an allow-list: notes are not in it.
    assert not [item.id for item in session.items if SECRET in json.dumps(item.client_view())]


def test_notes_must_be_text() -> None:
    script = """
sessions:
  s:
    title: S
    items:
      - type: slide
        title: A
        notes: [not, text]
"""
    with pytest.raises(ScriptError, match=r"items\[0\]\.notes"):
        parse_script(script)


async def test_only_the_console_gets_the_notes_and_the_next_item(rooms: Rooms) -> None:
    room = await at(rooms, "playground")
    data = await room.load()
    console = room.view(data, "console")
    assert SECRET in console["notes_html"] and "<em>yes</em>" in console["notes_html"]
    assert console["next"]["item"]["id"] == "budget"
    assert console["next"]["notes_html"].startswith("<p>Read the three options")
    for audience in ("projector", "participant"):
        view = room.view(data, audience)
        assert SECRET not in json.dumps(view), audience
        assert "notes_html" not in view and "next" not in view
    await room.go(len(room.session.items) - 1)
    assert (await room.snapshot("console"))["next"] is None


async def test_the_join_screen_is_the_rooms_until_the_next_move(rooms: Rooms) -> None:
    room = await rooms.create("townhall")
    assert (await room.snapshot("projector"))["join_screen"] is True  # automatic: first item
    await room.show_join_screen(False)
    assert (await room.snapshot("projector"))["join_screen"] is False
    assert (await room.snapshot("console"))["join_screen"] is False
    await room.next()
    assert (await room.snapshot("projector"))["join_screen"] is False  # automatic again
    await room.show_join_screen(True)
    assert (await room.snapshot("projector"))["join_screen"] is True
    await room.go(room.state.current)  # no move: it stays
    assert (await room.snapshot("projector"))["join_screen"] is True
    await room.previous()
    assert room.state.join_screen is None
    await room.end()
    assert (await room.snapshot("projector"))["join_screen"] is False
    assert "join_screen" not in await room.snapshot("participant")


async def test_hiding_a_live_questions_results_hides_them_everywhere_but_the_console(
    rooms: Rooms,
) -> None:
    room = await at(rooms, "playground")  # results: live
    await room.vote("p1", "playground", "s1", {"choice": "yes"})
    projector = await room.snapshot("projector")
    assert projector["results_on_projector"] and projector["results"] is not None
    assert (await room.snapshot("participant"))["results"] is None  # not shown to phones yet

    await room.show_results(shown=False)
    projector = await room.snapshot("projector")
    console = await room.snapshot("console")
    assert projector["results"] is None and not projector["results_on_projector"]
    assert not console["results_on_projector"] and console["results"] is not None
    assert not console["items"][room.state.current]["shown"]

    await room.show_results()
    projector = await room.snapshot("projector")
    phone = await room.snapshot("participant")
    assert projector["results_on_projector"] and projector["results"] is not None
    assert phone["results_shown"] and phone["results"] is not None


async def test_a_question_with_hidden_results_shows_them_once_shown(rooms: Rooms) -> None:
    room = await at(rooms, "ideas")  # results: hidden
    projector = await room.snapshot("projector")
    assert not projector["results_on_projector"] and projector["results"] is None
    await room.show_results()
    assert (await room.snapshot("projector"))["results_on_projector"]


async def test_after_the_end_nothing_reads_open_and_every_question_has_its_results(
    rooms: Rooms,
) -> None:
    room = await at(rooms, "playground")
    await room.vote("p1", "playground", "s1", {"choice": "yes"})
    await room.end()
    console = await room.snapshot("console")
    assert console["status"] == "closed" and console["ended_at"] is not None
    questions = [line for line in console["items"] if line["status"] is not None]
    assert [line["status"] for line in questions] == ["closed", "pending", "pending"]
    assert questions[0]["answers"] == 1 and questions[0]["results"]["respondents"] == 1
    assert all("results" in line and "item" in line for line in questions)
