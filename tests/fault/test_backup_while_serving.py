"""`poll backup` while phones vote as fast as they can: every copy is whole (SQLite's
integrity check), opens as a store (`poll export` reads it), and the copy taken after
the burst holds every acknowledged vote."""

from __future__ import annotations

import asyncio
import csv
import io
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from poll.store import backup_store
from tests.fault.conftest import OPEN, SESSION, burst, open_texts
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

PHONES = 20  # 20 ideas each: 400 votes


def poll_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poll.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def texts_in(copy: Path) -> list[str]:
    """The open answers in a copy, read with plain sqlite3 after its integrity check."""
    with sqlite3.connect(copy) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "delete", "a backup is one file, without a -wal beside it"
        rows = db.execute("SELECT text FROM responses WHERE question_id = ?", (OPEN,))
        return [text for (text,) in rows]


async def test_backups_taken_during_a_vote_burst_are_whole_and_hold_the_votes(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    db = tmp_path / "poll.db"
    store = f"sqlite:///{db}"
    server = PollServer(tmp_path, store, reaper=reaper)
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)
    await facilitator.go_to(OPEN)

    tally = Tally()
    phones = await phones_for(PHONES, [server.url], facilitator.code, tally)
    voting = asyncio.create_task(burst(phones))
    await eventually(lambda: len(tally.acked) >= 20, "the first votes are acknowledged")
    backups = tmp_path / "backups"
    backups.mkdir()
    during: list[tuple[int, Path]] = []
    while not voting.done():
        acked = len(tally.acked)
        copy = backups / f"during-{len(during)}.db"
        # In this process (the command's own start-up would outlast the burst).
        report = await asyncio.to_thread(backup_store, store, copy)
        assert (report.dest, report.runs) == (copy, 1)
        during.append((acked, copy))
    await voting
    assert len(during) >= 2, "the burst ended before two backups: nothing was tested"

    final = backups / "after.db"
    done = await asyncio.to_thread(poll_cli, "backup", str(final), "--store", store)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up {db} to {final}: 1 run(s), ")
    acked = sorted(tally.acked.values())
    assert len(acked) == PHONES * 20
    assert sorted(texts_in(final)) == acked

    # Each copy from the middle of the burst: whole, and with at least what had been
    # acknowledged when it started (a vote is acked only once it is committed).
    for acked_then, copy in during:
        texts = texts_in(copy)
        assert len(texts) >= acked_then
        assert set(texts) <= set(acked)
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "a backup holds personal answers"

    # The copy opens as a store: `poll export` reads every answer from it.
    exported = poll_cli("export", facilitator.code, "--store", f"sqlite:///{final}")
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout.removeprefix("\ufeff"))))
    assert sorted(open_texts(rows)) == acked
