"""A quiz in real Chromium: two phones (one without JavaScript) pick nicknames and answer
against the clock, the console reveals the right answer and then the leaderboard, the
projector at 1920×1080 shows the options, the reveal, the top list and the podium, and
each phone its own points and place; every screen passes an accessibility scan."""

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


def option(page: Any, label: str) -> Any:
    return page.locator("form.vote button.quiz-option", has_text=label)


def test_a_quiz_from_nicknames_to_the_podium(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console, code = start_run(browser, server, "Pub quiz")
    facilitator = Console(console)
    facilitator.go(number_of("capital", "quiz"))
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator("#screen .quiz-tiles li")).to_have_count(4, timeout=LIVE)
    expect(projector.locator("#countdown")).to_be_visible()
    shot(projector, artifacts, "projector-quiz-question")
    assert not violations(projector)

    # Ann's phone runs the page script: the countdown, a nickname, four lettered answers.
    ann = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    ann.goto(f"{server.url}/r/{code}")
    expect(ann.locator("form.vote button.quiz-option")).to_have_count(4, timeout=LIVE)
    expect(ann.locator("#countdown")).to_be_visible()
    expect(ann.get_by_label("Your nickname")).to_be_visible()
    shot(ann, artifacts, "phone-quiz-form")
    assert not violations(ann)
    ann.get_by_label("Your nickname").fill("Ann")
    option(ann, "Paris").click()
    expect(ann.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    expect(ann.locator("ul.quiz-mine")).to_contain_text("Paris")
    expect(ann.locator("form.vote")).to_have_count(0)  # one answer, no change

    # Bob's phone has no page script: the same form posts and comes back.
    plain = browser.new_context(viewport=PHONE, is_mobile=True)
    plain.route("**/static/*.js", lambda route: route.abort())
    bob = plain.new_page()
    bob.goto(f"{server.url}/r/{code}")
    bob.get_by_label("Your nickname").fill("ANN")
    option(bob, "Rome").click()
    expect(bob.locator("#vote-status")).to_have_text(
        "Somebody else plays as ANN; choose another nickname."
    )
    shot(bob, artifacts, "phone-quiz-nickname-taken-nojs")
    assert not violations(bob)
    bob.get_by_label("Your nickname").fill("Bob")
    option(bob, "Rome").click()
    expect(bob.locator("#vote-status")).to_have_text("Your answer is saved.")
    expect(projector.locator("#screen .answer-count")).to_have_text(
        "2 people answered", timeout=LIVE
    )

    # Step 1: the right answer, on the projector and on each phone.
    facilitator.click("Close voting")
    facilitator.click("Show results")
    expect(projector.locator("#screen .quiz-right")).to_contain_text("Paris", timeout=LIVE)
    expect(projector.locator("#screen .quiz-right-count")).to_have_text("1 of 2 answered right")
    shot(projector, artifacts, "projector-quiz-answer")
    assert not violations(projector)
    expect(ann.locator(".standing.right h2")).to_have_text("Right!", timeout=LIVE)
    expect(ann.locator(".standing-earned")).to_contain_text("points")
    expect(ann.locator("#results .quiz-right")).to_contain_text("Paris")
    shot(ann, artifacts, "phone-quiz-answer")
    assert not violations(ann)
    bob.reload()
    expect(bob.locator(".standing.wrong h2")).to_have_text("Not right this time.")

    # Step 2: the leaderboard, a mark on the question.
    expect(console.get_by_role("button", name="Show leaderboard")).to_be_visible(timeout=LIVE)
    facilitator.click("Show leaderboard")
    names = projector.locator("#screen ol.standings .standings-name")
    expect(names).to_have_text(["Ann", "Bob"], timeout=LIVE)
    expect(projector.locator("#screen ol.standings .standings-place")).to_have_text(
        ["Place 1", "Place 2"]
    )
    shot(projector, artifacts, "projector-quiz-leaderboard")
    assert not violations(projector)
    expect(ann.locator(".standing .standing-number")).to_have_text("1", timeout=LIVE)
    expect(ann.locator(".standing-name")).to_have_text("Ann")
    shot(ann, artifacts, "phone-quiz-leaderboard")
    assert not violations(ann)
    bob.reload()
    expect(bob.locator(".standing .standing-number")).to_have_text("2")
    expect(bob.locator(".standing-score")).to_have_text("0 points")
    shot(bob, artifacts, "phone-quiz-leaderboard-nojs")
    assert not violations(bob)
    expect(console.locator(".standings-table tbody tr")).to_have_count(2, timeout=LIVE)
    shot(console, artifacts, "console-quiz-leaderboard")

    # The second question: Bob plays on without being asked his nickname again.
    facilitator.go(number_of("giants", "quiz"))
    bob.reload()
    expect(bob.get_by_label("Your nickname")).to_have_count(0)
    option(bob, "Saturn").click()
    expect(bob.locator("#vote-status")).to_have_text("Your answer is saved.")

    # The half-time standings are a list; the session's last leaderboard a podium.
    facilitator.go(number_of("half-time", "quiz"))
    expect(projector.locator("#screen .title")).to_have_text("Half time", timeout=LIVE)
    expect(projector.locator("#screen ol.podium")).to_have_count(0)
    facilitator.go(number_of("final", "quiz"))
    expect(projector.locator("#screen .podium-name")).to_have_text(["Ann", "Bob"], timeout=LIVE)
    shot(projector, artifacts, "projector-quiz-podium")
    assert not violations(projector)
    expect(ann.locator(".slide-title")).to_have_text("Final standings", timeout=LIVE)
    expect(ann.locator(".standing .standing-number")).to_have_text("1")
    shot(ann, artifacts, "phone-leaderboard-item")
    assert not violations(ann)
    bob.reload()
    expect(bob.locator(".standing .standing-number")).to_have_text("2")
    expect(bob.locator(".standing-score")).not_to_have_text("0 points")
    plain.close()
    ann.context.close()
    console.context.close()
