"""The SQLite writer thread: batched commits where one failure fails only its own caller."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from poll.store import RoomPatch, StoreError
from poll.store.sqlite import SqliteStore, _Tx
from tests.store.test_store_contract import ballot, new_room, tallies


async def test_an_operation_failing_after_writing_undoes_only_itself(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "poll.db")
    await store.open()
    try:
        room = await new_room(store)
        await store.update(
            room.id, RoomPatch(current=1, current_question="q1", statuses={"q1": "open"})
        )

        def broken(tx: _Tx) -> None:
            tx.conn.execute("UPDATE rooms SET code = 'broken' WHERE id = ?", (room.id,))
            raise RuntimeError("bug after a write")

        results = await asyncio.gather(
            *(store.vote(room.id, ballot(f"p{n}", "yes")) for n in range(50)),
            store._write(broken),
            *(store.vote(room.id, ballot(f"q{n}", "no")) for n in range(50)),
            return_exceptions=True,
        )

        assert isinstance(results[50], RuntimeError)
        assert all(r.status == "saved" for r in results[:50] + results[51:])  # type: ignore[union-attr]
        assert (await store.room(room.id)).code == room.code
        assert tallies(await store.aggregates(room.id)) == {"q1": (100, {"yes": 50, "no": 50})}
    finally:
        await store.close()


async def test_a_store_that_cannot_create_its_file_says_where(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = SqliteStore(tmp_path / "file" / "poll.db")

    with pytest.raises(StoreError, match=r"cannot open SQLite database .*file/poll\.db"):
        await store.open()
