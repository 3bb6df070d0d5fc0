"""`poll check`, `poll serve`'s refusals and `poll export`, as a facilitator runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from poll.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_check_prints_the_outline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(ROOT / "sessions.yaml")]) == 0
    out = capsys.readouterr().out
    assert "gemengde-wijken: Gemengde wijken, segregatie en inclusie (nl, 17 items" in out
    assert " 10  yesno   herkennen" in out
    assert "is valid: 2 session(s)" in out


def test_check_lists_problems_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "sessions.yaml"
    broken.write_text(
        "sessions:\n  s:\n    title: T\n    items:\n      - type: yesnoo\n        prompt: P\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "poll.cli", "check", str(broken)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{broken}:5:" in result.stderr and "did you mean 'yesno'" in result.stderr


def test_check_notes_generated_ids(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(
        "sessions:\n  s:\n    title: T\n    items:\n      - type: yesno\n        prompt: P\n",
        encoding="utf-8",
    )
    assert main(["check", str(script)]) == 0
    assert "note:" in capsys.readouterr().out


def test_serve_refuses_workers_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "2", "--store", "sqlite:///x.db"]) == 1
    assert "need a shared store" in capsys.readouterr().err


def test_serve_refuses_a_broken_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("sessions: [", encoding="utf-8")
    assert main(["serve", "--sessions", str(broken)]) == 1
    assert "cannot start" in capsys.readouterr().err


def test_serve_refuses_unreachable_redis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--store", "redis://127.0.0.1:1/0", "--port", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("poll: cannot open the store") and err.count("\n") == 1


def test_export_unknown_room(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path}/poll.db"
    assert main(["export", "1234567", "--store", store]) == 1
    assert "no run with code or id" in capsys.readouterr().err


def test_export_a_run(tmp_path: Path) -> None:
    import asyncio

    from poll.rooms import Rooms
    from poll.store.sqlite import SqliteStore
    from tests.support.scripts import ENGLISH, fixture_script

    script = fixture_script()

    async def run() -> str:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            room = await Rooms(store, lambda: script).create(ENGLISH)
            await room.next()
            await room.vote("anna-id", "on-track", "s1", {"choice": "yes"})
            return room.state.code
        finally:
            await store.close()

    code = asyncio.run(run())
    out = tmp_path / "out.csv"
    store = f"sqlite:///{tmp_path}/poll.db"
    assert main(["export", code, "--store", store, "-o", str(out), "--sep", ";"]) == 0
    text = out.read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("room_code;session_id")
    assert ";on-track;" in text and ";Yes;" in text
    assert main(["export", code, "--store", store, "--summary", "-o", str(out)]) == 0
    assert "Yes,1,100.0,1" in out.read_bytes().decode("utf-8-sig")
    # The summary for Dutch Excel: semicolons and decimal commas.
    assert main(["export", code, "--store", store, "--summary", "--sep", ";", "-o", str(out)]) == 0
    assert ";Yes;1;100,0;1" in out.read_bytes().decode("utf-8-sig")


def test_serve_runs_uvicorn_with_the_guarded_protocols_and_no_banner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.conftest import uvicorn_options

    seen = uvicorn_options(monkeypatch, tmp_path)
    assert seen["http"] == "poll.web.connections:GuardedHttpProtocol"
    assert seen["ws"] == "poll.web.connections:GuardedWebSocketProtocol"
    assert seen["server_header"] is False


@pytest.mark.parametrize("value", ["many", "0"])
def test_serve_refuses_a_bad_connection_cap(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POLL_CONNECTIONS_PER_ADDRESS", value)
    monkeypatch.setenv("POLL_FACILITATOR_TOKEN", "k3J9xQ2mV7pL4wR8tZ1nB6cY5hF0dG3s")
    store = f"sqlite:///{tmp_path}/poll.db"
    assert main(["serve", "--port", "0", "--store", store, "--data-dir", str(tmp_path)]) == 1
    assert f"POLL_CONNECTIONS_PER_ADDRESS={value!r}" in capsys.readouterr().err
