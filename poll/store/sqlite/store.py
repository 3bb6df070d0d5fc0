"""SqliteStore: the contract's methods on one SQLite file, for one server process.

Writes go to the writer process (`writer.py`, `batches.py`), which commits a
burst of them at once; each caller's future is resolved only after that commit.
Reads use their own connection in a worker thread (WAL lets them run beside the
writer). Change signals and presence are shared by every store of this process
on the same file (`shared.py`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from poll.answers import Aggregate, Answer
from poll.store.base import (
    METRICS_TTL,
    PRESENCE_TTL,
    Response,
    ResultsLink,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)
from poll.store.fanout import Signals
from poll.store.sqlite import reads, writes
from poll.store.sqlite.batches import Tx
from poll.store.sqlite.shared import shared
from poll.store.sqlite.writer import OpenFailed, Writer
from poll.store.timestamps import now_ms, to_ms

T = TypeVar("T")
#: The global counter that holds the generation of facilitator sign-ins.
CONSOLE_EPOCH = "console_epoch"


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(
        self,
        path: str | Path,
        *,
        presence_ttl: float = PRESENCE_TTL,
        clock: Callable[[], float] = time.time,
        synchronous: str = "FULL",
    ) -> None:
        self.path = Path(path)
        # Only the durability bench changes it (see schema.connect).
        self._synchronous = synchronous
        self._key = str(self.path.resolve())
        self._presence_ttl = presence_ttl
        self._clock = clock
        self._writer: Writer | None = None
        self._reader: sqlite3.Connection | None = None
        # The event loop's own connection, for reads of a row or one participant's rows.
        self._quick: sqlite3.Connection | None = None
        self._read_lock = threading.Lock()
        self._restart_lock = threading.Lock()
        self._shared = shared(self._key)

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
        writer, reader, quick = await asyncio.to_thread(self._connect)
        self._reader, self._quick = reader, quick
        self._writer = writer

    def _connect(self) -> tuple[Writer, sqlite3.Connection, sqlite3.Connection]:
        """Start the writer process (it creates the schema), then open the read connection."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            writer = Writer(self.path, self._key, self._shared.fanout, self._synchronous)
        except (OpenFailed, OSError) as error:
            raise StoreError(
                f"cannot open SQLite database {self.path}: {error}"
                " (check that the directory is writable)",
                retry=False,
            ) from error
        try:
            reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            reader.execute("PRAGMA busy_timeout=5000")
            # WAL: a reader never waits for the writer, so the loop's reads do not block on it.
            quick = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            quick.execute("PRAGMA busy_timeout=5000")
        except BaseException:
            writer.stop()
            raise
        return writer, reader, quick

    async def close(self) -> None:
        writer, reader, quick = self._writer, self._reader, self._quick
        self._writer = self._reader = self._quick = None
        if writer is not None:
            await asyncio.to_thread(writer.stop)
        if reader is not None:
            with self._read_lock:
                reader.close()
        if quick is not None:
            quick.close()

    async def health(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "path": str(self.path)}
        try:
            await self._read(lambda conn: conn.execute("SELECT 1").fetchone())
        except Exception as error:
            return {**info, "ok": False, "error": str(error)}
        writer = self._writer
        return {**info, "ok": True, "pending_writes": writer.pending() if writer else 0}

    # Plumbing --------------------------------------------------------------------

    async def _write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` (picklable: a partial of a module-level function) in the writer process."""
        writer = self._writer
        if writer is not None and not writer.alive:
            writer = await asyncio.to_thread(self._restart, writer)
        if writer is None:
            raise StoreError(f"SQLite store {self.path} is not open: call open() first")
        return await writer.submit(fn)

    def _restart(self, dead: Writer) -> Writer | None:
        """A new writer process in place of one that died (blocking; once for many callers)."""
        with self._restart_lock:
            if self._writer is dead:
                dead.stop()
                try:
                    self._writer = Writer(
                        self.path, self._key, self._shared.fanout, self._synchronous
                    )
                except OpenFailed as error:
                    raise StoreError(
                        f"cannot reopen SQLite database {self.path}: {error}"
                    ) from error
            return self._writer

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A read whose size grows with the room (answers, every room): in a thread."""
        return await asyncio.to_thread(self._read_now, fn)

    def _read_quick(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """A read of a few rows found through an index (a room, one participant's answers),
        on the event loop itself: it takes tens of microseconds, less than the hop to a
        thread and back, which made joins queue behind one another (`python -m bench load`:
        2,000 joins 5.7 → 3.0–3.8 s). In WAL mode it never waits for the writer."""
        quick = self._quick
        if quick is None:
            raise StoreError(f"SQLite store {self.path} is not open: call open() first")
        try:
            return fn(quick)
        except sqlite3.Error as error:
            raise StoreError(f"SQLite database {self.path} could not read: {error}") from error

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
        codes = tuple(dict.fromkeys(new_code() for _ in range(writes.CODE_ATTEMPTS)))
        return await self._write(
            partial(
                writes.create_room,
                room_id=room_id,
                session_id=session_id,
                spec=spec,
                question_ids=list(question_ids),
                codes=codes,
                created_at=created,
            )
        )

    async def room(self, room_id: str) -> RoomState:
        return self._read_quick(partial(reads.room_state, room_id=room_id))

    async def room_by_code(self, code: str) -> RoomState | None:
        return self._read_quick(partial(reads.room_by_code, code=code))

    async def ended_room_by_code(self, code: str) -> RoomState | None:
        return self._read_quick(partial(reads.ended_room_by_code, code=code))

    async def rooms(self) -> list[RoomState]:
        return await self._read(reads.every_room)

    async def session_spec(self, room_id: str) -> dict[str, Any]:
        return self._read_quick(partial(reads.session_spec, room_id=room_id))

    async def update(self, room_id: str, patch: RoomPatch) -> RoomState:
        now = now_ms()
        return await self._write(partial(writes.update, room_id=room_id, patch=patch, now=now))

    # Votes and results --------------------------------------------------------------

    async def vote(self, room_id: str, vote: Vote) -> VoteOutcome:
        now = now_ms()
        return await self._write(partial(writes.vote, room_id=room_id, vote=vote, answered_at=now))

    async def reset_question(self, room_id: str, question_id: str) -> RoomState:
        return await self._write(
            partial(writes.reset_question, room_id=room_id, question_id=question_id)
        )

    async def set_hidden(self, room_id: str, question_id: str, ref: str, hidden: bool) -> bool:
        if not ref.isdigit():
            return False
        number = int(ref)
        return await self._write(
            partial(
                writes.set_hidden,
                room_id=room_id,
                question_id=question_id,
                ref=number,
                hidden=hidden,
            )
        )

    async def set_mark(self, room_id: str, question_id: str, key: str, value: str | None) -> None:
        await self._write(
            partial(writes.set_mark, room_id=room_id, question_id=question_id, key=key, value=value)
        )

    async def claim_name(self, room_id: str, participant: str, name: str, key: str) -> str | None:
        return await self._write(
            partial(writes.claim_name, room_id=room_id, participant=participant, name=name, key=key)
        )

    async def names(self, room_id: str) -> dict[str, str]:
        return await self._read(partial(reads.names, room_id=room_id))

    async def aggregates(self, room_id: str) -> dict[str, Aggregate]:
        return await self._read(partial(reads.aggregates, room_id=room_id))

    async def room_with_aggregates(self, room_id: str) -> tuple[RoomState, dict[str, Aggregate]]:
        return await self._read(partial(reads.room_with_aggregates, room_id=room_id))

    async def answers_of(self, room_id: str, participant: str) -> dict[str, list[Answer]]:
        return self._read_quick(partial(reads.answers_of, room_id=room_id, participant=participant))

    async def responses(self, room_id: str) -> AsyncIterator[Response]:
        await self._read(partial(reads.require_room, room_id=room_id))
        after = 0
        while True:
            chunk = await self._read(partial(reads.responses_after, room_id=room_id, after=after))
            for response in chunk:
                yield response
            if len(chunk) < reads.EXPORT_CHUNK:
                return
            after = int(chunk[-1].ref)

    async def join(self, room_id: str, participant: str) -> bool:
        return await self._write(partial(writes.join, room_id=room_id, participant=participant))

    async def joined(self, room_id: str) -> int:
        return self._read_quick(partial(reads.joined, room_id=room_id))

    # Results links ---------------------------------------------------------------

    async def set_results_link(self, room_id: str, link: ResultsLink | None) -> None:
        await self._write(partial(writes.set_results_link, room_id=room_id, link=link))

    async def results_link(self, room_id: str) -> ResultsLink | None:
        return self._read_quick(partial(reads.results_link, room_id=room_id))

    async def room_of_results_link(self, digest: str) -> str | None:
        return self._read_quick(partial(reads.room_of_results_link, digest=digest))

    # Live ------------------------------------------------------------------------

    @asynccontextmanager
    async def _subscription(self, room_id: str) -> AsyncIterator[Signals]:
        signals = Signals(room_id)
        fanout = self._shared.fanout
        fanout.add(signals)
        try:
            yield signals
        finally:
            fanout.remove(signals)
            signals.close()

    def subscribe(self, room_id: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscription(room_id)

    def local_subscriptions(self) -> int:
        return self._shared.fanout.count()

    async def set_presence(self, room_id: str, process_id: str, count: int) -> None:
        version = self._read_quick(partial(reads.version_of, room_id=room_id))
        now = self._clock()
        if self._shared.presence.report(room_id, process_id, count, now, self._presence_ttl):
            self._shared.fanout.signal(room_id, version)

    async def presence(self, room_id: str) -> int:
        return self._shared.presence.total(room_id, self._clock(), self._presence_ttl)

    # Operators' figures ------------------------------------------------------------

    async def report_metrics(self, process_id: str, figures: Mapping[str, Any]) -> None:
        self._shared.reports.report(process_id, figures, self._clock())

    async def metrics_reports(self) -> dict[str, dict[str, Any]]:
        return self._shared.reports.live(self._clock(), METRICS_TTL)

    # Facilitator sign-ins ----------------------------------------------------------

    async def console_epoch(self) -> int:
        return self._read_quick(partial(reads.global_counter, name=CONSOLE_EPOCH))

    async def end_console_sessions(self) -> int:
        return await self._write(partial(writes.bump_global_counter, name=CONSOLE_EPOCH))

    # Housekeeping ------------------------------------------------------------------

    async def purge(self, ended_before: datetime) -> list[str]:
        cutoff = to_ms(ended_before)
        ids = await self._write(partial(writes.purge, ended_before=cutoff))
        for room_id in ids:
            self._shared.presence.forget(room_id)
        return ids
