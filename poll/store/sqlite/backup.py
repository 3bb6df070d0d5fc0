"""`poll backup`: a consistent copy of the SQLite store, safe while the server runs.

SQLite's online backup API copies the database page by page inside one read
transaction, so the copy is the database as it was at one instant, with every
committed answer up to then. In WAL mode the server's writer goes on
committing meanwhile: readers and the writer do not block each other. A plain
`cp` of a live database can tear (half of one transaction, half of the next)
and misses whatever still sits in the `-wal` file.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from poll.store.base import StoreError


@dataclass(frozen=True)
class BackupReport:
    """What was copied where: shown by `poll backup`."""

    source: Path
    dest: Path
    size: int
    runs: int
    answers: int


def backup_database(source: Path, dest: Path, *, overwrite: bool = False) -> BackupReport:
    """Copy the SQLite database at `source` to `dest` (a file, or a folder to put a
    dated file in). The copy appears whole or not at all, readable by its owner
    only (it holds the answers), as one file that needs no `-wal` beside it."""
    if not source.is_file():
        raise StoreError(
            f"there is no SQLite database at {source}; give the store the server uses "
            "(--store sqlite:///PATH/poll.db or POLL_STORE)",
            retry=False,
        )
    if dest.is_dir():
        dest = dest / f"poll-{datetime.now(UTC):%Y%m%d-%H%M%S}.db"
    if dest.resolve() == source.resolve():
        raise StoreError(f"{dest} is the live database itself; back up to another file")
    if dest.exists() and not overwrite:
        raise StoreError(
            f"{dest} already exists; choose another name, a folder, or add --force",
            retry=False,
        )
    if not dest.parent.is_dir():
        raise StoreError(f"the folder {dest.parent} does not exist; create it first", retry=False)
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        report = _copy(source, partial)
        _fsync(partial)
        os.replace(partial, dest)
        _fsync(dest.parent)
    except sqlite3.Error as error:
        raise StoreError(f"the backup of {source} failed: {error}", retry=False) from error
    except OSError as error:
        raise StoreError(
            f"cannot write the backup {dest}: {error.strerror or error}", retry=False
        ) from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return BackupReport(source, dest, dest.stat().st_size, report[0], report[1])


def _copy(source: Path, target: Path) -> tuple[int, int]:
    """The online backup into `target`, checked; (runs, answers) in the copy."""
    # Created empty, owner-only, before SQLite opens it: the copy holds personal answers.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    # mode=rw: never create a database where there was none. Reading only, but a
    # WAL database needs its shared-memory index, which read-only mode may not open.
    uri = f"file:{quote(str(source.resolve()))}?mode=rw"
    src = sqlite3.connect(uri, uri=True, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout=10000")
        dst = sqlite3.connect(target, isolation_level=None)
        try:
            # pages=-1: every page in one step, under one read transaction. Stepwise
            # copying would start over each time the server commits in between.
            src.backup(dst, pages=-1)
            # One self-contained file: the live database's WAL mode stays with it.
            dst.execute("PRAGMA journal_mode=DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"the copy failed its integrity check: {check}")
            runs = dst.execute("SELECT count(*) FROM rooms").fetchone()[0]
            answers = dst.execute("SELECT count(*) FROM responses").fetchone()[0]
        finally:
            dst.close()
    finally:
        src.close()
    return int(runs), int(answers)


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entry list, to the disk: a backup must survive a
    power cut right after `poll backup` says it is done."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
