"""`poll report`: the sample session's report written to a file by code or by id, the
texts hidden during the run left out unless asked for, and clear errors."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from poll.cli import main
from poll.store.sqlite import SqliteStore
from tests.report.sample import HIDDEN_TEXT, play_sample


def played_run(tmp_path: Path) -> tuple[str, str]:
    async def run() -> tuple[str, str]:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            played = await play_sample(store)
            return played.room.state.code, played.room.id
        finally:
            await store.close()

    return asyncio.run(run())


def test_poll_report_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, room_id = played_run(tmp_path)
    store = f"sqlite:///{tmp_path}/poll.db"
    out = tmp_path / "report.html"
    assert main(["report", code, "--store", store, "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "Team day: every question type" in page
    assert HIDDEN_TEXT not in page and "<script" not in page

    own = tmp_path / "own.html"
    assert main(["report", room_id, "--store", store, "-o", str(own), "--include-hidden"]) == 0
    assert HIDDEN_TEXT in own.read_text(encoding="utf-8")

    assert main(["report", code, "--store", store]) == 0
    assert capsys.readouterr().out == page


def test_poll_report_of_an_unknown_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    store = f"sqlite:///{tmp_path}/poll.db"
    assert main(["report", "7654321", "--store", store, "-o", str(out)]) == 1
    assert "no run with code or id '7654321'" in capsys.readouterr().err
    assert not out.exists()  # no empty file left behind
