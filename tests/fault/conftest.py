"""The fault drills' own pieces: the drill's script and questions, the phones' burst of
answers, and the figures each drill records.

The servers, the private redis-server, the facilitator and the phones come from
tests/support. Every process a drill starts runs in its own process group and is
killed in the `reaper` fixture's teardown, whatever happened in the test. The
machine's shared Redis is never touched: drills that stop or restart Redis start
their own (tests.support.servers.RedisServer).

Nothing here measures time: waits poll a condition until a generous deadline.
"""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path
from typing import Any

import pytest

from tests.support.artifacts import artifacts
from tests.support.facilitator import facilitator_for  # noqa: F401 - the fixture, re-exported
from tests.support.phones import Phone
from tests.support.servers import reaper  # noqa: F401 - the fixture, re-exported

#: The drill's session in tests/fixtures/sessions.yaml: a slide, a yes/no for the
#: browser phones, an open question that takes 20 answers per phone, a closing slide.
SESSION = "drill"
YESNO = "ready"
OPEN = "ideas"
END = "drill-end"
ANSWERS_PER_PHONE = 20


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed drill shows the end of every server's and Redis's log beside it."""
    report = yield
    tmp = getattr(item, "funcargs", {}).get("tmp_path")
    if report.failed and report.when == "call" and isinstance(tmp, Path):
        for log in sorted(tmp.glob("*.log")):
            tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
            report.sections.append((f"log {log.name} (end)", tail))
    return report


async def burst(phones: list[Phone], answers: int = ANSWERS_PER_PHONE, pad: int = 0) -> None:
    """Every phone sends `answers` ideas, one after another, each until acknowledged."""

    async def one(phone: Phone) -> None:
        for n in range(answers):
            submission = f"{phone.name}-{n}-{random.getrandbits(32):08x}"
            text = f"idea {submission}" + " and more" * (pad // 9)
            await phone.vote(OPEN, {"text": text}, submission)

    try:
        await asyncio.gather(*(one(phone) for phone in phones))
    finally:
        await asyncio.gather(*(phone.close() for phone in phones), return_exceptions=True)


def open_texts(rows: list[dict[str, str]]) -> list[str]:
    return [row["answer"] for row in rows if row["question_id"] == OPEN]


def record(name: str, figures: dict[str, Any]) -> None:
    """Print a drill's figures and keep them for docs/security.md."""
    (artifacts("faults") / f"{name}.json").write_text(
        json.dumps(figures, indent=2) + "\n", encoding="utf-8"
    )
    print(f"\n{name}: {json.dumps(figures)}")
