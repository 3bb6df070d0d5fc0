"""The SQLite writer process: batched commits where one failure fails only its own caller."""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import pickle
import sqlite3
import termios
from collections.abc import AsyncIterator, Iterator
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from poll.store import RoomNotFound, RoomPatch, StoreError
from poll.store.sqlite import SqliteStore
from poll.store.sqlite.batches import Tx
from poll.store.sqlite.writer import Writer
from tests.store.test_store_contract import ballot, new_room, open_question, tallies


def broken(tx: Tx, room_id: str) -> None:
    tx.conn.execute("UPDATE rooms SET code = 'broken' WHERE id = ?", (room_id,))
    raise RuntimeError("bug after a write")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = SqliteStore(tmp_path / "poll.db")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def test_an_operation_failing_after_writing_undoes_only_itself(store: SqliteStore) -> None:
    room = await new_room(store)
    await store.update(
        room.id, RoomPatch(current=1, current_question="q1", statuses={"q1": "open"})
    )

    results = await asyncio.gather(
        *(store.vote(room.id, ballot(f"p{n}", "yes")) for n in range(50)),
        store._write(partial(broken, room_id=room.id)),
        *(store.vote(room.id, ballot(f"q{n}", "no")) for n in range(50)),
        return_exceptions=True,
    )

    assert isinstance(results[50], RuntimeError)
    assert all(r.status == "saved" for r in results[:50] + results[51:])  # type: ignore[union-attr]
    assert (await store.room(room.id)).code == room.code
    assert tallies(await store.aggregates(room.id)) == {"q1": (100, {"yes": 50, "no": 50})}


async def test_a_store_that_cannot_create_its_file_says_where(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = SqliteStore(tmp_path / "file" / "poll.db")

    with pytest.raises(StoreError, match=r"cannot open SQLite database .*file/poll\.db"):
        await store.open()


def test_store_errors_cross_the_pipe_to_the_writer_process_intact() -> None:
    refusal = pickle.loads(pickle.dumps(StoreError("full", retry=False)))
    missing = pickle.loads(pickle.dumps(RoomNotFound("r1")))

    assert type(refusal) is StoreError and str(refusal) == "full" and refusal.retry is False
    assert type(missing) is RoomNotFound and missing.room_id == "r1" and missing.retry is False
    assert str(missing) == str(RoomNotFound("r1"))


async def test_a_refusal_in_the_writer_process_reaches_its_caller(store: SqliteStore) -> None:
    with pytest.raises(RoomNotFound) as refused:
        await store.vote("nope", ballot("p", "yes"))
    assert refused.value.room_id == "nope" and refused.value.retry is False


@contextlib.contextmanager
def write_lock_taken(path: Path) -> Iterator[None]:
    """Another connection holds the database's write lock: the writer process waits for it."""
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def unread_bytes(pipe: Connection) -> int:
    """Bytes sent into a pipe that its reading end has not read yet (Linux)."""
    count = array.array("i", [0])
    fcntl.ioctl(pipe.fileno(), termios.FIONREAD, count)
    return count[0]


async def until_received(writer: Writer, operations: int) -> None:
    """Wait until this many operations are submitted, sent and read by the writer process."""
    async with asyncio.timeout(10):
        # No event says so: look at the writer's books and at the pipe.
        while (  # noqa: ASYNC110
            writer.pending() < operations or writer._outbox or unread_bytes(writer._requests)
        ):
            await asyncio.sleep(0.01)


async def test_a_killed_writer_fails_its_callers_for_a_retry_and_is_restarted(
    store: SqliteStore,
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)
    writer = store._writer
    assert writer is not None

    ballots = [ballot(f"p{n}", "yes") for n in range(200)]
    with write_lock_taken(store.path):
        # The writer process takes the votes from its pipe, then waits for the lock
        # to begin their transaction: the whole batch is in flight, none committed.
        votes = [asyncio.ensure_future(store.vote(room.id, vote)) for vote in ballots]
        await until_received(writer, len(votes))
        writer._process.kill()
    async with asyncio.timeout(30):
        results = await asyncio.gather(*votes, return_exceptions=True)

    assert all(isinstance(r, StoreError) and r.retry for r in results), results[:3]
    assert all("writer" in str(r) and "stopped" in str(r) for r in results), results[:3]
    # The next write starts a new writer process; the lost votes can be sent again.
    retried = await asyncio.gather(*(store.vote(room.id, vote) for vote in ballots))
    assert store._writer is not writer
    assert all(r.status == "saved" for r in retried)
    assert tallies(await store.aggregates(room.id)) == {"q1": (200, {"yes": 200})}


async def test_an_operation_that_cannot_reach_the_writer_process_fails_alone(
    store: SqliteStore,
) -> None:
    room = await new_room(store)
    await open_question(store, room.id)

    results = await asyncio.gather(
        store.vote(room.id, ballot("p1", "yes")),
        store._write(lambda tx: None),  # a lambda does not pickle
        store.vote(room.id, ballot("p2", "no")),
        return_exceptions=True,
    )

    assert isinstance(results[1], Exception) and not isinstance(results[1], StoreError)
    assert [r.status for r in (results[0], results[2])] == ["saved", "saved"]  # type: ignore[union-attr]


def test_the_writer_syncs_every_commit_for_power_loss(tmp_path: Path) -> None:
    """WAL with synchronous=FULL: an acknowledged vote survives an OS crash or a
    power cut, not only a killed process (docs/durability.md)."""
    from poll.store.sqlite.schema import connect

    conn = connect(tmp_path / "poll.db")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    finally:
        conn.close()
    with pytest.raises(ValueError, match="synchronous must be one of"):
        connect(tmp_path / "other.db", "OFF")
