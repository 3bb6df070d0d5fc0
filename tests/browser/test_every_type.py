"""The sample session a new user starts first, "Team day: every question type", run end
to end from the repository's own sessions.yaml: a console, a projector at 1920×1080 and
three phones (Ann and Bo with JavaScript, Cy without), through every item type and a
timer. Every phone form and projector view of the newer types passes an axe scan with
no violation of any impact; screenshots of each step are kept in tests/artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import LIVE, PHONE, Console, expect, shot, start_run, violations
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = "team-day"


@pytest.fixture
def sample_server(tmp_path: Path) -> Any:
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=ROOT / "sessions.yaml")
    running.start()
    yield running
    running.stop()


def number(item_id: str) -> int:
    from poll.script import load_script

    session = load_script(ROOT / "sessions.yaml").sessions[SAMPLE]
    return session.index_of(item_id) + 1


def scanned(page: Any, artifacts: Path, name: str) -> None:
    """A screenshot to look at, and an axe scan that must find nothing."""
    shot(page, artifacts, name)
    found = violations(page)
    assert not found, f"{name}: {found}"


def saved(phone: Any) -> None:
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)


def test_the_sample_session_with_every_type_end_to_end(
    browser: Any, sample_server: PollServer, artifacts: Path
) -> None:
    server = sample_server
    console, code = start_run(browser, server, "Team day")
    facilitator = Console(console)
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator("#join")).to_be_visible(timeout=LIVE)

    def phone(javascript: bool = True) -> Any:
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=javascript)
        if not javascript:
            # The page's own scripts never load, as on a phone without JavaScript (the
            # browser's stays on for the axe scan, and the page's refresh stays off).
            context.route("**/static/*.js", lambda route: route.abort())
        page = context.new_page()
        page.goto(f"{server.url}/r/{code}")
        return page

    ann, bo, cy = phone(), phone(), phone(javascript=False)

    # A word cloud: words with and without JavaScript, counted together.
    facilitator.go(number("one-word"))
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)  # off after the first item
    expect(ann.get_by_label("Word 1")).to_be_visible(timeout=LIVE)
    ann.get_by_label("Word 1").fill("Busy")
    ann.get_by_label("Word 2").fill("fun")
    scanned(ann, artifacts, "every-phone-wordcloud")
    ann.get_by_role("button", name="Send answer").click()
    saved(ann)
    bo.get_by_label("Word 1").fill("busy!")
    bo.get_by_role("button", name="Send answer").click()
    saved(bo)
    cy.reload()
    cy.get_by_label("Word 1").fill("BUSY")
    cy.get_by_role("button", name="Send answer").click()
    saved(cy)
    cloud = projector.locator(".wordcloud-cloud li[data-key=busy]")
    expect(cloud).to_contain_text("Busy", timeout=LIVE)
    expect(projector.locator("#footer-count")).to_have_text("3 people answered", timeout=LIVE)
    scanned(projector, artifacts, "every-projector-wordcloud")

    # Yes/no with hidden results, choice, scale and ranking: the older types still work.
    facilitator.go(number("on-track"))
    expect(ann.get_by_role("button", name="Yes")).to_be_visible(timeout=LIVE)
    ann.get_by_role("button", name="Yes").click()
    saved(ann)
    facilitator.go(number("best-part"))
    expect(bo.get_by_label("Pairing")).to_be_visible(timeout=LIVE)
    bo.get_by_label("Pairing").check()
    bo.get_by_role("button", name="Send answer").click()
    saved(bo)
    facilitator.go(number("how-it-felt"))
    group = ann.get_by_role("group", name="Our meetings are useful")
    group.get_by_role("radio", name=re.compile(r"^4\b")).check()
    ann.get_by_role("button", name="Send answer").click()
    saved(ann)
    facilitator.go(number("next-focus"))
    cy.reload()
    for place, option in enumerate(("test-automation", "onboarding", "documentation"), 1):
        cy.get_by_label(f"Place {place}").select_option(option)
    cy.get_by_role("button", name="Send answer").click()
    saved(cy)
    expect(projector.locator("#screen")).to_contain_text("Test automation", timeout=LIVE)

    # Open answers on a 90-second timer: the countdown on phone and projector.
    facilitator.go(number("one-change"))
    expect(ann.locator("#countdown")).to_be_visible(timeout=LIVE)
    expect(projector.locator("#countdown")).to_be_visible(timeout=LIVE)
    expect(ann.locator("#countdown .countdown-clock")).to_have_text(re.compile(r"^1:[0-3]\d$"))
    scanned(ann, artifacts, "every-phone-timer")
    scanned(projector, artifacts, "every-projector-timer")
    ann.get_by_label("Write your answer").fill("Fewer meetings on Mondays")
    ann.get_by_role("button", name="Send", exact=True).click()
    saved(ann)

    # A moderated Q&A: a question waits for the console, then gets an upvote.
    facilitator.go(number("ask-the-lead"))
    expect(ann.get_by_label("Ask a question")).to_be_visible(timeout=LIVE)
    ann.get_by_label("Ask a question").fill("When do we hire the next tester?")
    scanned(ann, artifacts, "every-phone-qa")
    ann.get_by_role("button", name="Ask", exact=True).click()
    saved(ann)
    waiting = console.locator(".qa-console .qa-item.state-pending")
    expect(waiting).to_contain_text("next tester", timeout=LIVE)
    waiting.get_by_role("button", name="Approve").click()
    upvote = bo.locator(".qa-item", has_text="next tester").get_by_role("button")
    expect(upvote).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    upvote.click()
    expect(upvote).to_have_attribute("aria-pressed", "true", timeout=LIVE)
    expect(projector.locator("#screen")).to_contain_text("next tester", timeout=LIVE)
    scanned(bo, artifacts, "every-phone-qa-board")
    scanned(projector, artifacts, "every-projector-qa")

    # The quiz: nicknames at the first question, the clock, two reveals.
    facilitator.go(number("releases"))
    expect(ann.get_by_label("Your nickname")).to_be_visible(timeout=LIVE)
    expect(projector.locator("#countdown")).to_be_visible(timeout=LIVE)
    scanned(ann, artifacts, "every-phone-quiz")
    scanned(projector, artifacts, "every-projector-quiz")
    answers = {ann: ("Ann", "Twelve"), bo: ("Bo", "Four"), cy: ("Cy", "Twelve")}
    for player, (nickname, answer) in answers.items():
        if player is cy:
            cy.reload()
        player.get_by_label("Your nickname").fill(nickname)
        player.locator("form.vote button.quiz-option", has_text=answer).click()
        saved(player)
    facilitator.click("Close voting")
    facilitator.click("Show results")
    expect(projector.locator("#screen .quiz-right")).to_contain_text("Twelve", timeout=LIVE)
    expect(ann.locator(".standing.right h2")).to_have_text("Right!", timeout=LIVE)
    scanned(projector, artifacts, "every-projector-quiz-answer")
    facilitator.click("Show leaderboard")
    names = projector.locator("#screen ol.standings .standings-name")
    expect(names.first).to_have_text(re.compile("^(Ann|Cy)$"), timeout=LIVE)
    expect(names).to_have_count(3)
    scanned(projector, artifacts, "every-projector-quiz-leaderboard")
    cy.reload()
    expect(cy.locator(".standing-name")).to_have_text("Cy")
    scanned(cy, artifacts, "every-phone-quiz-leaderboard-nojs")

    # The second quiz question: no nickname asked again; then the final podium.
    facilitator.go(number("coffee"))
    expect(bo.get_by_label("Your nickname")).to_have_count(0, timeout=LIVE)
    bo.locator("form.vote button.quiz-option", has_text="Stroopwafels").click()
    saved(bo)
    facilitator.go(number("standings"))
    expect(projector.locator("#screen .podium-name")).to_have_count(3, timeout=LIVE)
    scanned(projector, artifacts, "every-projector-podium")
    expect(ann.locator(".standing .standing-number")).to_be_visible(timeout=LIVE)
    scanned(ann, artifacts, "every-phone-podium")
    expect(bo.locator(".standing-name")).to_have_text("Bo", timeout=LIVE)
    shot(console, artifacts, "every-console-standings")

    # The CSV holds every type's answers.
    csv = console.context.request.get(
        server.url + (console.get_by_role("link", name="Answers (CSV)").get_attribute("href") or "")
    ).text()
    for question in ("one-word", "on-track", "best-part", "how-it-felt", "next-focus"):
        assert f",{question}," in csv or f"{question}" in csv
    assert "When do we hire the next tester?" in csv and "Fewer meetings on Mondays" in csv
    for browser_context in (ann.context, bo.context, cy.context, console.context):
        browser_context.close()
