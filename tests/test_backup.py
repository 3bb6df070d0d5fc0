"""`poll backup`: what it refuses, and how it says so (one line, never a traceback).
The copy under load is drilled in tests/fault/test_backup_while_serving.py."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from poll.cli import main


def make_db(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE rooms (id TEXT)")
        db.execute("CREATE TABLE responses (text TEXT)")
        db.executemany("INSERT INTO rooms VALUES (?)", [("r1",), ("r2",)])
        db.execute("INSERT INTO responses VALUES ('ja')")


def backup(*args: str) -> int:
    return main(["backup", *args])


def test_a_backup_into_a_folder_gets_a_dated_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_db(tmp_path / "poll.db")
    (tmp_path / "backups").mkdir()
    assert backup(str(tmp_path / "backups"), "--store", f"sqlite:///{tmp_path}/poll.db") == 0
    [copy] = (tmp_path / "backups").iterdir()
    assert copy.name.startswith("poll-") and copy.suffix == ".db"
    out = capsys.readouterr().out
    assert out.startswith(f"backed up {tmp_path}/poll.db to {copy}: 2 run(s), 1 answer(s), ")
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM rooms").fetchone() == (2,)


def test_an_existing_file_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make_db(tmp_path / "poll.db")
    dest = tmp_path / "copy.db"
    dest.write_text("keep me")
    store = f"sqlite:///{tmp_path}/poll.db"
    assert backup(str(dest), "--store", store) == 1
    assert capsys.readouterr().err == (
        f"poll: {dest} already exists; choose another name, a folder, or add --force\n"
    )
    assert dest.read_text() == "keep me"
    assert backup(str(dest), "--store", store, "--force") == 0
    assert sqlite3.connect(dest).execute("SELECT count(*) FROM rooms").fetchone() == (2,)
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


@pytest.mark.parametrize(
    ("store", "dest", "message"),
    [
        (
            "sqlite:///{tmp}/missing.db",
            "{tmp}/copy.db",
            "there is no SQLite database at {tmp}/missing.db; give the store the server uses "
            "(--store sqlite:///PATH/poll.db or POLL_STORE)",
        ),
        (
            "sqlite:///{tmp}/poll.db",
            "{tmp}/no/such/folder/copy.db",
            "the folder {tmp}/no/such/folder does not exist; create it first",
        ),
        (
            "sqlite:///{tmp}/poll.db",
            "{tmp}/poll.db",
            "{tmp}/poll.db is the live database itself; back up to another file",
        ),
        (
            "redis://127.0.0.1:6379/0",
            "{tmp}/copy.db",
            "poll backup copies the SQLite store; back up Redis with Redis itself "
            "(BGSAVE, then copy its dump.rdb, or copy its appendonly directory): "
            "see docs/deploy.md",
        ),
        (
            "postgres://x",
            "{tmp}/copy.db",
            "unknown store URL 'postgres://x': use sqlite:///PATH/poll.db or redis://HOST:PORT/DB",
        ),
    ],
    ids=["no-database", "no-folder", "onto-itself", "redis", "unknown"],
)
def test_what_backup_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], store: str, dest: str, message: str
) -> None:
    make_db(tmp_path / "poll.db")
    tmp = str(tmp_path)
    assert backup(dest.format(tmp=tmp), "--store", store.format(tmp=tmp)) == 1
    assert capsys.readouterr().err == f"poll: {message.format(tmp=tmp)}\n"
    assert not (tmp_path / "missing.db").exists(), "a backup never creates a database"
