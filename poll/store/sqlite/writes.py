"""The writes: each runs inside the writer process, in the batch's shared transaction.

Each is a module-level function called as `partial(fn, …)(tx)`, so that it
pickles across the pipe to the writer process. One must raise StoreError
(RoomNotFound, …) only before it writes: the batch commits what the others did
(see `batches.Batcher`). Each calls `tx.bump(room)` when it changed a room,
which bumps the version that subscribers are signalled with.
"""

from __future__ import annotations

import json
import sqlite3

from poll.store.base import (
    ResultsLink,
    RoomNotFound,
    RoomPatch,
    RoomState,
    StoreError,
    Vote,
    VoteOutcome,
)
from poll.store.sqlite.batches import Tx
from poll.store.sqlite.reads import require_room, room_state
from poll.store.sqlite.schema import ROOM_TABLES
from poll.store.timestamps import to_ms

#: Attempts at a free join code before giving up.
CODE_ATTEMPTS = 100


def add_counts(
    conn: sqlite3.Connection, room_id: str, question_id: str, keys: list[str], delta: int
) -> None:
    for key in keys:
        conn.execute(
            "INSERT INTO counters (room_id, question_id, key, count) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET count = count + excluded.count",
            (room_id, question_id, key, delta),
        )
    if delta < 0:
        # Keys nobody chose any more disappear, so the counters equal a recount.
        conn.execute(
            "DELETE FROM counters WHERE room_id = ? AND question_id = ? AND count <= 0",
            (room_id, question_id),
        )


def vote(tx: Tx, room_id: str, vote: Vote, answered_at: int) -> VoteOutcome:
    conn = tx.conn
    row = conn.execute(
        "SELECT r.ended_at, r.current_question, r.version, q.status, q.deadline,"
        " EXISTS (SELECT 1 FROM submissions s WHERE s.room_id = r.id AND s.participant = ?"
        " AND s.submission_id = ?)"
        " FROM rooms r LEFT JOIN questions q ON q.room_id = r.id AND q.question_id = ?"
        " WHERE r.id = ?",
        (vote.participant, vote.submission_id, vote.question_id, room_id),
    ).fetchone()
    if row is None:
        raise RoomNotFound(room_id)
    ended_at, current_question, version, status, deadline, seen = row
    if ended_at is not None:
        return VoteOutcome("room_ended", version)
    if current_question != vote.question_id:
        return VoteOutcome("not_current", version)
    if status != "open":
        return VoteOutcome("closed", version)
    if seen:
        return VoteOutcome("duplicate", version)
    if deadline is not None and answered_at >= deadline:
        return VoteOutcome("too_late", version)
    existing = conn.execute(
        "SELECT ref, keys, text FROM responses"
        " WHERE room_id = ? AND question_id = ? AND participant = ? ORDER BY ref",
        (room_id, vote.question_id, vote.participant),
    ).fetchall()
    keys = list(vote.answer.keys)
    if vote.mode == "toggle":
        same = [ref for ref, stored, _ in existing if json.loads(stored) == keys]
        if same:
            _remove(conn, room_id, vote, same[0], keys, last=len(existing) == 1)
            return VoteOutcome("saved", tx.bump(room_id))
    elif vote.mode == "replace" and existing:
        if not vote.allow_change:
            return VoteOutcome("no_change", version)
        for ref, stored, _ in existing:
            add_counts(conn, room_id, vote.question_id, json.loads(stored), -1)
            conn.execute("DELETE FROM responses WHERE ref = ?", (ref,))
    elif vote.mode == "append":
        texts = sum(1 for _, _, text in existing if text is not None)
        if texts >= vote.max_entries:
            return VoteOutcome("too_many", version)
    conn.execute(
        "INSERT INTO responses (room_id, question_id, participant, keys, text, answered_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            room_id,
            vote.question_id,
            vote.participant,
            json.dumps(keys),
            vote.answer.text,
            answered_at,
        ),
    )
    add_counts(conn, room_id, vote.question_id, keys, 1)
    if not existing:
        conn.execute(
            "INSERT INTO respondents (room_id, question_id, count) VALUES (?, ?, 1)"
            " ON CONFLICT DO UPDATE SET count = count + 1",
            (room_id, vote.question_id),
        )
    _seen(conn, room_id, vote)
    return VoteOutcome("saved", tx.bump(room_id))


def _remove(
    conn: sqlite3.Connection, room_id: str, vote: Vote, ref: int, keys: list[str], *, last: bool
) -> None:
    """Take back one toggled entry; the participant stops counting when it was their last."""
    conn.execute("DELETE FROM responses WHERE ref = ?", (ref,))
    add_counts(conn, room_id, vote.question_id, keys, -1)
    if last:
        conn.execute(
            "UPDATE respondents SET count = count - 1 WHERE room_id = ? AND question_id = ?",
            (room_id, vote.question_id),
        )
    _seen(conn, room_id, vote)


def _seen(conn: sqlite3.Connection, room_id: str, vote: Vote) -> None:
    conn.execute(
        "INSERT INTO submissions (room_id, participant, submission_id) VALUES (?, ?, ?)",
        (room_id, vote.participant, vote.submission_id),
    )


def create_room(
    tx: Tx,
    room_id: str,
    session_id: str,
    spec: str,
    question_ids: list[str],
    codes: tuple[str, ...],
    created_at: int,
) -> RoomState:
    conn = tx.conn
    for code in codes:
        try:
            conn.execute(
                "INSERT INTO rooms (id, code, session_id, session_spec, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (room_id, code, session_id, spec, created_at),
            )
        except sqlite3.IntegrityError:
            continue  # the code belongs to a room that has not ended
        break
    else:
        raise StoreError(
            f"found no free join code in {CODE_ATTEMPTS} attempts: end some rooms", retry=True
        )
    conn.executemany(
        "INSERT INTO questions (room_id, question_id, position) VALUES (?, ?, ?)",
        [(room_id, qid, position) for position, qid in enumerate(question_ids)],
    )
    tx.changed[room_id] = 0
    return room_state(conn, room_id)


def update(tx: Tx, room_id: str, patch: RoomPatch, now: int) -> RoomState:
    conn = tx.conn
    require_room(conn, room_id)
    known = {
        qid
        for (qid,) in conn.execute(
            "SELECT question_id FROM questions WHERE room_id = ?", (room_id,)
        )
    }
    unknown = (set(patch.statuses) | set(patch.shown)) - known
    if unknown:
        raise StoreError(f"room {room_id!r} has no question {sorted(unknown)[0]!r}", retry=False)
    if patch.current is not None:
        conn.execute(
            "UPDATE rooms SET current = ?, current_question = ? WHERE id = ?",
            (patch.current, patch.current_question, room_id),
        )
    for qid, status in patch.statuses.items():
        timer = patch.timers.get(qid) if status == "open" else None
        deadline = None if timer is None else now + round(timer * 1000)
        conn.execute(
            "UPDATE questions SET status = ?, deadline = ?,"
            " opened_at = CASE WHEN ? = 'open' THEN ? ELSE opened_at END"
            " WHERE room_id = ? AND question_id = ?",
            (status, deadline, status, now, room_id, qid),
        )
    for qid, shown in patch.shown.items():
        conn.execute(
            "UPDATE questions SET shown = ?, results_hidden = ?"
            " WHERE room_id = ? AND question_id = ?",
            (int(shown), int(not shown), room_id, qid),
        )
    if patch.join_screen is not None:
        setting = {"auto": None, "on": 1, "off": 0}[patch.join_screen]
        conn.execute("UPDATE rooms SET join_screen = ? WHERE id = ?", (setting, room_id))
    if patch.end:
        conn.execute(
            "UPDATE rooms SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (now, room_id)
        )
    tx.bump(room_id)
    return room_state(conn, room_id)


def reset_question(tx: Tx, room_id: str, question_id: str) -> RoomState:
    conn = tx.conn
    require_room(conn, room_id)
    for table in ("responses", "counters", "respondents", "marks"):
        conn.execute(
            f"DELETE FROM {table} WHERE room_id = ? AND question_id = ?", (room_id, question_id)
        )
    tx.bump(room_id)
    return room_state(conn, room_id)


def set_hidden(tx: Tx, room_id: str, question_id: str, ref: int, hidden: bool) -> bool:
    conn = tx.conn
    require_room(conn, room_id)
    cursor = conn.execute(
        "UPDATE responses SET hidden = ? WHERE ref = ? AND room_id = ? AND question_id = ?",
        (int(hidden), ref, room_id, question_id),
    )
    if cursor.rowcount == 0:
        return False
    tx.bump(room_id)
    return True


def set_mark(tx: Tx, room_id: str, question_id: str, key: str, value: str | None) -> None:
    conn = tx.conn
    require_room(conn, room_id)
    if value is None:
        conn.execute(
            "DELETE FROM marks WHERE room_id = ? AND question_id = ? AND key = ?",
            (room_id, question_id, key),
        )
    else:
        conn.execute(
            "INSERT INTO marks (room_id, question_id, key, value) VALUES (?, ?, ?, ?)"
            " ON CONFLICT DO UPDATE SET value = excluded.value",
            (room_id, question_id, key, value),
        )
    tx.bump(room_id)


def set_results_link(tx: Tx, room_id: str, link: ResultsLink | None) -> None:
    conn = tx.conn
    require_room(conn, room_id)
    conn.execute("DELETE FROM results_links WHERE room_id = ?", (room_id,))
    if link is not None:
        conn.execute(
            "INSERT INTO results_links (room_id, digest, nonce, created_at, expires_at, in_room)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                room_id,
                link.digest,
                link.nonce,
                to_ms(link.created_at),
                None if link.expires_at is None else to_ms(link.expires_at),
                int(link.in_room),
            ),
        )
    tx.bump(room_id)


def claim_name(tx: Tx, room_id: str, participant: str, name: str, key: str) -> str | None:
    conn = tx.conn
    require_room(conn, room_id)
    row = conn.execute(
        "SELECT name FROM names WHERE room_id = ? AND participant = ?", (room_id, participant)
    ).fetchone()
    if row is not None:
        return str(row[0])
    taken = conn.execute(
        "SELECT 1 FROM names WHERE room_id = ? AND key = ?", (room_id, key)
    ).fetchone()
    if taken is not None:
        return None
    conn.execute(
        "INSERT INTO names (room_id, participant, name, key) VALUES (?, ?, ?, ?)",
        (room_id, participant, name, key),
    )
    return name


def join(tx: Tx, room_id: str, participant: str) -> bool:
    conn = tx.conn
    require_room(conn, room_id)
    added = conn.execute(
        "INSERT OR IGNORE INTO joined (room_id, participant) VALUES (?, ?)", (room_id, participant)
    ).rowcount
    if added:
        conn.execute("UPDATE rooms SET joined_count = joined_count + 1 WHERE id = ?", (room_id,))
        tx.bump(room_id)
    return bool(added)


def purge(tx: Tx, ended_before: int) -> list[str]:
    conn = tx.conn
    ids = [
        room_id
        for (room_id,) in conn.execute(
            "SELECT id FROM rooms WHERE ended_at IS NOT NULL AND ended_at < ?", (ended_before,)
        )
    ]
    for room_id in ids:
        for table in ROOM_TABLES:
            conn.execute(f"DELETE FROM {table} WHERE room_id = ?", (room_id,))
        conn.execute("DELETE FROM rooms WHERE id = ?", (room_id,))
    return ids


def bump_global_counter(tx: Tx, name: str) -> int:
    tx.conn.execute(
        "INSERT INTO counters_global (name, value) VALUES (?, 1)"
        " ON CONFLICT DO UPDATE SET value = value + 1",
        (name,),
    )
    row = tx.conn.execute("SELECT value FROM counters_global WHERE name = ?", (name,)).fetchone()
    return int(row[0])
