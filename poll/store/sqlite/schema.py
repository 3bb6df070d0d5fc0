"""The SQLite schema, and the connection the writer process keeps to it.

Every table but `rooms` carries `room_id` (`ROOM_TABLES`), so purging a room
is one DELETE per table. Times are UTC milliseconds. `CREATE … IF NOT EXISTS`
throughout: opening an existing database changes nothing in it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    session_id TEXT NOT NULL,
    session_spec TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    current INTEGER NOT NULL DEFAULT 0,
    current_question TEXT,
    version INTEGER NOT NULL DEFAULT 0,
    join_screen INTEGER,
    joined_count INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS rooms_live_code ON rooms(code) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS questions (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    shown INTEGER NOT NULL DEFAULT 0,
    opened_at INTEGER,
    deadline INTEGER,
    results_hidden INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS responses (
    ref INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    participant TEXT NOT NULL,
    keys TEXT NOT NULL,
    text TEXT,
    answered_at INTEGER NOT NULL,
    hidden INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS responses_by_participant
    ON responses(room_id, question_id, participant);
CREATE INDEX IF NOT EXISTS responses_by_room ON responses(room_id, ref);
-- A phone's own answers (on every connect and sync); added later: a database written
-- before it gets it on open, like every `IF NOT EXISTS` here.
CREATE INDEX IF NOT EXISTS responses_of_participant
    ON responses(room_id, participant, question_id);
CREATE TABLE IF NOT EXISTS submissions (
    room_id TEXT NOT NULL,
    participant TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    PRIMARY KEY (room_id, participant, submission_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (room_id, question_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS marks (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (room_id, question_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names (
    room_id TEXT NOT NULL,
    participant TEXT NOT NULL,
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (room_id, participant)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS names_by_key ON names(room_id, key);
CREATE TABLE IF NOT EXISTS joined (
    room_id TEXT NOT NULL,
    participant TEXT NOT NULL,
    PRIMARY KEY (room_id, participant)
) WITHOUT ROWID;
-- Installation-wide counters, e.g. the generation of facilitator sign-ins.
CREATE TABLE IF NOT EXISTS counters_global (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS results_links (
    room_id TEXT PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    nonce TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    in_room INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS respondents (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (room_id, question_id)
) WITHOUT ROWID;
"""

ROOM_TABLES = (
    "questions",
    "responses",
    "submissions",
    "counters",
    "respondents",
    "marks",
    "names",
    "joined",
    "results_links",
)

#: Columns added since the first schema: (table, column, declaration). A database
#: written by an earlier version gets them on open (CREATE … IF NOT EXISTS leaves
#: an existing table as it was).
ADDED_COLUMNS = (
    ("questions", "opened_at", "INTEGER"),
    ("questions", "deadline", "INTEGER"),
    ("questions", "results_hidden", "INTEGER NOT NULL DEFAULT 0"),
    ("rooms", "join_screen", "INTEGER"),
    ("rooms", "joined_count", "INTEGER NOT NULL DEFAULT 0"),
)

#: What fills a column added to a database that already holds rooms.
BACKFILLS = {
    # The rows of `joined`, counted once: every snapshot reads the count.
    ("rooms", "joined_count"): "UPDATE rooms SET joined_count ="
    " (SELECT COUNT(*) FROM joined WHERE joined.room_id = rooms.id)",
}


def _add_columns(conn: sqlite3.Connection) -> None:
    for table, column, declaration in ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
            backfill = BACKFILLS.get((table, column))
            if backfill is not None:
                conn.execute(backfill)


#: The writer's `PRAGMA synchronous`: what a commit (and so a vote's ack) survives.
SYNCHRONOUS = ("FULL", "NORMAL")


def connect(path: Path, synchronous: str = "FULL") -> sqlite3.Connection:
    """The writer's connection. `synchronous` is FULL in poll; NORMAL only for
    the durability bench, which measures what FULL costs (docs/durability.md)."""
    if synchronous not in SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS}, not {synchronous!r}")
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # A vote is acknowledged once its batch's transaction has committed, so
        # the commit must survive what the phone was told it survives. In WAL
        # mode NORMAL writes each commit to the WAL file but syncs it only at a
        # checkpoint: a killed process loses nothing, but an OS crash or a power
        # cut can lose the last commits, acknowledged votes among them. FULL
        # syncs the WAL at every commit; the writer commits one batch of votes
        # at a time, so the fsync is shared by every vote of a busy moment.
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
        _add_columns(conn)
    except BaseException:
        conn.close()
        raise
    return conn
