"""poll's own warnings reach the operator's log, with time and source, at the chosen level."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROGRAM = """
import logging, logging.config
from poll.web.logs import private_log_config
logging.config.dictConfig(private_log_config({level!r}))
logging.getLogger("poll.store.redis").warning("Redis pub/sub lost (gone); reconnecting")
logging.getLogger("poll.live").info("room r1: a routine note")
logging.getLogger("uvicorn.error").warning("uvicorn still logs")
"""


def log_lines(level: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(level=level)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert done.stdout == "", "logs go to standard error only"
    return done.stderr.splitlines()


def test_a_store_warning_is_logged_with_its_source_and_a_time_stamp() -> None:
    lines = log_lines("warning")
    [line] = [line for line in lines if "pub/sub" in line]
    # "2026-11-27 23:10:04,123 WARNING poll.store.redis: Redis pub/sub lost …"
    stamp, rest = line[:23], line[24:]
    assert stamp[4] == "-" and stamp[13] == ":", line
    assert rest == "WARNING poll.store.redis: Redis pub/sub lost (gone); reconnecting"
    assert not any("routine note" in line for line in lines), "info is below warning"
    assert any("uvicorn still logs" in line for line in lines)


@pytest.mark.parametrize("level", ["info", "debug"])
def test_a_lower_level_shows_poll_notes_too(level: str) -> None:
    lines = log_lines(level)
    assert any(line.endswith("INFO poll.live: room r1: a routine note") for line in lines)
