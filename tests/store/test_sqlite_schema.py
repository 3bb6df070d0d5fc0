"""A database written before a column existed gets it on open, and its rooms read as
before: no join screen set, no results hidden by the facilitator."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from poll.store.sqlite.reads import room_state
from poll.store.sqlite.schema import connect

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
"""


def test_an_older_database_gains_the_new_columns_and_keeps_its_rooms(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.close()

    conn = connect(path)
    try:
        state = room_state(conn, "r1")
    finally:
        conn.close()

    assert state.shown == {"q1"} and state.results_hidden == frozenset()
    assert state.join_screen is None and state.version == 3
    assert dict(state.questions) == {"q1": "open", "q2": "pending"}
