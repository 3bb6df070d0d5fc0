"""A Q&A board in the browser: one phone asks (with a name), another upvotes it and
takes the upvote back; the console approves a moderated question, marks one answered
and pins one; the projector shows the pinned question large. The phone's form, the
phone's board and the projector pass an accessibility scan with no violation at all."""

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

SESSION = "qa"


def new_phone(browser: Any, url: str) -> Any:
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto(url)
    return page


def test_asking_upvoting_moderating_and_pinning(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console, code = start_run(browser, server, "Ask the alderman")
    Console(console).go(number_of("panel", SESSION))  # away and back: opens the first
    Console(console).go(number_of("ask", SESSION))
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))
    projector.keyboard.press("j")  # the first item shows the join screen over it: off
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)

    ann = new_phone(browser, f"{server.url}/r/{code}")
    expect(ann.get_by_label("Ask a question")).to_be_visible(timeout=LIVE)
    expect(ann.locator("#qa-help")).to_contain_text("0 of 280 characters.")
    expect(ann.get_by_text("No questions on the board yet.")).to_be_visible()
    ann.get_by_label("Ask a question").fill("When does the new bridge open?")
    ann.get_by_label("Your name (optional)").fill("Ann")
    expect(ann.locator("#qa-help")).to_contain_text("30 of 280 characters.")
    shot(ann, artifacts, "phone-qa-form")
    assert not violations(ann)
    ann.get_by_role("button", name="Ask", exact=True).click()
    expect(ann.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    expect(ann.locator(".qa-mine")).to_contain_text("When does the new bridge open?")
    # Her name is offered again for her next question; she may clear it.
    expect(ann.get_by_label("Your name (optional)")).to_have_value("Ann")
    expect(ann.locator("#qa-help")).to_contain_text("You can ask one more question.")
    # On the board her own question has no upvote button.
    mine = ann.locator(".qa-item", has_text="When does the new bridge open?")
    expect(mine).to_be_visible(timeout=LIVE)
    expect(mine.locator(".qa-own")).to_be_visible()
    expect(mine.locator("button.qa-vote")).to_be_hidden()

    # A second phone asks anonymously, and upvotes Ann's question.
    bo = new_phone(browser, f"{server.url}/r/{code}")
    bo.get_by_label("Ask a question").fill("Will the market stay on Saturdays?")
    bo.get_by_role("button", name="Ask", exact=True).click()
    expect(bo.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    # A draft she is typing stays while she upvotes.
    bo.get_by_label("Ask a question").fill("And the parking?")
    upvote = bo.locator(".qa-item", has_text="new bridge").get_by_role("button")
    expect(upvote).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    upvote.click()
    expect(upvote).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    expect(upvote).to_contain_text("1 vote", timeout=LIVE)
    expect(upvote).to_be_focused()
    expect(bo.get_by_label("Ask a question")).to_have_value("And the parking?")
    # The board sorts by votes: Ann's question (1 vote) above Bo's own (0).
    expect(bo.locator(".qa-list .qa-text").first).to_have_text("When does the new bridge open?")
    assert bo.locator(".qa-meta").first.inner_text().startswith("Ann")
    expect(bo.locator(".qa-item", has_text="market").locator(".qa-meta")).to_contain_text(
        "Anonymous"
    )
    shot(bo, artifacts, "phone-qa-board")
    bo.screenshot(path=str(artifacts / "phone-qa-board-full.png"), full_page=True)
    assert not violations(bo)
    # Taken back, and given again.
    upvote.click()
    expect(upvote).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    expect(upvote).to_contain_text("0 votes", timeout=LIVE)
    upvote.click()
    expect(upvote).to_have_attribute("aria-pressed", "true", timeout=LIVE)

    # The console marks Ann's question answered and pins Bo's.
    row = console.locator(".qa-console .qa-item", has_text="new bridge")
    expect(row).to_contain_text("Ann", timeout=LIVE)
    row.get_by_role("button", name="Mark answered").click()
    expect(row.locator(".badge", has_text="answered")).to_be_visible(timeout=LIVE)
    market = console.locator(".qa-console .qa-item", has_text="market")
    market.get_by_role("button", name="Pin to the projector").click()
    expect(market.locator(".badge", has_text="on the projector")).to_be_visible(timeout=LIVE)
    shot(console, artifacts, "console-qa")

    expect(projector.locator(".qa-pinned .qa-text")).to_have_text(
        "Will the market stay on Saturdays?", timeout=LIVE
    )
    answered = projector.locator(".qa-wall .qa-item.answered")
    expect(answered).to_contain_text("When does the new bridge open?", timeout=LIVE)
    expect(answered).to_contain_text("Answered")
    expect(answered.locator(".qa-name")).to_have_text("— Ann")
    shot(projector, artifacts, "projector-qa")
    assert not violations(projector)
    expect(bo.locator(".qa-item.pinned")).to_contain_text("On the screen now", timeout=LIVE)

    # A full board: the projector shows as many as fit under the pinned question and
    # counts the rest (phones without the page script, to be quick).
    crowd = browser.new_context(viewport=PHONE, is_mobile=True)
    crowd.route("**/static/*.js", lambda route: route.abort())
    for n in range(8):
        asker = crowd.new_page()
        asker.goto(f"{server.url}/r/{code}")
        asker.get_by_label("Ask a question").fill(
            f"Question {n + 1}: what will the plan for the square mean for the shops, the "
            "market, the traffic on the ring road and the people who live around it?"
        )
        asker.get_by_role("button", name="Ask", exact=True).click()
        expect(asker.locator("#vote-status")).to_have_text("Your answer is saved.")
        asker.close()
        crowd.clear_cookies()
    expect(projector.locator(".qa-more")).to_have_text("And 5 more questions", timeout=LIVE)
    last = projector.locator(".qa-wall .qa-item").last.bounding_box()
    footer = projector.locator(".joinbar").bounding_box()
    assert last and footer and last["y"] + last["height"] <= footer["y"]
    shot(projector, artifacts, "projector-qa-full")
    crowd.close()

    # The moderated board: nothing shows until the console approves it.
    Console(console).go(number_of("panel", SESSION))
    expect(ann.get_by_text("The facilitator reads each question")).to_be_visible(timeout=LIVE)
    ann.get_by_label("Ask a question").fill("Who is on the panel?")
    ann.get_by_role("button", name="Ask", exact=True).click()
    expect(ann.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    expect(ann.locator(".qa-mine")).to_contain_text("Who is on the panel?")
    waiting = console.locator(".qa-console .qa-item.state-pending")
    expect(waiting).to_contain_text("waiting for approval", timeout=LIVE)
    expect(bo.get_by_text("No questions on the board yet.")).to_be_visible(timeout=LIVE)
    expect(projector.locator(".qa-empty")).to_be_visible(timeout=LIVE)
    waiting.get_by_role("button", name="Approve").click()
    expect(bo.locator(".qa-list .qa-text")).to_have_text("Who is on the panel?", timeout=LIVE)
    expect(projector.locator(".qa-wall .qa-text")).to_contain_text("Who is on the panel?")
    row = console.locator(".qa-console .qa-item")
    row.get_by_role("button", name="Pin to the projector").click()
    expect(projector.locator(".qa-pinned .qa-text")).to_have_text(
        "Who is on the panel?", timeout=LIVE
    )
    shot(projector, artifacts, "projector-qa-pinned")
    assert not violations(projector)

    # Without the page script, the same board: each upvote is a form of its own.
    plain = browser.new_context(viewport=PHONE, is_mobile=True)
    plain.route("**/static/*.js", lambda route: route.abort())
    plain.route("**/static/questions/*.js", lambda route: route.abort())
    cy = plain.new_page()
    cy.goto(f"{server.url}/r/{code}")
    button = cy.locator(".qa-item", has_text="panel").get_by_role("button")
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(cy.locator("#vote-status")).to_have_text("Your answer is saved.")
    button = cy.locator(".qa-item", has_text="panel").get_by_role("button")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_contain_text("1 vote")
    shot(cy, artifacts, "phone-qa-nojs")
    assert not violations(cy)
    plain.close()
    console.context.close()
