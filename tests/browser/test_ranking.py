"""On a phone with JavaScript, a ranking is put in order by buttons and by dragging;
the projector shows the options by score; both screens pass an accessibility scan."""

from __future__ import annotations

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


def labels(page: Any) -> list[str]:
    return list(page.locator(".ranking-list .ranking-label").all_inner_texts())


def test_a_phone_ranks_by_buttons_and_drag(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console, code = start_run(browser, server, "Rank the plans")
    # A run starts on its first item without opening it: go there, which opens it.
    Console(console).go(number_of("top-two", "ranking"))
    Console(console).go(number_of("plans", "ranking"))
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    expect(phone.locator(".ranking-list li")).to_have_count(3, timeout=LIVE)
    # The selects are there for the page script, out of sight.
    expect(phone.locator("select[name=rank-1]")).to_be_hidden()
    assert labels(phone) == ["More trees", "Benches", "A playground"]

    # Keyboard and screen-reader path: the buttons name their option; the move is announced.
    up = phone.get_by_role("button", name="Move A playground up")
    up.click()
    up.click()
    assert labels(phone) == ["A playground", "More trees", "Benches"]
    expect(phone.locator(".ranking [aria-live=polite]")).to_have_text(
        "A playground is now in place 1 of 3."
    )
    expect(up).to_be_disabled()
    expect(phone.locator("select[name=rank-1]")).to_have_value("a-playground")

    # Drag: Benches above More trees.
    benches = phone.locator(".ranking-item", has_text="Benches").locator(".ranking-grip")
    trees = phone.locator(".ranking-item", has_text="More trees")
    start, target = benches.bounding_box(), trees.bounding_box()
    assert start and target
    phone.mouse.move(start["x"] + 20, start["y"] + start["height"] / 2)
    phone.mouse.down()
    phone.mouse.move(target["x"] + 20, target["y"] + 5, steps=8)
    phone.mouse.up()
    assert labels(phone) == ["A playground", "Benches", "More trees"]
    expect(phone.locator("select[name=rank-3]")).to_have_value("more-trees")
    shot(phone, artifacts, "phone-ranking-ordered")
    assert not violations(phone)

    phone.get_by_role("button", name="Send answer").click()
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    # Redrawn for her answer, the list keeps her order.
    expect(phone.locator(".ranking-list .ranking-label").first).to_have_text(
        "A playground", timeout=LIVE
    )
    assert labels(phone) == ["A playground", "Benches", "More trees"]

    expect(projector.locator("#screen .bar-label").first).to_have_text("A playground", timeout=LIVE)
    expect(projector.locator("#screen .ranking-bars")).to_contain_text("2 points")
    expect(projector.locator("#screen .ranking-bars")).to_contain_text("average place 1.0")
    assert projector.locator("#screen .bar-label").all_inner_texts() == [
        "A playground",
        "Benches",
        "More trees",
    ]
    projector.keyboard.press("j")  # the first item shows the join screen over it: off
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)
    shot(projector, artifacts, "projector-ranking")
    assert not violations(projector)

    # A top 2 of four: the options below place 2 are shown as not ranked.
    Console(console).go(number_of("top-two", "ranking"))
    expect(phone.locator(".ranking-list li")).to_have_count(4, timeout=LIVE)
    up = phone.get_by_role("button", name="Move Sports day up")
    for _ in range(3):
        up.click()
    live = phone.locator(".ranking [aria-live=polite]")
    expect(live).to_have_text("Sports day is now in place 1 of 2.")
    phone.get_by_role("button", name="Move Music nights down").click()
    expect(live).to_have_text("Music nights is now not ranked.")
    assert labels(phone) == ["Sports day", "Market", "Music nights", "Open-air cinema"]
    expect(phone.locator(".ranking-item.unranked")).to_have_count(2)
    expect(phone.locator("select[name=rank-2]")).to_have_value("market")
    shot(phone, artifacts, "phone-ranking-top-two")
    assert not violations(phone)
    phone.get_by_role("button", name="Send answer").click()
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    expect(projector.locator("#screen .bar-label").first).to_have_text("Sports day", timeout=LIVE)

    # Without the page script, the same form is one select per place (axe runs as page
    # script, so only poll's own scripts are blocked, as in the whole-session test).
    plain = browser.new_context(viewport=PHONE, is_mobile=True)
    plain.route("**/static/*.js", lambda route: route.abort())
    plain_phone = plain.new_page()
    plain_phone.goto(f"{server.url}/r/{code}")
    expect(plain_phone.get_by_label("Place 2")).to_be_visible()
    expect(plain_phone.locator("select")).to_have_count(2)  # the top 2
    expect(plain_phone.locator(".ranking-list")).to_have_count(0)
    plain_phone.get_by_label("Place 1").select_option("cinema")
    shot(plain_phone, artifacts, "phone-ranking-nojs")
    assert not violations(plain_phone)
    plain.close()
    console.context.close()
