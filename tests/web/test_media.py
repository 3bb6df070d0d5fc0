"""Pictures on the projector: a run keeps the files it showed, PDF pages are rendered
once per page and width whoever asks, and the media routes serve their content
names for ever and nothing else."""

from __future__ import annotations

import asyncio
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from poll.settings import Settings
from poll.store.sqlite import SqliteStore
from poll.web.app import create_app
from poll.web.media import FOR_EVER
from poll.web.renderer import PageRenderer
from tests.security.test_leaks import check_headers
from tests.support.media import pdf, png
from tests.web.conftest import TOKEN, World

SCRIPT = """\
sessions:
  pictures:
    title: Pictures
    theme: {mode: dark, accent: "#f4b400", logo: logo.png}
    items:
      - type: slide
        image: map.png
        alt: A map of the neighbourhood
        title: Where we are
        layout: left
      - deck: deck.pdf
        pages: 1-2
"""


@pytest.fixture
def pictures(tmp_path: Path) -> Iterator[World]:
    png(tmp_path / "map.png", "#225588")
    png(tmp_path / "logo.png", "#f4b400", (120, 40))
    pdf(tmp_path / "deck.pdf", pages=2)
    sessions = tmp_path / "sessions.yaml"
    sessions.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    settings = Settings(
        store="unused://", sessions=sessions, data_dir=tmp_path / "data", token=TOKEN
    )
    app = create_app(settings, store_factory=lambda: SqliteStore(tmp_path / "poll.db"))
    with TestClient(app, base_url="http://testserver") as client:
        yield World(app, client, sessions, "sqlite")


def projector_html(world: World, room_id: str) -> str:
    response = world.client.get(f"/projector/{room_id}")
    assert response.status_code == 200
    return response.text


def test_the_projector_shows_the_image_and_the_pdf_page_at_the_width_that_fits(
    pictures: World,
) -> None:
    room_id, _ = pictures.start_run("pictures")
    html = projector_html(pictures, room_id)
    image = re.search(
        r'<img src="(/media/[0-9a-f]{64}\.png)" alt="A map of the neighbourhood">', html
    )
    assert image, html
    assert 'class="picture-slide layout-left"' in html and "Where we are" in html
    assert 'class="projector theme-dark"' in html
    css = re.search(r'href="(/theme/dark-f4b400-[0-9a-f]{12}\.css)"', html)
    assert css
    sheet = pictures.client.get(css.group(1))
    assert sheet.headers["cache-control"] == FOR_EVER
    assert "--accent: #f4b400;" in sheet.text and "--accent-text: #000000;" in sheet.text
    assert 'class="room-logo"' in html and 'class="join-logo"' in html
    served = pictures.client.get(image.group(1))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.headers["cache-control"] == FOR_EVER
    assert "sandbox" in served.headers["content-security-policy"]
    check_headers(served, "an image of a slide")
    pictures.go_to(room_id, "deck-1")
    html = projector_html(pictures, room_id)
    srcset = re.search(r'srcset="([^"]+)"', html)
    assert srcset
    urls = [part.strip().split(" ") for part in srcset.group(1).split(",")]
    assert [width for _, width in urls] == ["1024w", "1280w", "1920w"]
    assert 'alt="Page 1"' in html
    page = pictures.client.get(urls[-1][0])
    assert page.status_code == 200 and page.headers["content-type"] == "image/png"
    assert page.headers["cache-control"] == FOR_EVER
    assert page.content.startswith(b"\x89PNG")
    check_headers(page, "a rendered PDF page")
    check_headers(sheet, "a theme's stylesheet")


def test_a_run_keeps_its_files_when_the_originals_change_or_go(
    pictures: World, tmp_path: Path
) -> None:
    room_id, _ = pictures.start_run("pictures")
    before = projector_html(pictures, room_id)
    old = re.search(r'<img src="(/media/[0-9a-f]{64}\.png)"', before)
    assert old
    old_bytes = pictures.client.get(old.group(1)).content
    # The facilitator replaces the picture, then deletes it and the deck.
    png(tmp_path / "map.png", "#aa2222")
    pictures.client.get("/console")  # the server re-reads the changed script
    new_room, _ = pictures.start_run("pictures")
    new = re.search(r'<img src="(/media/[0-9a-f]{64}\.png)"', projector_html(pictures, new_room))
    assert new and new.group(1) != old.group(1)
    (tmp_path / "map.png").unlink()
    (tmp_path / "deck.pdf").unlink()
    pictures.client.get("/console")
    # The old run still shows what it showed, from its own copy.
    assert old.group(1) in projector_html(pictures, room_id)
    assert pictures.client.get(old.group(1)).content == old_bytes
    pictures.act(room_id, "go", index="2")  # deck-2 (the script file cannot be read now)
    page = re.search(r'src="(/media/[0-9a-f]{64}/2/1920\.png)"', projector_html(pictures, room_id))
    assert page and pictures.client.get(page.group(1)).status_code == 200


def test_the_media_routes_serve_content_names_and_nothing_else(pictures: World) -> None:
    room_id, _ = pictures.start_run("pictures")
    image = re.search(r'src="/media/([0-9a-f]{64})\.png"', projector_html(pictures, room_id))
    assert image
    digest = image.group(1)
    deck = next((pictures.app.state.poll.settings.data_dir / "media").glob("*.pdf"))
    pdf_digest = deck.stem
    refused = [
        f"/media/{'0' * 64}.png",  # no such file
        f"/media/{digest}.jpg",  # not its kind
        f"/media/{pdf_digest}.pdf",  # the PDF itself is not served, only its pages
        "/media/..%2F..%2Fpoll.db",
        "/media/../poll.db",
        "/media/facilitator-token",
        f"/media/{digest[:-1]}.png",
        f"/media/{pdf_digest}/1/1000.png",  # not a width poll renders
        f"/media/{pdf_digest}/3/1920.png",  # no such page
        f"/media/{pdf_digest}/0/1920.png",
        f"/media/{digest}/1/1920.png",  # not a PDF
        f"/media/{'0' * 64}/1/1920.png",
        "/theme/dark-f4b400-000000000000.css",
        "/theme/../poll.css",
    ]
    for url in refused:
        assert pictures.client.get(url).status_code == 404, url
    assert pictures.app.state.poll.pages.renders == 0


async def test_a_page_is_rendered_once_per_width_however_many_ask(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    source = pdf(tmp_path / "deck.pdf", pages=2)
    digest = "a" * 64
    (media / f"{digest}.pdf").write_bytes(source.read_bytes())
    renderer = PageRenderer(media)
    first = await asyncio.gather(*(renderer.page(digest, 1, 1920) for _ in range(20)))
    assert renderer.renders == 1 and len(set(first)) == 1 and first[0] is not None
    assert (await renderer.page(digest, 1, 1920)) == first[0]
    await asyncio.gather(renderer.page(digest, 1, 1024), renderer.page(digest, 2, 1024))
    assert renderer.renders == 3
    assert await renderer.page(digest, 3, 1024) is None
    # Another process (or a restart) finds the pages on disk.
    again = PageRenderer(media)
    await asyncio.gather(*(again.page(digest, 1, 1920) for _ in range(5)))
    assert again.renders == 0
    from PIL import Image

    with Image.open(first[0]) as image:
        assert image.size == (1920, 1080)


def test_a_phone_on_a_picture_slide_loads_no_picture(pictures: World) -> None:
    """Phones show a picture slide's title only: nothing for them to download over a
    venue's wifi, and no render for the server, however many phones there are."""
    room_id, code = pictures.start_run("pictures")
    pictures.go_to(room_id, "deck-1")
    with pictures.as_("ann") as phone:
        html = phone.get(f"/r/{code}").text
    assert "Page 1" in html
    assert '<img src="/media/' not in html and "srcset" not in html
    # The room's theme reaches the phone's page, and the console's.
    assert 'class="phone theme-dark"' in html or "theme-dark" in html.split("<body", 1)[1][:80]
    assert "/theme/dark-f4b400-" in html
    console = pictures.client.get(f"/console/room/{room_id}").text
    assert "theme-dark" in console.split("<body", 1)[1][:80] and "/theme/dark-f4b400-" in console
    assert pictures.app.state.poll.pages.renders == 0
