"""The embedded store: one SQLite file, one server process.

Writes go through one writer process (see "Writer process" below) that takes
every operation waiting in its pipe, runs them in one transaction and commits
once, so a burst of votes costs one commit rather than one each; each caller's
future is resolved only after that commit. Reads use their own connection in a
worker thread (WAL lets them run beside the writer). Change signals and
presence live in a process-level hub of the server keyed by the database file,
so two store objects on one file (two "workers" in a test) see each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import json
import multiprocessing
import pickle
import signal
import sqlite3
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, TypeVar

from poll.answers import Aggregate, Answer, TextEntry
from poll.store._shared import Signals, from_ms, now_ms, to_ms
from poll.store.base import (
    PRESENCE_TTL,
    QuestionStatus,
    Response,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)

T = TypeVar("T")

#: Upper bound of operations in one transaction: keeps a commit's latency bounded.
MAX_BATCH = 2000
#: Bytes the pipe to the writer process holds before a sender waits (Linux only).
PIPE_SIZE = 1 << 20
#: Responses fetched per read while exporting.
EXPORT_CHUNK = 500
#: Attempts at a free join code before giving up.
CODE_ATTEMPTS = 100

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
    version INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS rooms_live_code ON rooms(code) WHERE ended_at IS NULL;
CREATE TABLE IF NOT EXISTS questions (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    shown INTEGER NOT NULL DEFAULT 0,
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
CREATE TABLE IF NOT EXISTS respondents (
    room_id TEXT NOT NULL,
    question_id TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (room_id, question_id)
) WITHOUT ROWID;
"""

ROOM_TABLES = ("questions", "responses", "submissions", "counters", "respondents")


# Process-level hub ------------------------------------------------------------


class _Hub:
    """Signals and presence shared by every SqliteStore of this process, per file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[tuple[str, str], set[Signals]] = {}
        self._presence: dict[tuple[str, str], dict[str, tuple[int, float]]] = {}

    def add(self, key: tuple[str, str], sub: Signals) -> None:
        with self._lock:
            self._subs.setdefault(key, set()).add(sub)

    def remove(self, key: tuple[str, str], sub: Signals) -> None:
        with self._lock:
            subs = self._subs.get(key)
            if subs is not None:
                subs.discard(sub)
                if not subs:
                    del self._subs[key]

    def signal(self, path: str, changed: Mapping[str, int]) -> None:
        """Deliver versions to subscribers; callable from any thread."""
        with self._lock:
            targets = [
                (sub, version)
                for room_id, version in changed.items()
                for sub in self._subs.get((path, room_id), ())
            ]
        for sub, version in targets:
            sub.put_threadsafe(version)

    def set_presence(
        self, key: tuple[str, str], process_id: str, count: int, now: float, ttl: float
    ) -> bool:
        """Record a report; True when the live total changed."""
        with self._lock:
            entries = self._presence.setdefault(key, {})
            before = _live_total(entries, now, ttl)
            entries[process_id] = (count, now)
            for pid, (_, seen) in list(entries.items()):
                if seen < now - ttl:
                    del entries[pid]
            return _live_total(entries, now, ttl) != before

    def presence(self, key: tuple[str, str], now: float, ttl: float) -> int:
        with self._lock:
            return _live_total(self._presence.get(key, {}), now, ttl)

    def count(self, path: str) -> int:
        with self._lock:
            return sum(len(subs) for (key, _), subs in self._subs.items() if key == path)

    def forget_room(self, path: str, room_id: str) -> None:
        with self._lock:
            self._presence.pop((path, room_id), None)


def _live_total(entries: Mapping[str, tuple[int, float]], now: float, ttl: float) -> int:
    return sum(count for count, seen in entries.values() if seen >= now - ttl)


_HUB = _Hub()


# Writer process -----------------------------------------------------------------
#
# The write connection lives in a child process (spawned: the server has threads,
# so no fork), out of reach of the server's GIL: in a thread, the writer waited for
# the GIL after each of a vote's statements while the event loop served thousands
# of websockets. Operations go to the child as (op_id, partial of a module-level
# function) over one pipe; the child takes every operation waiting (up to
# MAX_BATCH), runs them in one transaction, commits, and sends ONE reply per batch:
# [(op_id, result, error), …] and the versions of the rooms it changed. A reader
# thread of the server raises the change signals (the hub lives in the server) and
# resolves the callers' futures, one event-loop wake-up per batch.
#
# If the child dies (killed), every operation in flight fails with
# StoreError(retry=True) and the next write starts a new child.


@dataclass
class _Tx:
    """What one operation sees inside the shared transaction."""

    conn: sqlite3.Connection
    changed: dict[str, int] = field(default_factory=dict)

    def bump(self, room_id: str) -> int:
        row = self.conn.execute(
            "UPDATE rooms SET version = version + 1 WHERE id = ? RETURNING version", (room_id,)
        ).fetchone()
        if row is None:
            raise RoomNotFound(room_id)
        version = int(row[0])
        self.changed[room_id] = version
        return version


@dataclass
class _Op:
    """One operation inside the writer process."""

    id: int
    fn: Callable[[_Tx], Any]
    result: Any = None
    error: Exception | None = None


#: What the child sends per batch: (op_id, result, error) each, and changed versions.
_Reply = tuple[list[tuple[int, Any, Exception | None]], dict[str, int]]


class _Writer:
    """Server side of the writer process: sends operations, resolves futures."""

    def __init__(self, path: Path, key: str) -> None:
        """Start the process and wait until the schema is ready (blocking)."""
        self._key = key
        self._lock = threading.Lock()  # guards _pending and alive
        self._send_lock = threading.Lock()  # one message at a time on the pipe
        self._pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self._ids = itertools.count()
        self._outbox: list[tuple[int, Callable[[_Tx], Any]]] = []  # not sent yet
        self.alive = True
        context = multiprocessing.get_context("spawn")
        child_requests, self._requests = context.Pipe(duplex=False)  # (reading, writing) ends
        self._replies, child_replies = context.Pipe(duplex=False)
        with contextlib.suppress(AttributeError, OSError):  # Linux: room for a burst
            fcntl.fcntl(self._requests.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._process = context.Process(
            target=_writer_process,
            args=(str(path), key, child_requests, child_replies),
            name=f"poll sqlite writer {key}",
            daemon=True,
        )
        try:
            self._process.start()
        finally:
            child_requests.close()
            child_replies.close()
        try:
            failure = self._replies.recv()  # None once the schema is ready
        except (EOFError, OSError):
            self._process.join(5)
            failure = f"the writer process exited with code {self._process.exitcode}"
        if failure is not None:
            self._shut()
            raise _OpenFailed(failure)
        self._thread = threading.Thread(
            target=self._read_replies, name=f"sqlite-replies {key}", daemon=True
        )
        self._thread.start()

    def submit(self, fn: Callable[[_Tx], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        op_id = next(self._ids)
        with self._lock:
            if not self.alive:
                raise StoreError(f"the SQLite writer for {self._key} stopped: try again")
            self._pending[op_id] = (loop, future)
            self._outbox.append((op_id, fn))
            first = len(self._outbox) == 1
        if first:
            # Operations made while the event loop turns go in one message.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        """Send the operations waiting in the outbox as one message (any thread)."""
        with self._send_lock:
            with self._lock:
                ops, self._outbox = self._outbox, []
            if ops:
                self._send(ops)

    def _send(self, ops: list[tuple[int, Callable[[_Tx], Any]]]) -> None:
        try:
            data = ForkingPickler.dumps(ops)
        except Exception:  # an unpicklable operation (a bug): fail it alone
            sendable = []
            for op in ops:
                try:
                    ForkingPickler.dumps(op)
                except Exception as error:
                    self._fail([op[0]], error)
                else:
                    sendable.append(op)
            data = ForkingPickler.dumps(sendable)
        try:
            self._requests.send_bytes(data)
        except OSError as error:
            self._fail(
                [op_id for op_id, _ in ops], StoreError(f"the SQLite writer stopped: {error}")
            )

    def _fail(self, op_ids: list[int], error: Exception) -> None:
        with self._lock:
            waiters = [self._pending.pop(op_id, None) for op_id in op_ids]
        _wake([(waiter, None, error) for waiter in waiters if waiter])

    def pending(self) -> int:
        return len(self._pending)

    def stop(self) -> None:
        """Finish every operation submitted, then end the process and the reader (blocking)."""
        self._flush()
        with contextlib.suppress(OSError), self._send_lock:
            self._requests.send(None)
        self._thread.join()
        self._shut()

    def _shut(self) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._requests.close()
        self._replies.close()

    def _read_replies(self) -> None:
        while True:
            try:
                results, changed = self._replies.recv()
            except (EOFError, OSError):
                break  # the process ended (stop(), or killed)
            except Exception:  # an undecodable reply: its callers cannot be told apart
                self._process.kill()
                break
            if changed:
                _HUB.signal(self._key, changed)
            with self._lock:
                waiters = [
                    (self._pending.pop(op_id, None), result, error)
                    for op_id, result, error in results
                ]
            _wake([(waiter, result, error) for waiter, result, error in waiters if waiter])
        with self._lock:
            self.alive = False
            lost = list(self._pending.values())
            self._pending.clear()
        gone = StoreError(f"the SQLite writer for {self._key} stopped before saving: try again")
        _wake([(waiter, None, gone) for waiter in lost])


def _wake(
    done: list[tuple[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]], Any, Exception | None]],
) -> None:
    by_loop: dict[
        asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Exception | None]]
    ] = {}
    for (loop, future), result, error in done:
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, items in by_loop.items():
        # One wake-up of the event loop per batch, not one per vote.
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
    for future, result, error in items:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class _OpenFailed(Exception):
    """The writer process could not open the database; the message says why."""


def _writer_process(path: str, key: str, requests: Connection, replies: Connection) -> None:
    """The child: open the database, then batch operations until told to stop."""
    # Ctrl-C reaches the whole process group: let the server shut down and stop us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn = _connect(Path(path))
    except (sqlite3.Error, OSError) as error:
        replies.send(str(error))
        return
    try:
        replies.send(None)
        batcher = _Batcher(conn, key)
        waiting: deque[_Op] = deque()
        stop = False
        with contextlib.suppress(EOFError, OSError):  # the server went away: so do we
            while not stop or waiting:
                # Take every message waiting (block for one when there is nothing to do).
                while not stop and (not waiting or (len(waiting) < MAX_BATCH and requests.poll(0))):
                    ops = requests.recv()
                    if ops is None:
                        stop = True
                    else:
                        waiting.extend(_Op(op_id, fn) for op_id, fn in ops)
                batch = [waiting.popleft() for _ in range(min(len(waiting), MAX_BATCH))]
                if batch:
                    replies.send(batcher.execute(batch))
    finally:
        conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        # In WAL mode synchronous=NORMAL still writes every commit to the WAL
        # file before COMMIT returns, so a killed process (SIGKILL, crash) loses
        # nothing; only an OS crash or power cut can lose the last commits. That
        # trade buys far more commits per second than FULL's fsync per commit.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.executescript(SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


class _Batcher:
    """Runs a batch in one transaction, so that one failure fails only its own caller."""

    def __init__(self, conn: sqlite3.Connection, key: str) -> None:
        self._conn = conn
        self._key = key

    def execute(self, batch: list[_Op]) -> _Reply:
        changed: dict[str, int] = {}
        try:
            changed = self._transaction(batch)
        except _Unclean as unclean:
            if len(batch) == 1:
                batch[0].error = self._failure(unclean.error)
            else:
                # Undo was total: run each operation in a transaction of its own,
                # so that one failure fails only its own caller.
                for op in batch:
                    op.result = op.error = None
                    try:
                        changed.update(self._transaction([op]))
                    except _Unclean as alone:
                        op.error = self._failure(alone.error)
        return [(op.id, op.result, _sendable(op.error)) for op in batch], changed

    def _transaction(self, batch: list[_Op]) -> dict[str, int]:
        """Run the batch and commit once; the versions of the rooms it changed.

        Operations raise StoreError (RoomNotFound, …) only before they write, so
        such a refusal needs no savepoint (a savepoint per vote would cost two
        statements of the ten a vote takes). Any other error rolls the whole
        batch back and raises _Unclean.
        """
        conn = self._conn
        changed: dict[str, int] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                tx = _Tx(conn)
                try:
                    op.result = op.fn(tx)
                except StoreError as refusal:
                    op.error = refusal
                else:
                    changed.update(tx.changed)
            conn.execute("COMMIT")
        except Exception as error:
            if conn.in_transaction:
                conn.rollback()
            raise _Unclean(error) from error
        return changed

    def _failure(self, error: Exception) -> Exception:
        if isinstance(error, sqlite3.Error):
            return StoreError(f"SQLite database {self._key} could not save: {error}")
        return error


def _sendable(error: Exception | None) -> Exception | None:
    """The error itself if it survives the pipe, else a StoreError saying what it was.

    StoreError and its subclasses always do (see StoreError.__reduce__); anything
    else is a bug in an operation and rare enough to check by a round trip.
    """
    if error is None or isinstance(error, StoreError):
        return error
    try:
        pickle.loads(ForkingPickler.dumps(error))
    except Exception:
        return StoreError(f"{type(error).__name__}: {error}", retry=False)
    return error


class _Unclean(Exception):
    """An operation failed part way through; the transaction was rolled back."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


# Queries shared by reads and writes ------------------------------------------------


def _room_state(conn: sqlite3.Connection, room_id: str) -> RoomState:
    row = conn.execute(
        "SELECT id, code, session_id, created_at, ended_at, current, current_question, version"
        " FROM rooms WHERE id = ?",
        (room_id,),
    ).fetchone()
    if row is None:
        raise RoomNotFound(room_id)
    return _state_from(conn, row)


def _state_from(conn: sqlite3.Connection, row: tuple[Any, ...]) -> RoomState:
    room_id, code, session_id, created_at, ended_at, current, current_question, version = row
    questions: dict[str, QuestionStatus] = {}
    shown: set[str] = set()
    for question_id, status, is_shown in conn.execute(
        "SELECT question_id, status, shown FROM questions WHERE room_id = ? ORDER BY position",
        (room_id,),
    ):
        questions[question_id] = status
        if is_shown:
            shown.add(question_id)
    return RoomState(
        id=room_id,
        code=code,
        session_id=session_id,
        created_at=from_ms(created_at),
        ended_at=None if ended_at is None else from_ms(ended_at),
        current=current,
        current_question=current_question,
        questions=questions,
        shown=frozenset(shown),
        version=version,
    )


def _version(conn: sqlite3.Connection, room_id: str) -> int:
    row = conn.execute("SELECT version FROM rooms WHERE id = ?", (room_id,)).fetchone()
    if row is None:
        raise RoomNotFound(room_id)
    return int(row[0])


def _require_room(conn: sqlite3.Connection, room_id: str) -> None:
    if conn.execute("SELECT 1 FROM rooms WHERE id = ?", (room_id,)).fetchone() is None:
        raise RoomNotFound(room_id)


def _add_counts(
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


def _vote(tx: _Tx, room_id: str, vote: Vote, answered_at: int) -> VoteOutcome:
    conn = tx.conn
    row = conn.execute(
        "SELECT r.ended_at, r.current_question, r.version, q.status,"
        " EXISTS (SELECT 1 FROM submissions s WHERE s.room_id = r.id AND s.participant = ?"
        " AND s.submission_id = ?)"
        " FROM rooms r LEFT JOIN questions q ON q.room_id = r.id AND q.question_id = ?"
        " WHERE r.id = ?",
        (vote.participant, vote.submission_id, vote.question_id, room_id),
    ).fetchone()
    if row is None:
        raise RoomNotFound(room_id)
    ended_at, current_question, version, status, seen = row
    if ended_at is not None:
        return VoteOutcome("room_ended", version)
    if current_question != vote.question_id:
        return VoteOutcome("not_current", version)
    if status != "open":
        return VoteOutcome("closed", version)
    if seen:
        return VoteOutcome("duplicate", version)
    existing = conn.execute(
        "SELECT ref, keys FROM responses"
        " WHERE room_id = ? AND question_id = ? AND participant = ? ORDER BY ref",
        (room_id, vote.question_id, vote.participant),
    ).fetchall()
    if vote.mode == "replace" and existing:
        if not vote.allow_change:
            return VoteOutcome("no_change", version)
        for ref, keys in existing:
            _add_counts(conn, room_id, vote.question_id, json.loads(keys), -1)
            conn.execute("DELETE FROM responses WHERE ref = ?", (ref,))
    elif vote.mode == "append" and len(existing) >= vote.max_entries:
        return VoteOutcome("too_many", version)
    keys = list(vote.answer.keys)
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
    _add_counts(conn, room_id, vote.question_id, keys, 1)
    if not existing:
        conn.execute(
            "INSERT INTO respondents (room_id, question_id, count) VALUES (?, ?, 1)"
            " ON CONFLICT DO UPDATE SET count = count + 1",
            (room_id, vote.question_id),
        )
    conn.execute(
        "INSERT INTO submissions (room_id, participant, submission_id) VALUES (?, ?, ?)",
        (room_id, vote.participant, vote.submission_id),
    )
    return VoteOutcome("saved", tx.bump(room_id))


def _create_room(
    tx: _Tx,
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
    return _room_state(conn, room_id)


def _update(tx: _Tx, room_id: str, patch: RoomPatch, now: int) -> RoomState:
    conn = tx.conn
    _require_room(conn, room_id)
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
        conn.execute(
            "UPDATE questions SET status = ? WHERE room_id = ? AND question_id = ?",
            (status, room_id, qid),
        )
    for qid, shown in patch.shown.items():
        conn.execute(
            "UPDATE questions SET shown = ? WHERE room_id = ? AND question_id = ?",
            (int(shown), room_id, qid),
        )
    if patch.end:
        conn.execute(
            "UPDATE rooms SET ended_at = ? WHERE id = ? AND ended_at IS NULL", (now, room_id)
        )
    tx.bump(room_id)
    return _room_state(conn, room_id)


def _reset_question(tx: _Tx, room_id: str, question_id: str) -> RoomState:
    conn = tx.conn
    _require_room(conn, room_id)
    for table in ("responses", "counters", "respondents"):
        conn.execute(
            f"DELETE FROM {table} WHERE room_id = ? AND question_id = ?", (room_id, question_id)
        )
    tx.bump(room_id)
    return _room_state(conn, room_id)


def _set_hidden(tx: _Tx, room_id: str, question_id: str, ref: int, hidden: bool) -> bool:
    conn = tx.conn
    _require_room(conn, room_id)
    cursor = conn.execute(
        "UPDATE responses SET hidden = ? WHERE ref = ? AND room_id = ? AND question_id = ?",
        (int(hidden), ref, room_id, question_id),
    )
    if cursor.rowcount == 0:
        return False
    tx.bump(room_id)
    return True


def _purge(tx: _Tx, ended_before: int) -> list[str]:
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


# The store ---------------------------------------------------------------------------


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        presence_ttl: float = PRESENCE_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self._key = str(self.path.resolve())
        self._presence_ttl = presence_ttl
        self._clock = clock
        self._writer: _Writer | None = None
        self._reader: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._restart_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SqliteStore:
        """`sqlite:///relative/path.db` or `sqlite:////absolute/path.db`."""
        prefix = "sqlite:///"
        if not url.startswith(prefix) or len(url) == len(prefix):
            raise StoreError(
                f"bad SQLite store URL {url!r}: write sqlite:///relative/path.db"
                " or sqlite:////absolute/path.db",
                retry=False,
            )
        return cls(url[len(prefix) :], **options)

    # Lifecycle -------------------------------------------------------------

    async def open(self) -> None:
        if self._writer is not None:
            return
        writer, reader = await asyncio.to_thread(self._connect)
        self._reader = reader
        self._writer = writer

    def _connect(self) -> tuple[_Writer, sqlite3.Connection]:
        """Start the writer process (it creates the schema), then open the read connection."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            writer = _Writer(self.path, self._key)
        except (_OpenFailed, OSError) as error:
            raise StoreError(
                f"cannot open SQLite database {self.path}: {error}"
                " (check that the directory is writable)",
                retry=False,
            ) from error
        try:
            reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            reader.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            writer.stop()
            raise
        return writer, reader

    async def close(self) -> None:
        writer, reader = self._writer, self._reader
        self._writer = self._reader = None
        if writer is not None:
            await asyncio.to_thread(writer.stop)
        if reader is not None:
            with self._read_lock:
                reader.close()

    async def health(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "path": str(self.path)}
        try:
            await self._read(lambda conn: conn.execute("SELECT 1").fetchone())
        except Exception as error:
            return {**info, "ok": False, "error": str(error)}
        writer = self._writer
        return {**info, "ok": True, "pending_writes": writer.pending() if writer else 0}

    # Plumbing --------------------------------------------------------------------

    async def _write(self, fn: Callable[[_Tx], T]) -> T:
        """Run `fn` (picklable: a partial of a module-level function) in the writer process."""
        writer = self._writer
        if writer is not None and not writer.alive:
            writer = await asyncio.to_thread(self._restart, writer)
        if writer is None:
            raise StoreError(f"SQLite store {self.path} is not open: call open() first")
        return await writer.submit(fn)

    def _restart(self, dead: _Writer) -> _Writer | None:
        """A new writer process in place of one that died (blocking; once for many callers)."""
        with self._restart_lock:
            if self._writer is dead:
                dead.stop()
                try:
                    self._writer = _Writer(self.path, self._key)
                except _OpenFailed as error:
                    raise StoreError(
                        f"cannot reopen SQLite database {self.path}: {error}"
                    ) from error
            return self._writer

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._read_now, fn)

    def _read_now(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._read_lock:
            if self._reader is None:
                raise StoreError(f"SQLite store {self.path} is not open: call open() first")
            try:
                return fn(self._reader)
            except sqlite3.Error as error:
                raise StoreError(f"SQLite database {self.path} could not read: {error}") from error

    # Rooms -------------------------------------------------------------------------

    async def create_room(
        self,
        *,
        session_id: str,
        session_spec: Mapping[str, Any],
        question_ids: list[str],
        new_code: Callable[[], str],
    ) -> RoomState:
        room_id = uuid.uuid4().hex
        spec = json.dumps(session_spec)
        created = now_ms()
        # Candidate codes are drawn here: the writer process cannot call new_code.
        codes = tuple(dict.fromkeys(new_code() for _ in range(CODE_ATTEMPTS)))
        return await self._write(
            partial(
                _create_room,
                room_id=room_id,
                session_id=session_id,
                spec=spec,
                question_ids=list(question_ids),
                codes=codes,
                created_at=created,
            )
        )

    async def room(self, room_id: str) -> RoomState:
        return await self._read(lambda conn: _room_state(conn, room_id))

    async def room_by_code(self, code: str) -> RoomState | None:
        def find(conn: sqlite3.Connection) -> RoomState | None:
            row = conn.execute(
                "SELECT id FROM rooms WHERE code = ? AND ended_at IS NULL", (code,)
            ).fetchone()
            return None if row is None else _room_state(conn, row[0])

        return await self._read(find)

    async def rooms(self) -> list[RoomState]:
        def every(conn: sqlite3.Connection) -> list[RoomState]:
            rows = conn.execute(
                "SELECT id, code, session_id, created_at, ended_at, current, current_question,"
                " version FROM rooms ORDER BY created_at DESC, rowid DESC"
            ).fetchall()
            return [_state_from(conn, row) for row in rows]

        return await self._read(every)

    async def session_spec(self, room_id: str) -> dict[str, Any]:
        def spec(conn: sqlite3.Connection) -> dict[str, Any]:
            row = conn.execute("SELECT session_spec FROM rooms WHERE id = ?", (room_id,)).fetchone()
            if row is None:
                raise RoomNotFound(room_id)
            data: dict[str, Any] = json.loads(row[0])
            return data

        return await self._read(spec)

    async def update(self, room_id: str, patch: RoomPatch) -> RoomState:
        now = now_ms()
        return await self._write(partial(_update, room_id=room_id, patch=patch, now=now))

    # Votes and results --------------------------------------------------------------

    async def vote(self, room_id: str, vote: Vote) -> VoteOutcome:
        now = now_ms()
        return await self._write(partial(_vote, room_id=room_id, vote=vote, answered_at=now))

    async def reset_question(self, room_id: str, question_id: str) -> RoomState:
        return await self._write(partial(_reset_question, room_id=room_id, question_id=question_id))

    async def set_hidden(self, room_id: str, question_id: str, ref: str, hidden: bool) -> bool:
        if not ref.isdigit():
            return False
        number = int(ref)
        return await self._write(
            partial(
                _set_hidden, room_id=room_id, question_id=question_id, ref=number, hidden=hidden
            )
        )

    async def aggregates(self, room_id: str) -> dict[str, Aggregate]:
        return await self._read(lambda conn: _aggregates(conn, room_id))

    async def answers_of(self, room_id: str, participant: str) -> dict[str, list[Answer]]:
        def answers(conn: sqlite3.Connection) -> dict[str, list[Answer]]:
            _require_room(conn, room_id)
            result: dict[str, list[Answer]] = {}
            for question_id, keys, text in conn.execute(
                "SELECT r.question_id, r.keys, r.text FROM questions q JOIN responses r"
                " ON r.room_id = q.room_id AND r.question_id = q.question_id"
                " AND r.participant = ? WHERE q.room_id = ? ORDER BY r.ref",
                (participant, room_id),
            ):
                result.setdefault(question_id, []).append(Answer(tuple(json.loads(keys)), text))
            return result

        return await self._read(answers)

    async def responses(self, room_id: str) -> AsyncIterator[Response]:
        await self._read(lambda conn: _require_room(conn, room_id))
        after = 0
        while True:
            chunk = await self._read(partial(_responses_after, room_id=room_id, after=after))
            for response in chunk:
                yield response
            if len(chunk) < EXPORT_CHUNK:
                return
            after = int(chunk[-1].ref)

    # Live ------------------------------------------------------------------------

    @asynccontextmanager
    async def _subscription(self, room_id: str) -> AsyncIterator[Signals]:
        signals = Signals(room_id)
        key = (self._key, room_id)
        _HUB.add(key, signals)
        try:
            yield signals
        finally:
            _HUB.remove(key, signals)
            signals.close()

    def subscribe(self, room_id: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscription(room_id)

    def local_subscriptions(self) -> int:
        return _HUB.count(self._key)

    async def set_presence(self, room_id: str, process_id: str, count: int) -> None:
        version = await self._read(lambda conn: _version(conn, room_id))
        key = (self._key, room_id)
        if _HUB.set_presence(key, process_id, count, self._clock(), self._presence_ttl):
            _HUB.signal(self._key, {room_id: version})

    async def presence(self, room_id: str) -> int:
        return _HUB.presence((self._key, room_id), self._clock(), self._presence_ttl)

    # Housekeeping ------------------------------------------------------------------

    async def purge(self, ended_before: datetime) -> list[str]:
        cutoff = to_ms(ended_before)
        ids = await self._write(partial(_purge, ended_before=cutoff))
        for room_id in ids:
            _HUB.forget_room(self._key, room_id)
        return ids


def _aggregates(conn: sqlite3.Connection, room_id: str) -> dict[str, Aggregate]:
    _require_room(conn, room_id)
    respondents = dict(
        conn.execute(
            "SELECT p.question_id, p.count FROM respondents p JOIN questions q"
            " ON q.room_id = p.room_id AND q.question_id = p.question_id"
            " WHERE p.room_id = ? AND p.count > 0 ORDER BY q.position",
            (room_id,),
        ).fetchall()
    )
    counts: dict[str, dict[str, int]] = {qid: {} for qid in respondents}
    for question_id, key, count in conn.execute(
        "SELECT question_id, key, count FROM counters WHERE room_id = ? ORDER BY key", (room_id,)
    ):
        if question_id in counts:
            counts[question_id][key] = count
    texts: dict[str, list[TextEntry]] = {qid: [] for qid in respondents}
    for question_id, ref, text, hidden in conn.execute(
        "SELECT question_id, ref, text, hidden FROM responses"
        " WHERE room_id = ? AND text IS NOT NULL ORDER BY ref",
        (room_id,),
    ):
        if question_id in texts:
            texts[question_id].append(TextEntry(str(ref), text, bool(hidden)))
    return {
        qid: Aggregate(respondents=total, counts=counts[qid], texts=tuple(texts[qid]))
        for qid, total in respondents.items()
    }


def _responses_after(conn: sqlite3.Connection, room_id: str, after: int) -> list[Response]:
    rows = conn.execute(
        "SELECT ref, question_id, participant, keys, text, answered_at, hidden FROM responses"
        " WHERE room_id = ? AND ref > ? ORDER BY ref LIMIT ?",
        (room_id, after, EXPORT_CHUNK),
    ).fetchall()
    return [
        Response(
            room_id=room_id,
            question_id=question_id,
            participant=participant,
            ref=str(ref),
            answer=Answer(tuple(json.loads(keys)), text),
            answered_at=from_ms(answered_at),
            hidden=bool(hidden),
        )
        for ref, question_id, participant, keys, text, answered_at, hidden in rows
    ]
