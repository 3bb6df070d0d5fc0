"""A phone behind a proxy that blocks websockets still votes, and sees it saved."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import (
    PHONE,
    Console,
    expect,
    saved,
    shot,
    start_run,
    vote_button,
)
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser


def test_a_phone_without_websocket_votes_over_plain_http(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    page, code = start_run(browser, server)
    Console(page).go(number_of("herkennen"))  # "Herkennen jullie deze leervragen?"

    phone_context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    # Every websocket is closed before it opens, as by a proxy that does not pass them.
    phone_context.route_web_socket(re.compile(r".*/ws/.*"), lambda ws: ws.close())
    phone = phone_context.new_page()
    phone.goto(f"{server.url}/r/{code}")
    expect(phone.locator("h1.prompt")).to_have_text(re.compile("Herkennen jullie"))
    vote_button(phone, "Nee").click()
    saved(phone)
    shot(phone, artifacts, "phone-without-websocket-saved")
    # The vote is stored: the console counts it.
    expect(page.locator(".bars")).to_contain_text(re.compile(r"Nee\s*1"), timeout=10_000)
    # And the phone still follows the facilitator, by asking over plain HTTP.
    Console(page).next()
    expect(phone.locator("h1.prompt")).to_have_text(re.compile("aanvullende"), timeout=20_000)
    phone_context.close()
    page.context.close()
