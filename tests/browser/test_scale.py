"""On a phone with JavaScript, a Likert block is rated by tapping steps; the projector
shows each statement's distribution with its mean; both screens pass an axe scan."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import (
    LIVE,
    PHONE,
    Console,
    expect,
    shot,
    start_run,
    violations,
)
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser


def test_a_phone_rates_statements_and_the_projector_shows_the_means(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console, code = start_run(browser, server, "Stelling")
    Console(console).go(number_of("stellingen", "scale"))

    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator("#screen .title")).to_have_text(
        "Hoe kijk je naar het plein?", timeout=LIVE
    )

    phones = []
    for ratings in (
        {"De verlichting is goed": "4", "Het plein is veilig": "2"},
        {"De verlichting is goed": "5"},
    ):
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
        phone.goto(f"{server.url}/r/{code}")
        for statement, value in ratings.items():
            group = phone.get_by_role("group", name=statement)
            group.get_by_role("radio", name=re.compile(f"^{value}\\b")).check()
        phone.get_by_role("button", name="Antwoord versturen").click()
        expect(phone.locator("#vote-status")).to_have_text(re.compile("opgeslagen"), timeout=LIVE)
        phones.append(phone)

    phone = phones[0]
    # Her ratings stay ticked, and the button now changes them.
    light = phone.get_by_role("group", name="De verlichting is goed")
    expect(light.get_by_role("radio", name=re.compile(r"^4\b"))).to_be_checked()
    expect(phone.get_by_role("button", name="Antwoord wijzigen")).to_be_visible()
    shot(phone, artifacts, "phone-scale")
    assert not violations(phone)

    statements = projector.locator("#screen .scale-statement")
    expect(statements).to_have_count(3, timeout=LIVE)
    expect(statements.nth(2).locator(".scale-mean")).to_contain_text("4,5", timeout=LIVE)
    expect(statements.nth(0).locator(".scale-mean")).to_contain_text("2,0", timeout=LIVE)
    expect(statements.nth(1).locator(".scale-mean")).to_contain_text("Beoordelingen: 0")
    expect(statements.nth(2).locator(".scale-mean-at")).to_have_class(re.compile(r"\bw88\b"))
    shot(projector, artifacts, "projector-scale")
    assert not violations(projector)
    # The console shows the same, smaller.
    expect(console.locator(".scale-results .scale-statement")).to_have_count(3, timeout=LIVE)
    expect(console.locator(".scale-results .scale-mean").nth(2)).to_contain_text(
        "4.5", timeout=LIVE
    )
    shot(console, artifacts, "console-scale")
    console.context.close()
