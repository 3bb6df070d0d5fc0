"""The SQLite schema as it grows: a database written before a change gets it on open."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from poll.store.sqlite import SqliteStore, reads
from poll.store.sqlite.schema import SCHEMA
from tests.store.test_store_contract import ballot, new_room, open_question


def _indexes(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    finally:
        db.close()


async def test_a_database_from_before_the_participant_index_gets_it_on_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "poll.db"
    store = SqliteStore(path)
    await store.open()
    try:
        room = await new_room(store)
        await open_question(store, room.id)
        await store.vote(room.id, ballot("alice", "yes"))
    finally:
        await store.close()
    db = sqlite3.connect(path)
    db.execute("DROP INDEX responses_of_participant")
    db.close()
    assert "responses_of_participant" not in _indexes(path)

    reopened = SqliteStore(path)
    await reopened.open()
    try:
        assert "responses_of_participant" in _indexes(path)
        mine = await reopened.answers_of(room.id, "alice")
        assert [a.keys for a in mine["q1"]] == [("yes",)]
    finally:
        await reopened.close()


def test_one_participants_answers_are_read_through_the_index_not_the_rooms_answers() -> None:
    """The plan, not a timing: a phone's answers never walk the room's other answers."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    db.execute(
        "INSERT INTO rooms (id, code, session_id, session_spec, created_at) VALUES (?,?,?,?,?)",
        ("room", "1234567", "demo", "{}", 0),
    )
    statements: list[str] = []
    db.set_trace_callback(statements.append)  # with the values bound
    reads.answers_of(db, "room", "alice")
    db.set_trace_callback(None)
    [query] = [sql for sql in statements if "FROM responses" in sql]
    plan = " ".join(str(row[3]) for row in db.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert "responses_of_participant (room_id=? AND participant=?)" in plan, plan
