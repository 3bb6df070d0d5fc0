"""The SQLite schema as it grows: a database written before a change gets it on open,
and its rooms read as before (no join screen set, no results hidden by the facilitator)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from poll.store.sqlite import SqliteStore, reads
from poll.store.sqlite.reads import room_state
from poll.store.sqlite.schema import SCHEMA, connect
from tests.store.test_store_contract import ballot, new_room, open_question

OLD_SCHEMA = """
CREATE TABLE rooms (
    id TEXT PRIMARY KEY, code TEXT NOT NULL, session_id TEXT NOT NULL,
    session_spec TEXT NOT NULL, created_at INTEGER NOT NULL, ended_at INTEGER,
    current INTEGER NOT NULL DEFAULT 0, current_question TEXT,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE questions (
    room_id TEXT NOT NULL, question_id TEXT NOT NULL, position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', shown INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, question_id)
) WITHOUT ROWID;
INSERT INTO rooms (id, code, session_id, session_spec, created_at, version)
    VALUES ('r1', '1234567', 's', '{}', 0, 3);
INSERT INTO questions (room_id, question_id, position, status, shown)
    VALUES ('r1', 'q1', 0, 'open', 1), ('r1', 'q2', 1, 'pending', 0);
CREATE TABLE joined (
    room_id TEXT NOT NULL, participant TEXT NOT NULL, PRIMARY KEY (room_id, participant)
) WITHOUT ROWID;
INSERT INTO joined (room_id, participant) VALUES ('r1', 'ann'), ('r1', 'bob'), ('r2', 'cy');
"""


def test_an_older_database_gains_the_new_columns_and_keeps_its_rooms(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()

    conn = connect(path)
    try:
        state = room_state(conn, "r1")
        # The head count, now kept beside the room, is counted once from who joined.
        joined = reads.joined(conn, "r1")
    finally:
        conn.close()

    assert joined == 2

    assert state.shown == {"q1"} and state.results_hidden == frozenset()
    assert state.join_screen is None and state.version == 3
    assert dict(state.questions) == {"q1": "open", "q2": "pending"}


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
