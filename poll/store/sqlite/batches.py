"""The writer process: it takes every operation waiting, runs them in one transaction, commits once.

A burst of votes thus costs one commit rather than one each. An operation
that refuses (StoreError, before it writes) fails alone inside the batch; one
that fails after writing rolls the batch back, and each operation is then run
again in a transaction of its own, so that it fails only its own caller. One
reply per batch goes back to the server (see `writer.py`): each operation's
result or error, and the new versions of the rooms the batch changed.
"""

from __future__ import annotations

import contextlib
import pickle
import signal
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

from poll.store.base import RoomNotFound, StoreError
from poll.store.sqlite.schema import connect

#: Upper bound of operations in one transaction: keeps a commit's latency bounded.
MAX_BATCH = 2000


@dataclass
class Tx:
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
class Op:
    """One operation inside the writer process."""

    id: int
    fn: Callable[[Tx], Any]
    result: Any = None
    error: Exception | None = None


#: What the child sends per batch: (op_id, result, error) each, and changed versions.
Reply = tuple[list[tuple[int, Any, Exception | None]], dict[str, int]]


def serve(
    path: str, key: str, requests: Connection, replies: Connection, synchronous: str = "FULL"
) -> None:
    """The child: open the database, then batch operations until told to stop."""
    # Ctrl-C reaches the whole process group: let the server shut down and stop us.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        conn = connect(Path(path), synchronous)
    except (sqlite3.Error, OSError) as error:
        replies.send(str(error))
        return
    try:
        replies.send(None)
        batcher = Batcher(conn, key)
        waiting: deque[Op] = deque()
        stop = False
        with contextlib.suppress(EOFError, OSError):  # the server went away: so do we
            while not stop or waiting:
                # Take every message waiting (block for one when there is nothing to do).
                while not stop and (not waiting or (len(waiting) < MAX_BATCH and requests.poll(0))):
                    ops = requests.recv()
                    if ops is None:
                        stop = True
                    else:
                        waiting.extend(Op(op_id, fn) for op_id, fn in ops)
                batch = [waiting.popleft() for _ in range(min(len(waiting), MAX_BATCH))]
                if batch:
                    replies.send(batcher.execute(batch))
    finally:
        conn.close()


class Batcher:
    """Runs a batch in one transaction, so that one failure fails only its own caller."""

    def __init__(self, conn: sqlite3.Connection, key: str) -> None:
        self._conn = conn
        self._key = key

    def execute(self, batch: list[Op]) -> Reply:
        changed: dict[str, int] = {}
        try:
            changed = self._transaction(batch)
        except Unclean as unclean:
            if len(batch) == 1:
                batch[0].error = self._failure(unclean.error)
            else:
                # Undo was total: run each operation in a transaction of its own,
                # so that one failure fails only its own caller.
                for op in batch:
                    op.result = op.error = None
                    try:
                        changed.update(self._transaction([op]))
                    except Unclean as alone:
                        op.error = self._failure(alone.error)
        return [(op.id, op.result, _sendable(op.error)) for op in batch], changed

    def _transaction(self, batch: list[Op]) -> dict[str, int]:
        """Run the batch and commit once; the versions of the rooms it changed.

        Operations raise StoreError (RoomNotFound, …) only before they write, so
        such a refusal needs no savepoint (a savepoint per vote would cost two
        statements of the ten a vote takes). Any other error rolls the whole
        batch back and raises Unclean.
        """
        conn = self._conn
        changed: dict[str, int] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op in batch:
                tx = Tx(conn)
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
            raise Unclean(error) from error
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


class Unclean(Exception):
    """An operation failed part way through; the transaction was rolled back."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error
