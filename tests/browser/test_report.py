"""The results report in Chromium: the sample session (every item type) played on a real
server's store, its results link made and shown from the console, the projector's QR
code scanned, the shared page drawn at 1280×900 under its own strict policy with no axe
violation, and printed to PDF (A4 and Letter) a question to a page. The screenshots
and the first page of the PDF are kept in tests/artifacts/ to look at."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from poll.store.sqlite import SqliteStore
from tests.browser.test_session import LIVE, decode_qr, expect, violations
from tests.report.sample import HIDDEN_TEXT, ROOT, play_sample
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser


def played(db: Path) -> str:
    async def run() -> str:
        store = SqliteStore(db)
        await store.open()
        try:
            return (await play_sample(store)).room.id
        finally:
            await store.close()

    # Playwright's sync API runs an event loop in this thread: play in another.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


@pytest.fixture
def sample_run(tmp_path: Path) -> Any:
    room_id = played(tmp_path / "poll.db")
    server = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=ROOT / "sessions.yaml")
    server.start()
    yield server, room_id
    server.stop()


def test_the_report_in_chromium_on_screen_on_paper_and_on_the_projector(
    browser: Any, sample_run: tuple[PollServer, str], artifacts: Path
) -> None:
    server, room_id = sample_run
    console = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    console.goto(server.console_link())
    console.goto(f"{server.url}/console/room/{room_id}")
    console.get_by_role("button", name="Make a results link").click()
    link = console.locator("#results-link-url").input_value()
    path = urlsplit(link).path
    console.get_by_role(
        "button", name="Show the results QR code on the projector and the phones"
    ).click()
    expect(console.get_by_text("The projector shows it as a QR code")).to_be_visible()
    console.locator("#results-link").screenshot(path=str(artifacts / "report-console-share.png"))
    found = violations(console)
    assert not found, found

    # The projector's end screen: its QR code opens the same link.
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(f"{server.url}/projector/{room_id}")
    expect(projector.locator(".results-qr img")).to_be_visible(timeout=LIVE)
    projector.wait_for_function(
        "document.querySelector('.results-qr img').naturalWidth > 0", timeout=LIVE
    )
    projector.screenshot(path=str(artifacts / "report-projector-qr.png"))
    assert urlsplit(decode_qr(artifacts / "report-projector-qr.png")).path == path

    # A participant opens the link: the page draws under its own strict policy (its
    # one style block allowed by hash), with no axe violation.
    visitor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    blocked: list[str] = []

    def note(message: Any) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    visitor.on("console", note)
    visitor.goto(server.url + path)
    assert visitor.locator("h1").inner_text() == "Team day: every question type"
    assert HIDDEN_TEXT not in visitor.content()
    width = visitor.evaluate("getComputedStyle(document.querySelector('main')).maxWidth")
    assert width == "800px", "the inline stylesheet did not apply"
    assert not blocked, blocked
    charts = visitor.locator("svg[role=img]")
    assert charts.count() >= 7  # a chart per charted question (a scale has one per statement)
    visitor.screenshot(path=str(artifacts / "report-1280x900.png"))
    visitor.screenshot(path=str(artifacts / "report-full.png"), full_page=True)
    found = violations(visitor)
    assert not found, found

    # On paper: a question to a page, on A4 and on Letter.
    import pypdfium2

    questions = visitor.locator("section.item").count()
    for paper in ("A4", "Letter"):
        pdf = artifacts / f"report-{paper}.pdf"
        visitor.pdf(path=str(pdf), format=paper, print_background=True)
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            assert len(document) >= questions, (paper, len(document), questions)
            first = document[0]
            text = first.get_textpage().get_text_range()
            assert "Team day: every question type" in text and "Participants" in text
            first.render(scale=1.5).to_pil().save(artifacts / f"report-{paper}-page1.png")
            second = document[1].get_textpage().get_text_range()
            assert "Did we reach the goals" in second  # the second question starts a page
        finally:
            document.close()
