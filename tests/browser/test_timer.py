"""A question with `timer:` counts down on the phones and the projector and closes by
itself: on one process, and on two processes behind a round robin on one Redis (the
deadline is the store's). A phone without JavaScript that sends late is told why."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import LIVE, PHONE, Console, expect, shot, start_run, violations
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

#: The timer is 5 s; the closed screen comes by itself within a generous bound.
AFTER_DEADLINE = 20_000


def test_the_countdown_runs_out_and_closes_the_vote_everywhere(
    browser: Any, any_server: PollServer, artifacts: Path
) -> None:
    server = any_server
    console, code = start_run(browser, server, "Beat the clock")

    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    # A phone without JavaScript loads the question before the clock runs out…
    plain = browser.new_context(viewport=PHONE, java_script_enabled=False).new_page()

    Console(console).go(number_of("quick", "timed"))
    plain.goto(f"{server.url}/r/{code}")
    expect(plain.locator("#countdown .countdown-clock")).to_have_text(re.compile(r"^0:0[1-5]$"))

    clock = phone.locator("#countdown .countdown-clock")
    expect(clock).to_have_text(re.compile(r"^0:0[1-5]$"), timeout=LIVE)
    expect(projector.locator("#countdown")).to_be_visible(timeout=LIVE)
    shot(phone, artifacts, "phone-timer")
    shot(projector, artifacts, "projector-timer")
    assert not violations(phone)
    assert not violations(projector)
    phone.get_by_role("button", name="Yes").click()
    expect(phone.locator("#vote-status")).to_have_text(re.compile("saved"), timeout=LIVE)

    # Nobody touches the console: the vote closes when the clock runs out.
    expect(phone.locator("#stage .notice")).to_have_text(
        "Voting is closed.", timeout=AFTER_DEADLINE
    )
    expect(phone.locator("#countdown")).to_be_hidden()
    expect(projector.locator("#screen .state")).to_have_text("Voting is closed.", timeout=LIVE)
    expect(projector.locator("#countdown")).to_be_hidden()
    expect(console.locator(".panel .badge.closed, .badge.closed").first).to_be_visible(timeout=LIVE)

    # …and sends after it: refused with the reason, not stored.
    plain.get_by_role("button", name="No").click()
    expect(plain.locator("#vote-status")).to_contain_text("Time is up")
    assert "1 person answered" in projector.locator("#footer-count").inner_text()
    console.context.close()
