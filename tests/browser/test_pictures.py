"""Picture slides on a 1920×1080 projector: a page of the sample session's deck and an
image with its text beside it, under the session's theme. Screenshots are kept in
tests/artifacts/ (pictures-*.png) to look at."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from tests.browser.test_session import LIVE, Console, expect, shot, start_run, violations
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DECK = ROOT / "examples" / "gemengde-wijken" / "deck.pdf"
LOGO = ROOT / "examples" / "gemengde-wijken" / "logo.svg"


def photo(path: Path) -> Path:
    """A 4:3 "photo": sky, a street and three houses."""
    image = Image.new("RGB", (1200, 900), "#9cc9ef")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 650, 1200, 900), fill="#5b6770")
    for x, colour in ((120, "#c0504d"), (470, "#e7b416"), (820, "#3f7f5f")):
        draw.rectangle((x, 330, x + 260, 650), fill=colour)
        draw.polygon([(x - 20, 330), (x + 130, 200), (x + 280, 330)], fill="#3b3b3b")
    image.save(path, "PNG")
    return path


@pytest.fixture
def pictures_server(tmp_path: Path) -> Any:
    photo(tmp_path / "street.png")
    sessions = tmp_path / "sessions.yaml"
    sessions.write_text(
        textwrap.dedent(
            f"""\
            sessions:
              pictures:
                title: Pictures
                language: en
                theme: {{accent: "#0b5e4b", logo: {LOGO}}}
                items:
                  - type: slide
                    title: Welcome
                  - deck: {DECK}
                    id: dia
                    pages: 2
                  - type: slide
                    image: street.png
                    alt: Three houses in a row on a quiet street
                    title: Our street
                    body: |
                      - Three houses, three families
                      - One street party a year
                    layout: left
            """
        ),
        encoding="utf-8",
    )
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=sessions)
    running.start()
    yield running
    running.stop()


def test_a_pdf_page_and_an_image_fill_the_projector(
    browser: Any, pictures_server: PollServer, artifacts: Path
) -> None:
    server = pictures_server
    console, _ = start_run(browser, server, "Pictures")
    facilitator = Console(console)
    projector = console.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(server.url + (console.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator("#join")).to_be_visible(timeout=LIVE)
    expect(projector.locator(".join-logo")).to_be_visible()
    shot(projector, artifacts, "pictures-join")
    facilitator.go(2)
    page = projector.locator(".picture-slide img")
    expect(page).to_be_visible(timeout=LIVE)
    projector.wait_for_function(
        "() => { const i = document.querySelector('.picture-slide img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=LIVE,
    )
    # The browser chose the 1920 render for a 1920-wide screen, and it fills the width.
    assert projector.evaluate("document.querySelector('.picture-slide img').currentSrc").endswith(
        "/2/1920.png"
    )
    assert page.get_attribute("alt", timeout=LIVE).startswith("Opzet van de sessie")
    box = page.bounding_box()
    assert box and box["width"] >= 1900
    shot(projector, artifacts, "pictures-pdf-page")
    assert not violations(projector)
    # A 4:3 projector of 1024×768 (a browser of its own, its cache empty) fetches
    # the 1024 render, not the 1920 one.
    small = browser.new_context(viewport={"width": 1024, "height": 768})
    small.add_cookies(console.context.cookies())
    beamer = small.new_page()
    beamer.goto(projector.url)
    beamer.wait_for_function(
        "() => { const i = document.querySelector('.picture-slide img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=LIVE,
    )
    assert beamer.evaluate("document.querySelector('.picture-slide img').currentSrc").endswith(
        "/2/1024.png"
    )
    shot(beamer, artifacts, "pictures-pdf-page-1024")
    small.close()
    facilitator.next()
    image = projector.locator(".picture-slide.layout-left img")
    expect(image).to_have_attribute("alt", "Three houses in a row on a quiet street", timeout=LIVE)
    expect(projector.locator(".picture-text .title")).to_have_text("Our street")
    projector.wait_for_function(
        "() => { const i = document.querySelector('.picture-slide img');"
        " return i && i.complete && i.naturalWidth > 0; }",
        timeout=LIVE,
    )
    shot(projector, artifacts, "pictures-image-left")
    assert not violations(projector)
