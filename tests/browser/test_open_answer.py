"""On a phone with JavaScript, an open question that takes one answer can be changed while open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import LIVE, PHONE, Console, expect, shot, start_run
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser


def test_a_phone_changes_its_open_answer(browser: Any, server: PollServer, artifacts: Path) -> None:
    console, code = start_run(browser, server, "One idea each")
    Console(console).go(number_of("idea", "one-idea"))

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    field = phone.get_by_label("Write your answer")
    field.fill("More trees")
    phone.get_by_role("button", name="Send").click()
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    # Her answer stays in the field, and the button now changes it.
    expect(field).to_have_value("More trees")
    change = phone.get_by_role("button", name="Change answer")
    expect(change).to_be_visible()
    expect(console.locator("body")).to_contain_text("More trees", timeout=LIVE)

    field.fill("More trees and benches")
    # Edited but not sent: the page no longer says "saved".
    expect(phone.locator("#vote-status")).to_have_text("Not sent yet: send to save your change.")
    change.click()
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    expect(field).to_have_value("More trees and benches")
    shot(phone, artifacts, "phone-open-answer-changed")
    # The wall shows the new answer in place of the old one.
    expect(console.locator("body")).to_contain_text("More trees and benches", timeout=LIVE)
    expect(console.get_by_text("More trees", exact=True)).to_have_count(0, timeout=LIVE)
    console.context.close()
