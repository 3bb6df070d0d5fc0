"""The facilitator compares two runs of the sample session in Chromium: she ticks them
on the session's page, reads the side-by-side results, and the page passes an axe
scan. Its screenshot is the README's (docs/images/compare.png, with POLL_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from poll.rooms import Rooms
from poll.store.sqlite import SqliteStore
from tests.browser.test_session import expect, violations
from tests.support.artifacts import artifacts, readme_image
from tests.support.servers import PollServer
from tests.support.team_day import FIRST_RUN, SAMPLE, SECOND_RUN, play, sample_script

pytestmark = pytest.mark.browser


def two_runs(tmp_path: Path) -> None:
    async def run() -> None:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            script = sample_script()
            rooms = Rooms(store, lambda: script)
            for answers in (FIRST_RUN, SECOND_RUN):
                await play(store, answers, rooms=rooms)
        finally:
            await store.close()

    # Playwright's sync API keeps an event loop running in this thread.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def test_two_runs_of_the_sample_session_compared(browser: Any, tmp_path: Path) -> None:
    two_runs(tmp_path)
    server = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=SAMPLE).start()
    try:
        page = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-US"
        ).new_page()
        page.goto(server.console_link())
        page.get_by_role("link", name=re.compile("Runs and comparison.*Team day")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Runs of Team day")
        boxes = page.get_by_role("checkbox")
        expect(boxes).to_have_count(2)
        for index in range(2):
            boxes.nth(index).check()
        assert not violations(page)
        page.get_by_role("button", name="Compare the chosen runs").click()

        expect(page.get_by_role("heading", level=1)).to_contain_text("runs compared")
        on_track = page.locator("#q-on-track")
        yes = on_track.get_by_role("row", name=re.compile("^Yes"))
        expect(yes).to_contain_text("3 · 75.0%")
        expect(yes).to_contain_text("1 · 25.0%")
        expect(yes).to_contain_text("-50.0 pp")
        felt = page.locator("#q-how-it-felt")
        expect(felt.get_by_role("row", name=re.compile("^Our workload"))).to_contain_text("+1.5")
        expect(felt).to_contain_text("mean 4.5")
        assert not violations(page)

        # The runs and the first questions: what the README shows.
        page.locator("#q-how-it-felt").scroll_into_view_if_needed()
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(
            path=str(readme_image("compare.png") or artifacts() / "compare.png"),
            clip={"x": 0, "y": 0, "width": 1280, "height": 1500},
            full_page=True,
        )
        page.context.close()
    finally:
        server.stop()
