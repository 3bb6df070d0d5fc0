"""What a phone says of her answer matches what the server has, and what she typed
but has not sent survives the facilitator moving on and back."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.test_session import LIVE, PHONE, Console, expect, saved, start_run
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

SAVED = "Je antwoord is opgeslagen."
UNSENT = "Nog niet verstuurd: verstuur om je wijziging op te slaan."


def test_saved_follows_the_form_on_a_multiple_choice(browser: Any, server: PollServer) -> None:
    page, code = start_run(browser, server, "Gemengde wijken")
    console = Console(page)
    console.go(number_of("met-wie"))
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    status = phone.locator("#vote-status")

    phone.get_by_label("Vakgenoten").check()
    phone.get_by_label("Bewoners").check()
    expect(status).to_have_text("")  # nothing sent yet
    phone.get_by_role("button", name="Antwoord versturen").click()
    saved(phone)

    # She unticks one: what the server has is no longer what the form shows.
    phone.get_by_label("Bewoners").uncheck()
    expect(status).not_to_have_text(SAVED)
    expect(status).to_have_text(UNSENT)
    # Ticked again, the form is what was saved.
    phone.get_by_label("Bewoners").check()
    expect(status).to_have_text(SAVED)
    # A redraw (another phone's vote, the facilitator's count) changes nothing of that.
    phone.get_by_label("Bewoners").uncheck()
    other = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    other.goto(f"{server.url}/r/{code}")
    other.get_by_label("Vakgenoten").check()
    other.get_by_role("button", name="Antwoord versturen").click()
    saved(other)
    expect(status).not_to_have_text(SAVED)
    expect(phone.get_by_label("Bewoners")).not_to_be_checked()
    # The facilitator moves on and back: her change is still there, still not sent.
    console.next()
    expect(phone.get_by_label("Bewoners")).to_have_count(0, timeout=LIVE)
    console.go(number_of("met-wie"))
    expect(phone.get_by_label("Bewoners")).not_to_be_checked(timeout=LIVE)
    expect(phone.get_by_label("Vakgenoten")).to_be_checked()
    expect(status).to_have_text(UNSENT)
    # Sent: saved again, and the server has the one option.
    phone.get_by_role("button", name="Antwoord wijzigen").click()
    saved(phone)
    expect(page.locator("body")).to_contain_text("2 people answered", timeout=LIVE)
    page.context.close()


def test_an_unsent_draft_survives_moving_on_and_back(browser: Any, server: PollServer) -> None:
    page, code = start_run(browser, server, "Gemengde wijken")
    projector = page.context.new_page()
    projector.goto(server.url + (page.locator("#open-projector").get_attribute("href") or ""))
    console = Console(page)
    console.go(number_of("aanvullende-vragen"))
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    field = phone.get_by_label("Schrijf je antwoord")
    field.fill("Hoe houden we bewoners betrokken?")

    console.next()  # the facilitator moves on before she sends
    expect(phone.get_by_label("Schrijf je antwoord")).to_have_count(0, timeout=LIVE)
    console.go(number_of("aanvullende-vragen"))
    expect(field).to_have_value("Hoe houden we bewoners betrokken?", timeout=LIVE)

    # Also after a reload (the same tab): kept for the session of the browser tab.
    console.next()
    phone.reload()
    console.go(number_of("aanvullende-vragen"))
    expect(field).to_have_value("Hoe houden we bewoners betrokken?", timeout=LIVE)

    # Sent, the draft is gone: back again, the field is empty for her next answer.
    phone.get_by_role("button", name="Versturen").click()
    saved(phone)
    expect(field).to_have_value("")
    console.next()
    console.go(number_of("aanvullende-vragen"))
    expect(phone.locator("ul.mine li")).to_have_text(["Hoe houden we bewoners betrokken?"])
    expect(field).to_have_value("", timeout=LIVE)

    # Several answers from one person: the projector counts people and answers apart.
    field.fill("Wie betaalt?")
    phone.get_by_role("button", name="Versturen").click()
    saved(phone)
    expect(projector.locator("#footer-count")).to_have_text(
        "1 persoon heeft geantwoord · 2 antwoorden", timeout=LIVE
    )
    page.context.close()
