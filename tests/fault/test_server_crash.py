"""The server is killed (SIGKILL) in the middle of a vote burst on the embedded
store and started again on the same data: no acknowledged vote is lost, and the
phones come back by themselves."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from poll.export import pseudonym
from tests.fault.conftest import END, OPEN, SESSION, YESNO, burst, open_texts, record
from tests.support.browser import async_expect as expect
from tests.support.browser import chromium, phone_page
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, participant_of, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

PHONES = 60  # protocol-level phones, 20 ideas each: 1,200 votes
KILL_AFTER = 300  # acknowledged votes before the plug is pulled
LIVE = 60_000  # ms; a phone's reconnect backoff reaches 10 s, and the machine is loaded


async def participant_id(page: Any) -> str:
    cookies = await page.context.cookies()
    return participant_of(next(c["value"] for c in cookies if c["name"] == "poll_pid"))


def export_with_cli(db: Path, code: str) -> list[dict[str, str]]:
    """`poll export CODE` straight from the data file, as a facilitator would after the event."""
    out = subprocess.run(
        [sys.executable, "-m", "poll.cli", "export", code, "--store", f"sqlite:///{db}"],
        capture_output=True,
        check=True,
        timeout=120,
    ).stdout
    return list(csv.DictReader(io.StringIO(out.decode("utf-8-sig"))))


async def test_sigkill_mid_burst_loses_no_acknowledged_vote(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    db = tmp_path / "poll.db"
    server = PollServer(tmp_path, f"sqlite:///{db}", reaper=reaper)
    await server.astart()
    facilitator: Facilitator = await facilitator_for(server.url)
    await facilitator.start_run(SESSION)

    async with chromium() as browser:
        # Two people join on their phones and answer the yes/no question.
        join = f"{server.url}/r/{facilitator.code}"
        anna = await phone_page(browser, join)
        ben = await phone_page(browser, join)
        for page in (anna, ben):
            await expect(page.locator("#stage .slide-title")).to_have_text(
                "Welcome to the drill", timeout=LIVE
            )
        await facilitator.go_to(YESNO)
        for page, label in ((anna, "Yes"), (ben, "No")):
            await page.locator("form.vote button", has_text=re.compile(f"^{label}")).click()
            await expect(page.locator("#vote-status")).to_have_text(
                "Your answer is saved.", timeout=LIVE
            )

        # The open question: sixty more phones send their ideas as fast as they can.
        await facilitator.go_to(OPEN)
        await expect(ben.get_by_label("Write your answer")).to_be_visible(timeout=LIVE)
        tally = Tally()
        phones = await phones_for(PHONES, [server.url], facilitator.code, tally)
        voting = asyncio.create_task(burst(phones))
        await eventually(lambda: len(tally.acked) >= KILL_AFTER, f"{KILL_AFTER} acked votes")
        assert not voting.done(), "the burst ended before the kill: nothing was tested"

        # The plug is pulled mid-burst.
        server.kill()
        acked_before_kill = len(tally.acked)
        await expect(ben.locator("#connection")).to_have_text("Reconnecting…", timeout=LIVE)
        # Ben sends an idea while the server is down: the page must not claim it is saved.
        await ben.get_by_label("Write your answer").fill("Ben's idea from the dark")
        await ben.get_by_role("button", name="Send").click()
        await expect(ben.locator("#vote-status")).to_have_text(
            "Not saved yet, trying again…", timeout=LIVE
        )

        # Started again on the same data: the phones come back without anyone touching them.
        await server.astart()
        await expect(ben.locator("#vote-status")).to_have_text(
            "Your answer is saved.", timeout=LIVE
        )
        await asyncio.wait_for(voting, 300)
        await expect(anna.locator("#connection")).to_be_hidden(timeout=LIVE)

        # The facilitator goes back to the yes/no: Anna's phone still shows her answer.
        await facilitator.go_to(YESNO)
        await expect(anna.locator("button[aria-pressed=true]")).to_have_text("Yes", timeout=LIVE)
        await expect(ben.locator("button[aria-pressed=true]")).to_have_text("No", timeout=LIVE)
        await facilitator.go_to(END)
        for page in (anna, ben):
            await expect(page.locator("#stage .slide-title")).to_have_text(
                "Thank you", timeout=LIVE
            )
        people = {
            pseudonym(facilitator.room_id, await participant_id(anna)): "Yes",
            pseudonym(facilitator.room_id, await participant_id(ben)): "No",
        }

    acked = [*tally.acked.values(), "Ben's idea from the dark"]
    rows = await facilitator.csv_rows()
    found = Counter(open_texts(rows))
    lost = [text for text in acked if text not in found]
    doubled = [text for text, n in found.items() if n > 1]
    cli_rows = await asyncio.to_thread(export_with_cli, db, facilitator.code)
    # Back on the open question, a projector opened now shows exactly the acked ideas.
    await facilitator.go_to(OPEN)
    projector = await facilitator.snapshot("projector")
    on_screen = Counter(entry["text"] for entry in projector["results"]["texts"])

    record(
        "sigkill-embedded-store",
        {
            "phones": PHONES + 2,
            "votes_acked": len(acked) + 2,
            "acked_before_kill": acked_before_kill,
            "votes_found_csv": len(open_texts(rows)) + len(people),
            "votes_lost": len(lost),
            "projector_texts": sum(on_screen.values()),
            "counted_twice": len(doubled),
            "refused_retry": tally.refused_retry,
            "reconnects": tally.reconnects,
        },
    )
    assert not lost, f"{len(lost)} acknowledged votes are missing: {lost[:5]}"
    assert not doubled, f"retried votes counted twice: {doubled[:5]}"
    # Every phone kept trying until acknowledged, so the CSV holds exactly the acked votes.
    assert sorted(found) == sorted(acked)
    answers = {row["participant"]: row["answer"] for row in rows if row["question_id"] == YESNO}
    assert answers == people
    assert cli_rows == rows, "`poll export` and the console's CSV disagree"
    assert on_screen == Counter(acked)
