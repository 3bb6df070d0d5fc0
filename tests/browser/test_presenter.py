"""The presenter's console in real Chromium, on a laptop beside the projector: the
facilitator's notes (never on the projector or a phone), the next item, the clock
and the run's time in the browser's own zone and language, the join screen and the
results as she sets them (whatever browser the projector runs in), errors that stay,
and the run's overview after the end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.test_session import LIVE, PHONE, expect, violations
from tests.support.artifacts import readme_image
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "tests" / "fixtures" / "presenter.yaml"
#: Words only the notes of the script hold.
SECRET = "Secret-note-marker"
LAPTOPS = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})


@pytest.fixture
def server(tmp_path: Path) -> Iterator[PollServer]:
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=SCRIPT).start()
    yield running
    running.stop()


def laptop(
    browser: Any,
    server: PollServer,
    *,
    locale: str = "en-GB",
    zone: str = "Europe/Amsterdam",
    size: dict[str, int] = LAPTOPS[0],
) -> Any:
    """A signed-in browser of its own (cookies, storage): a laptop, or a projector's PC."""
    context = browser.new_context(viewport=size, locale=locale, timezone_id=zone)
    page = context.new_page()
    page.goto(server.console_link())
    return page


def start_run(page: Any) -> str:
    """Start the town hall from the sessions page; the run's console is on `page`. Its id."""
    page.get_by_role("button", name=re.compile("Neighbourhood town hall")).click()
    expect(page.locator("#current-title")).to_have_text("Welcome to the town hall")
    online(page)
    return str(page.locator("#main").get_attribute("data-room"))


def online(page: Any) -> None:
    expect(page.locator("#main")).to_have_attribute("data-live", "online", timeout=LIVE)


def projector_in_its_own_browser(browser: Any, server: PollServer, room: str) -> Any:
    """The projector as a second computer opens it: not from the console's window."""
    page = laptop(browser, server, size={"width": 1920, "height": 1080})
    page.goto(f"{server.url}/projector/{room}")
    return page


def go_to(console: Any, title: str) -> None:
    number = console.locator("nav.items li", has_text=title).locator(".num").inner_text()
    console.locator(f"#go-{int(number) - 1}").click()
    expect(console.locator("#current-title")).to_have_text(title, timeout=LIVE)


def frames_of(page: Any) -> list[str]:
    """Every websocket message the page receives from now on (a list that grows)."""
    seen: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: seen.append(str(frame))))
    return seen


def local_clock(iso: str, zone: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%H:%M")


def test_the_presenter_sees_notes_and_what_comes_next_and_the_audience_never_the_notes(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console = laptop(browser, server)
    room = start_run(console)
    projector = projector_in_its_own_browser(browser, server, room)
    projector_frames = frames_of(projector)
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone_frames = frames_of(phone)
    code = console.locator(".topbar .mono").inner_text().split(" ", 1)[1].replace(" ", "")
    phone.goto(f"{server.url}/r/{code}")
    expect(phone.locator("#stage .slide-title")).to_have_text("Welcome to the town hall")

    # The slide's notes, rendered from Markdown, and the next question with its options.
    notes = console.locator(".notes .notes-body")
    expect(notes.locator("strong")).to_have_text("library")
    expect(notes.locator("a")).to_have_attribute("href", "https://example.org/plan")
    following = console.locator("section.next")
    expect(following.locator(".next-title")).to_have_text("Should the playground open on Sundays?")
    expect(following.locator(".next-options li")).to_have_text(["Yes", "No"])
    expect(console.locator("#elapsed")).to_have_text(re.compile(r"^\d+:\d\d:\d\d$"))

    # The question whose notes hold the secret: on the console, nowhere else.
    go_to(console, "Should the playground open on Sundays?")
    expect(notes).to_contain_text(SECRET)
    expect(console.locator(".current .meta")).to_contain_text("1 connected now", timeout=LIVE)
    expect(projector.locator("#screen .title")).to_have_text(
        "Should the playground open on Sundays?", timeout=LIVE
    )
    expect(phone.locator("form.vote")).to_be_visible(timeout=LIVE)
    phone.locator("form.vote button", has_text="Yes").click()
    expect(phone.locator("#vote-status")).to_contain_text("saved", timeout=LIVE)
    expect(console.locator(".status-line")).to_contain_text("1 person answered", timeout=LIVE)
    for page in (projector, phone):
        page.reload()
        expect(page.locator("body")).to_contain_text("Should the playground open on Sundays?")
        assert SECRET not in page.content()
    assert projector_frames and phone_frames, "both audiences should have had snapshots"
    assert not [frame for frame in projector_frames + phone_frames if SECRET in frame]
    assert not [f for f in projector_frames + phone_frames if '"notes' in f]

    # A question with a countdown: the console counts it down too.
    go_to(console, "Where should the budget go first?")
    expect(console.locator("#countdown")).to_be_visible(timeout=LIVE)
    expect(console.locator("#countdown .countdown-clock")).to_have_text(re.compile(r"^[12]:\d\d$"))
    expect(notes).to_have_text("Read the three options aloud before opening the vote.")
    phone.locator("form.vote button", has_text="Trees").click()
    expect(console.locator(".status-line")).to_contain_text("1 person answered", timeout=LIVE)

    for size in LAPTOPS:
        console.set_viewport_size(size)
        # The controls and the notes fit on the screen without scrolling.
        for control in ("#btn-previous", "#btn-next", "#btn-vote", "#btn-results", "#btn-join"):
            assert console.locator(control).is_visible()
            box = console.locator(control).bounding_box()
            assert box and box["y"] + box["height"] <= size["height"], control
        box = console.locator("section.notes").bounding_box()
        assert box and box["y"] + box["height"] <= size["height"]
        console.screenshot(path=str(artifacts / f"presenter-{size['width']}.png"))
        assert not violations(console), f"axe at {size['width']}px"
    console.set_viewport_size(LAPTOPS[0])
    picture = readme_image("presenter.png")
    if picture is not None:
        console.screenshot(path=str(picture))


def test_the_join_screen_reaches_a_projector_in_another_browser(
    browser: Any, server: PollServer
) -> None:
    console = laptop(browser, server)
    room = start_run(console)
    projector = projector_in_its_own_browser(browser, server, room)
    join = projector.locator("#join")
    button = console.locator("#btn-join")

    # Automatic on the first item, and the console says so.
    expect(join).to_be_visible()
    expect(button).to_have_attribute("aria-pressed", "true")
    console.keyboard.press("j")
    expect(join).to_be_hidden(timeout=LIVE)
    expect(button).to_have_attribute("aria-pressed", "false", timeout=LIVE)

    # Moving on goes back to automatic (off); the button puts it up over any item.
    console.locator("#btn-next").click()
    expect(projector.locator("#screen .title")).to_have_text(
        "Should the playground open on Sundays?", timeout=LIVE
    )
    expect(join).to_be_hidden()
    expect(button).to_have_attribute("aria-pressed", "false")
    button.click()
    expect(join).to_be_visible(timeout=LIVE)
    expect(console.locator("#btn-join")).to_have_attribute("aria-pressed", "true", timeout=LIVE)

    # A projector opened now, or reloaded, shows what the room says.
    projector.reload()
    expect(projector.locator("#join")).to_be_visible()
    console.keyboard.press("J")
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)
    # The key toggles what the console shows: press again once the console shows it off
    # too (its own socket may lag the projector's on a loaded machine).
    expect(console.locator("#btn-join")).to_have_attribute("aria-pressed", "false", timeout=LIVE)
    console.keyboard.press("j")
    expect(projector.locator("#join")).to_be_visible(timeout=LIVE)
    console.keyboard.press("ArrowRight")
    expect(console.locator("#current-title")).to_have_text(
        "Where should the budget go first?", timeout=LIVE
    )
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)
    expect(console.locator("#btn-join")).to_have_attribute("aria-pressed", "false")


def test_hiding_the_results_of_a_live_question_hides_them_on_the_projector(
    browser: Any, server: PollServer
) -> None:
    console = laptop(browser, server)
    room = start_run(console)
    projector = projector_in_its_own_browser(browser, server, room)
    go_to(console, "Should the playground open on Sundays?")
    results = projector.locator("#screen .bar-value")
    badge = console.locator("#results-badge")

    # `results: live`: on the projector from the start, and the console says so.
    expect(results.first).to_be_visible(timeout=LIVE)
    expect(badge).to_have_text("results live on the projector")
    # Showing them puts them on the phones too; hiding takes them off the projector.
    console.locator("#btn-results").click()
    expect(badge).to_have_text("results shown", timeout=LIVE)
    expect(console.locator("#btn-results")).to_have_text("Hide results")
    expect(results.first).to_be_visible()

    console.locator("#btn-results").click()
    expect(results).to_have_count(0, timeout=LIVE)
    expect(projector.locator("#screen .hidden-results")).to_be_visible()
    expect(badge).to_have_text("results hidden on the projector", timeout=LIVE)
    expect(console.locator("#btn-results")).to_have_text("Show results")

    console.keyboard.press("r")
    expect(results.first).to_be_visible(timeout=LIVE)
    expect(badge).to_have_text("results shown", timeout=LIVE)
    console.keyboard.press("R")
    expect(results).to_have_count(0, timeout=LIVE)
    expect(badge).to_have_text("results hidden on the projector", timeout=LIVE)

    # The choice holds when she comes back to the question.
    console.keyboard.press("ArrowRight")
    expect(console.locator("#current-title")).to_have_text(
        "Where should the budget go first?", timeout=LIVE
    )
    console.keyboard.press("ArrowLeft")
    expect(console.locator("#current-title")).to_have_text(
        "Should the playground open on Sundays?", timeout=LIVE
    )
    expect(projector.locator("#screen .title")).to_have_text(
        "Should the playground open on Sundays?", timeout=LIVE
    )
    expect(results).to_have_count(0)
    expect(badge).to_have_text("results hidden on the projector")


@pytest.mark.parametrize(
    ("locale", "zone", "words"),
    [
        ("nl-NL", "Pacific/Auckland", ("Volgende", "Je aantekeningen", "Tijd")),
        ("en-US", "America/New_York", ("Next", "Your notes", "Time")),
    ],
)
def test_the_console_speaks_the_browsers_language_and_tells_its_local_time(
    browser: Any, server: PollServer, locale: str, zone: str, words: tuple[str, ...]
) -> None:
    console = laptop(browser, server, locale=locale, zone=zone)
    console.get_by_role("button", name=re.compile("Neighbourhood town hall")).click()
    expect(console.locator("#current-title")).to_have_text("Welcome to the town hall")
    assert console.locator("html").get_attribute("lang") == locale[:2]
    next_button, notes_title, time_label = words
    expect(console.locator("#btn-next")).to_have_text(next_button)
    expect(console.locator("#notes-title")).to_have_text(notes_title)
    expect(console.locator(".presenter-bar .bar-label").first).to_have_text(time_label)

    # When the run started, in the browser's zone: 24-hour in Dutch, with AM/PM in the US.
    started = console.locator(".started time")
    moment = datetime.fromisoformat(str(started.get_attribute("datetime"))).astimezone(
        ZoneInfo(zone)
    )
    if locale == "en-US":  # ICU may put a narrow no-break space before the AM/PM
        expect(started).to_have_text(re.compile(moment.strftime(r"^%I:%M\W%p$")))
    else:
        expect(started).to_have_text(moment.strftime("%H:%M"))

    # Without JavaScript the page says which zone its times are in.
    plain = browser.new_context(locale=locale, java_script_enabled=False).new_page()
    plain.goto(server.console_link())
    expect(plain.locator("table.runs time").first).to_have_text(re.compile(r" UTC$"))
    plain.goto(console.url)
    expect(plain.locator(".started time")).to_have_text(re.compile(r"^\d\d:\d\d UTC$"))
    plain.context.close()

    # The list of runs, in the browser's zone too.
    console.goto(f"{console.url.split('/console')[0]}/console")
    listed = console.locator("table.runs time").first
    expect(listed).to_contain_text(local_clock(str(listed.get_attribute("datetime")), zone)[2:])
    expect(listed).not_to_contain_text("UTC")


def test_an_error_after_a_conflicting_action_stays_until_dismissed(
    browser: Any, server: PollServer
) -> None:
    console = laptop(browser, server)
    room = start_run(console)
    # The run ends from another browser; this console has not heard yet and moves on
    # by a plain form post, as a console without its websocket does.
    other = laptop(browser, server)
    other.goto(f"{server.url}/console/room/{room}")
    other.locator("#end-run summary").click()
    other.locator("#btn-end").click()
    expect(other.locator("#overview-title")).to_be_visible(timeout=LIVE)
    console.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = location.pathname;
            const fields = { csrf: document.getElementById("main").dataset.csrf, action: "next" };
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement("input");
                input.type = "hidden"; input.name = name; input.value = value;
                form.append(input);
            }
            document.body.append(form);
            HTMLFormElement.prototype.submit.call(form);
        }"""
    )
    error = console.locator("#console-error")
    expect(error).to_contain_text("This session has ended.", timeout=LIVE)
    # The page's websocket connects and its first snapshot arrives: the error stays.
    online(console)
    expect(console.locator("#overview-title")).to_be_visible(timeout=LIVE)
    expect(error).to_be_visible()
    expect(error).to_contain_text("This session has ended.")
    assert not violations(console)
    console.get_by_role("button", name="Dismiss").click()
    expect(error).to_be_hidden()


def test_after_the_end_the_console_shows_an_overview_of_the_run(
    browser: Any, server: PollServer
) -> None:
    console = laptop(browser, server)
    room = start_run(console)
    code = console.locator(".topbar .mono").inner_text().split(" ", 1)[1].replace(" ", "")
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    go_to(console, "Should the playground open on Sundays?")
    phone.locator("form.vote button", has_text="Yes").click()
    expect(phone.locator("#vote-status")).to_contain_text("saved", timeout=LIVE)
    go_to(console, "Where should the budget go first?")  # left open at the end
    console.locator("#end-run summary").click()
    console.locator("#btn-end").click()

    overview = console.locator("section.overview")
    expect(overview).to_be_visible(timeout=LIVE)
    rows = overview.locator("tbody tr")
    expect(rows).to_have_count(3)
    playground = console.locator("#overview-playground")
    expect(playground.locator("td").nth(0)).to_have_text("closed")
    expect(playground.locator("td").nth(1)).to_have_text("1")
    expect(console.locator("#overview-budget td").nth(0)).to_have_text("closed")
    expect(console.locator("#overview-ideas td").nth(0)).to_have_text("pending")
    assert console.locator(".badge.open").count() == 0, "nothing is open after the end"
    playground.locator("summary").click()
    expect(playground.locator(".bar-value").first).to_contain_text("1")
    csv = overview.get_by_role("link", name="Answers (CSV)")
    assert csv.get_attribute("href") == f"/console/room/{room}/results.csv"
    reply = console.request.get(f"{server.url}/console/room/{room}/results.csv")
    assert reply.ok and "playground" in reply.text()
    assert not violations(console)
    # The run stays reachable from the list of runs.
    console.goto(f"{server.url}/console")
    console.locator("table.runs a", has_text="Neighbourhood town hall").first.click()
    expect(console.locator("section.overview")).to_be_visible()
