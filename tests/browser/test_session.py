"""A whole session of the tests' script in real Chromium: a facilitator's console, the projector,
and three phones (one without JavaScript), checking what each screen shows."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
LIVE = 5000  # ms: updates arrive well within a second; the margin is for slow CI machines


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def shot(page: Any, artifacts: Path, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=False)


def decode_qr(png: Path) -> str:
    import zxingcpp

    results = zxingcpp.read_barcodes(Image.open(png))
    assert results, f"no QR code found in {png}"
    return str(results[0].text)


def violations(page: Any, impacts: tuple[str, ...] | None = None) -> list[str]:
    """axe's violations on the page, of the given impacts (all of them by default)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if impacts is None or v["impact"] in impacts
    ]


def serious_violations(page: Any) -> list[str]:
    return violations(page, ("serious", "critical"))


class Console:
    """The facilitator's steps, as she would click them."""

    def __init__(self, page: Any) -> None:
        self.page = page

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).first.click()

    def next(self) -> None:
        before = self.page.locator("#current-title").inner_text()
        self.click("Next")
        expect(self.page.locator("#current-title")).not_to_have_text(before, timeout=LIVE)

    def go(self, number: int) -> None:
        self.page.locator(f"#go-{number - 1}").click()
        expect(self.page.locator("nav.items li.current .num")).to_have_text(
            str(number), timeout=LIVE
        )


def start_run(
    browser: Any, server: PollServer, session_title: str = "Gemengde wijken"
) -> tuple[Any, str]:
    """The facilitator signs in and starts a run: her console page and the 7-digit code."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US").new_page()
    page.goto(server.console_link())
    start = re.compile(f"Start a new run.*{re.escape(session_title)}")
    page.get_by_role("button", name=start).click()
    code = re.search(r"(\d{3}) (\d{4})", page.locator(".topbar .mono").inner_text())
    assert code, "no join code on the console"
    return page, code.group(1) + code.group(2)


def vote_button(page: Any, label: str) -> Any:
    return page.locator("form.vote button", has_text=re.compile(f"^{re.escape(label)}"))


def saved(page: Any) -> None:
    expect(page.locator("#vote-status")).to_have_text(re.compile("opgeslagen"), timeout=LIVE)


def test_whole_session(browser: Any, any_server: PollServer, artifacts: Path) -> None:
    server = any_server
    if server.label != "sqlite":  # keep the SQLite run's screenshots at the top level
        artifacts = artifacts / server.label
        artifacts.mkdir(exist_ok=True)
    facilitator = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
    page = facilitator.new_page()
    page.goto(server.console_link())
    assert "token" not in page.url, "the token must leave the address bar"
    expect(page.get_by_role("heading", name="Sessions")).to_be_visible()
    shot(page, artifacts, "01-console-sessions")
    assert not serious_violations(page)
    page.get_by_role("button", name=re.compile("Start a new run.*Gemengde wijken")).click()
    expect(page.locator("#current-title")).to_have_text("Leernetwerk Leefbaarheid & Veiligheid")
    console = Console(page)
    code = re.search(r"(\d{3}) (\d{4})", page.locator(".topbar .mono").inner_text())
    assert code
    code_digits = code.group(1) + code.group(2)

    projector = facilitator.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (page.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator("#join")).to_be_visible()
    expect(projector.locator(".big-code")).to_have_text(f"{code.group(1)} {code.group(2)}")
    shot(projector, artifacts, "02-projector-join")
    join_url = decode_qr(artifacts / "02-projector-join.png")
    assert join_url == f"{server.url}/r/{code_digits}"
    assert not serious_violations(projector)

    # Three phones: one scans the QR code, one types the code, one has no JavaScript.
    phones = []
    for kind in ("qr", "typed", "nojs"):
        context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, java_script_enabled=kind != "nojs"
        )
        phones.append(context.new_page())
    qr_phone, typed_phone, plain_phone = phones
    qr_phone.goto(join_url)
    typed_phone.goto(server.url + "/")
    shot(typed_phone, artifacts, "03-phone-landing")
    assert not serious_violations(typed_phone)
    typed_phone.get_by_label("Code from the screen").fill(f"{code.group(1)} {code.group(2)}")
    typed_phone.get_by_role("button", name="Join").click()
    plain_phone.goto(f"{server.url}/r/{code_digits}")
    for phone in phones:
        expect(phone.locator("#stage .slide-title")).to_have_text(
            "Leernetwerk Leefbaarheid & Veiligheid", timeout=LIVE
        )
        expect(phone.locator("#stage .waiting")).to_have_text("Wachten op de volgende vraag…")
    assert plain_phone.locator("noscript meta[http-equiv=refresh]").count() == 1
    shot(qr_phone, artifacts, "04-phone-waiting-slide")
    assert not serious_violations(qr_phone)
    # Every phone that joined counts, the one without JavaScript too (from its first
    # refresh, which brings its cookie back); two have a live connection.
    expect(page.locator(".meta").first).to_contain_text(
        "3 people joined · 2 connected now", timeout=15000
    )
    expect(projector.locator("#joined-count")).to_have_text("3 mensen doen mee", timeout=LIVE)

    # A content slide: projector shows it, phones follow with its title.
    console.next()
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)
    expect(projector.locator("#screen .title")).to_have_text("Opzet van de sessie", timeout=LIVE)
    expect(qr_phone.locator("#stage .slide-title")).to_have_text(
        "Opzet van de sessie", timeout=LIVE
    )
    shot(projector, artifacts, "05-projector-slide")

    # Yes/no: opens on arrival; votes show on the projector without reloading.
    console.go(number_of("herkennen"))
    expect(projector.locator("#screen .title")).to_have_text(
        "Herkennen jullie deze leervragen?", timeout=LIVE
    )
    vote_button(qr_phone, "Ja").click()
    saved(qr_phone)
    vote_button(typed_phone, "Nee").click()
    saved(typed_phone)
    plain_phone.reload()
    shot(plain_phone, artifacts, "06-phone-nojs-yesno")
    # axe runs as page script, so it cannot scan a page with JavaScript off:
    # scan the same server-rendered form with only poll's own script blocked.
    scan = browser.new_context(viewport=PHONE, is_mobile=True)
    scan.route("**/static/*.js", lambda route: route.abort())
    plain_scan = scan.new_page()
    plain_scan.goto(f"{server.url}/r/{code_digits}")
    expect(plain_scan.locator("form.vote button").first).to_be_visible()
    assert not serious_violations(plain_scan)
    scan.close()
    vote_button(plain_phone, "Ja").click()
    expect(plain_phone.locator("#vote-status")).to_have_text("Je antwoord is opgeslagen.")
    expect(projector.locator(".bar-value").first).to_contain_text("2", timeout=LIVE)
    expect(projector.locator("#footer-count")).to_have_text(
        "3 mensen hebben geantwoord", timeout=LIVE
    )
    shot(qr_phone, artifacts, "07-phone-yesno-saved")
    assert not serious_violations(qr_phone)
    # Changing an answer while voting is open.
    vote_button(qr_phone, "Nee").click()
    saved(qr_phone)
    expect(qr_phone.locator("button[aria-pressed=true]")).to_have_text("Nee")
    expect(projector.locator(".bar-value").nth(1)).to_contain_text("2", timeout=LIVE)
    shot(projector, artifacts, "08-projector-yesno")
    assert not serious_violations(projector)
    shot(page, artifacts, "09-console-yesno")
    assert not serious_violations(page)

    # Open text: a wall of cards; the facilitator hides one.
    console.next()
    for text in ("Hoe betrekken we jongeren?", "Wat werkt in kleine gemeenten?"):
        qr_phone.get_by_label("Schrijf je antwoord").fill(text)
        qr_phone.get_by_role("button", name="Versturen").click()
        saved(qr_phone)
    plain_phone.reload()
    plain_phone.get_by_label("Schrijf je antwoord").fill("=1+1 geen formule")
    plain_phone.get_by_role("button", name="Versturen").click()
    expect(plain_phone.locator("#vote-status")).to_have_text("Je antwoord is opgeslagen.")
    expect(projector.locator("#screen .cards li")).to_have_count(3, timeout=LIVE)
    shot(qr_phone, artifacts, "10-phone-open")
    assert not serious_violations(qr_phone)
    shot(projector, artifacts, "11-projector-open")
    assert not serious_violations(projector)
    row = page.locator("ul.texts li", has_text="kleine gemeenten")
    expect(row).to_be_visible(timeout=LIVE)
    row.get_by_role("button", name=re.compile("^Hide")).click()
    expect(projector.locator("#screen .cards li")).to_have_count(2, timeout=LIVE)
    expect(page.locator("ul.texts li.hidden-text")).to_have_count(1, timeout=LIVE)
    shot(page, artifacts, "12-console-open-moderated")
    assert not serious_violations(page)

    # Single choice; results shown to the phones by the facilitator.
    console.next()
    vote_button(qr_phone, "Nieuw aanbod nodig").click()
    saved(qr_phone)
    vote_button(typed_phone, "Voldoende").click()
    saved(typed_phone)
    console.click("Show results")
    expect(qr_phone.locator(".results-title")).to_be_visible(timeout=LIVE)
    expect(qr_phone.locator(".bars .bar-value").first).to_have_text("1 · 50%")
    shot(qr_phone, artifacts, "13-phone-results-shown")
    assert not serious_violations(qr_phone)

    # A slide between the blocks: phones wait.
    console.next()
    expect(typed_phone.locator("#stage .waiting")).to_be_visible(timeout=LIVE)

    # Multiple choice.
    console.next()
    expect(qr_phone.locator("fieldset legend")).to_be_visible(timeout=LIVE)
    qr_phone.get_by_label("Vakgenoten").check()
    qr_phone.get_by_label("Bewoners").check()
    qr_phone.get_by_role("button", name="Antwoord versturen").click()
    saved(qr_phone)
    shot(qr_phone, artifacts, "14-phone-multiple")
    assert not serious_violations(qr_phone)

    # Single choice, reset by the facilitator (after confirming), then voted again.
    console.next()
    vote_button(qr_phone, "Lokaal").click()
    saved(qr_phone)
    expect(page.locator(".status-line")).to_contain_text("1 person answered", timeout=LIVE)
    page.locator("details.confirm summary", has_text="Reset").click()
    shot(page, artifacts, "15-console-reset-confirm")
    page.get_by_role("button", name="Yes, delete the answers").click()
    expect(page.locator(".status-line")).to_contain_text("0 people answered", timeout=LIVE)
    expect(qr_phone.locator("button[aria-pressed=true]")).to_have_count(0, timeout=LIVE)
    vote_button(qr_phone, "Regionaal").click()
    saved(qr_phone)

    # Multiple choice with "other", keyboard on the projector closes the vote.
    console.next()
    qr_phone.get_by_label("Intervisie").check()
    qr_phone.get_by_label("Je eigen antwoord").fill("Wandelgesprekken in de wijk")
    qr_phone.get_by_role("button", name="Antwoord versturen").click()
    saved(qr_phone)
    plain_phone.reload()
    plain_phone.get_by_label("Stadslabs").check()
    plain_phone.get_by_label("Anders, namelijk").check()
    plain_phone.get_by_label("Je eigen antwoord").fill("@leerkring")
    plain_phone.get_by_role("button", name="Antwoord versturen").click()
    expect(plain_phone.locator("#vote-status")).to_have_text("Je antwoord is opgeslagen.")
    expect(projector.locator("#screen .cards.small li")).to_have_count(2, timeout=LIVE)
    shot(projector, artifacts, "16-projector-other")
    projector.locator("#main").focus()
    projector.keyboard.press("v")
    expect(qr_phone.locator("#stage .notice")).to_have_text(
        "Het stemmen is gesloten.", timeout=LIVE
    )
    shot(qr_phone, artifacts, "17-phone-closed")
    projector.keyboard.press("ArrowRight")
    expect(projector.locator("#screen .title")).to_have_text("Vervolg", timeout=LIVE)

    # End of the run.
    page.locator("details.end summary").click()
    page.get_by_role("button", name="Yes, end the run").click()
    for phone in (qr_phone, typed_phone):
        expect(phone.locator("#stage h1")).to_have_text(
            "Deze sessie is afgelopen. Bedankt voor het meedoen!", timeout=LIVE
        )
    shot(typed_phone, artifacts, "18-phone-ended")
    # Coming back after the end (a reload, the page without JavaScript, the code typed
    # again on the join page) is thanked too, not told there is no such session.
    ended = "Deze sessie is afgelopen. Bedankt voor het meedoen!"
    typed_phone.reload()
    expect(typed_phone.locator("#stage h1")).to_have_text(ended, timeout=LIVE)
    plain_phone.goto(f"{server.url}/r/{code_digits}")
    expect(plain_phone.locator("#stage h1")).to_have_text(ended)
    latecomer = browser.new_context(viewport=PHONE, is_mobile=True, locale="en-US").new_page()
    latecomer.goto(server.url + "/")
    latecomer.get_by_label("Code from the screen").fill(f"{code.group(1)} {code.group(2)}")
    latecomer.get_by_role("button", name="Join").click()
    expect(latecomer.locator("#stage h1")).to_have_text(ended, timeout=LIVE)
    expect(latecomer.locator("body")).not_to_contain_text("no session")
    latecomer.context.close()

    # The CSV from the console's list of runs.
    page.goto(server.url + "/console")
    shot(page, artifacts, "19-console-runs")
    with page.expect_download() as info:
        page.get_by_role("link", name="Answers (CSV)").first.click()
    data = Path(info.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    by_question: dict[str, list[dict[str, str]]] = {}
    for entry in rows:
        by_question.setdefault(entry["question_id"], []).append(entry)
    assert sorted(r["answer"] for r in by_question["herkennen"]) == ["Ja", "Nee", "Nee"]
    assert {r["answer"] for r in by_question["aanvullende-vragen"]} == {
        "Hoe betrekken we jongeren?",
        "Wat werkt in kleine gemeenten?",
        "'=1+1 geen formule",
    }
    assert [r["hidden"] for r in by_question["aanvullende-vragen"]].count("yes") == 1
    assert sorted(r["answer"] for r in by_question["met-wie"]) == ["Bewoners", "Vakgenoten"]
    assert [r["answer"] for r in by_question["schaalniveau"]] == ["Regionaal"]
    assert sorted((r["answer"], r["other_text"]) for r in by_question["manieren"]) == sorted(
        [
            ("Intervisie", ""),
            ("Anders, namelijk", "Wandelgesprekken in de wijk"),
            ("Stadslabs", ""),
            ("Anders, namelijk", "'@leerkring"),
        ]
    )
    assert {r["question_type"] for r in by_question["manieren"]} == {"choice-multiple"}
    assert {r["question_type"] for r in by_question["schaalniveau"]} == {"choice-single"}
    assert all(re.fullmatch(r"p-[0-9a-f]{8}", r["participant"]) for r in rows)
    assert all(r["answered_at"].endswith("Z") for r in rows)
    facilitator.close()
    for phone in phones:
        phone.context.close()
