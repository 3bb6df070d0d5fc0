"""Slides from the facilitator's own files, and a session's theme, as `poll check`
and the server read them: every problem with its file, line and column; the
files copied under their content name; a deck expanded into its pages."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from poll.media import MAX_IMAGE_BYTES
from poll.questions import Slide
from poll.script import ScriptError, load_script, session_from_spec
from poll.theme import Theme, contrast, theme_from_css_name
from tests.support.media import pdf, png

ROOT = Path(__file__).resolve().parent.parent


def write(folder: Path, text: str) -> Path:
    path = folder / "sessions.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    return [str(p) for p in caught.value.problems]


def test_each_file_problem_is_reported_with_its_position(tmp_path: Path) -> None:
    png(tmp_path / "ok.png")
    pdf(tmp_path / "three.pdf", pages=3)
    pdf(tmp_path / "locked.pdf", pages=1, password="secret")
    (tmp_path / "fake.png").write_text("not a picture")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is no PDF at all\n")
    png(tmp_path / "really-png.jpg")
    with open(tmp_path / "huge.png", "wb") as huge:
        huge.truncate(MAX_IMAGE_BYTES + 1)
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - type: slide
                image: missing.png
                alt: A map
              - type: slide
                image: fake.png
                alt: A map
              - type: slide
                image: huge.png
                alt: A map
              - type: slide
                image: really-png.jpg
                alt: A map
              - type: slide
                pdf: locked.pdf
              - type: slide
                pdf: broken.pdf
              - type: slide
                pdf: three.pdf
                page: 4
              - deck: three.pdf
                pages: 2-5
              - type: slide
                image: ok.png
              - type: slide
                image: three.pdf
                alt: x
        """,
    )
    found = problems(path)
    where = str(path)
    expected = [
        f"{where}:6:16: sessions.s.items[0].image: file '{tmp_path / 'missing.png'}' not found;"
        " paths are relative to the sessions file",
        f"{where}:9:16: sessions.s.items[1].image: 'fake.png' is not a PNG, JPEG, WebP or SVG "
        "image (or it is damaged)",
        f"{where}:12:16: sessions.s.items[2].image: 'huge.png' is 20.0 MB; at most 20 MB fit: "
        "make it smaller",
        f"{where}:15:16: sessions.s.items[3].image: 'really-png.jpg' is really a PNG image; "
        "rename it to end in .png or save it as JPEG",
        f"{where}:18:14: sessions.s.items[4].pdf: 'locked.pdf' is encrypted with a password; "
        "export it again without a password",
        f"{where}:23:15: sessions.s.items[6].page: page 4 is out of range: the PDF has 3 pages",
        f"{where}:25:16: sessions.s.items[7].pages: page 5 is out of range: the PDF has 3 pages",
        f"{where}:27:16: sessions.s.items[8].image: an image needs a text alternative for "
        "screen readers: give 'alt' (what the picture shows) or a 'title'",
        f"{where}:29:16: sessions.s.items[9].image: 'three.pdf' is not a PNG, JPEG, WebP or "
        "SVG file (by its name)",
    ]
    for line in expected:
        assert line in found
    broken = [p for p in found if "items[5].pdf" in p]
    assert len(broken) == 1 and broken[0].startswith(f"{where}:20:14: ")
    assert "'broken.pdf' cannot be read as a PDF" in broken[0]
    assert len(found) == len(expected) + 1


def test_a_deck_becomes_one_slide_per_page_with_stable_ids_and_texts(tmp_path: Path) -> None:
    pdf(tmp_path / "Deel 1.pdf", pages=4)
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - deck: Deel 1.pdf
                pages: 2-3
              - deck: Deel 1.pdf
                id: extra
              - type: slide
                pdf: Deel 1.pdf
                page: 4
                title: The last page
                body: Under it
        """,
    )
    session = load_script(path).sessions["s"]
    ids = [item.id for item in session.items]
    assert ids == ["deel-1-2", "deel-1-3", "extra-1", "extra-2", "extra-3", "extra-4", "item-3"]
    first = session.items[0]
    assert isinstance(first, Slide) and first.pdf and first.page == 2
    # The page's own text is its alternative for screen readers, and its name in lists.
    assert first.alt == "Page 2" and first.title == "Page 2" and first.heading == ""
    last = session.items[-1]
    assert isinstance(last, Slide) and last.heading == "The last page" and last.alt
    assert session_from_spec(session.to_spec()) == session


def test_a_deck_s_pages_are_read_as_ranges(tmp_path: Path) -> None:
    pdf(tmp_path / "a.pdf", pages=9)
    (tmp_path / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="5"/></svg>'
    )
    (tmp_path / "not.svg").write_text("<html><body>no</body></html>")
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - deck: a.pdf
                pages: 1-3, 5, 7-9
              - deck: a.pdf
                id: again
                pages: 4
              - type: slide
                image: logo.svg
                alt: A logo
          bad:
            title: T
            items:
              - deck: a.pdf
                pages: 3-1
              - deck: a.pdf
                pages: one
              - deck: a.pdf
                pages: [1, 2]
              - type: slide
                image: not.svg
                alt: x
        """,
    )
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert [str(p).split("sessions.yaml:", 1)[1] for p in caught.value.problems] == [
        "17:16: sessions.bad.items[0].pages: '3-1': a range runs from page 1 up, like 1-9",
        "19:16: sessions.bad.items[1].pages: 'one' is not a page or a range like 1-9",
        "21:16: sessions.bad.items[2].pages: must be a page range like 1-9, or pages like 1-3, 5",
        "23:16: sessions.bad.items[3].image: 'not.svg' is not a PNG, JPEG, WebP or SVG image "
        "(or it is damaged)",
    ]
    path.write_text(path.read_text().split("  bad:")[0])
    session = load_script(path).sessions["s"]
    assert [item.id for item in session.items] == [
        *(f"a-{n}" for n in (1, 2, 3, 5, 7, 8, 9)),
        "again-4",
        "item-3",
    ]
    svg = session.items[-1]
    assert isinstance(svg, Slide) and svg.image and svg.image.endswith(".svg")


def test_two_decks_may_not_make_the_same_ids(tmp_path: Path) -> None:
    pdf(tmp_path / "a.pdf", pages=2)
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - deck: a.pdf
              - deck: a.pdf
                pages: 2
        """,
    )
    assert problems(path) == [
        f"{path}:6:9: sessions.s.items[1]: makes an item with id 'a-2', which items[0] "
        "uses already; give this one an 'id' of its own"
    ]


def test_a_server_keeps_a_copy_of_each_file_under_its_content_name(tmp_path: Path) -> None:
    png(tmp_path / "map.png")
    pdf(tmp_path / "deck.pdf", pages=2)
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            theme: {logo: map.png}
            items:
              - type: slide
                image: map.png
                title: The map
                layout: left
              - deck: deck.pdf
        """,
    )
    media = tmp_path / "data" / "media"
    session = load_script(path, media).sessions["s"]
    image = session.items[0]
    assert isinstance(image, Slide) and image.image and image.alt == "The map"
    assert (media / image.image).read_bytes() == (tmp_path / "map.png").read_bytes()
    page = session.items[1]
    assert isinstance(page, Slide) and page.pdf
    assert (media / page.pdf).read_bytes() == (tmp_path / "deck.pdf").read_bytes()
    assert session.theme is not None and session.theme.logo == image.image
    # A room's copy names the copies, not the originals: it reads back without them.
    (tmp_path / "map.png").unlink()
    (tmp_path / "deck.pdf").unlink()
    assert session_from_spec(session.to_spec()) == session
    # `poll check` copies nothing.
    assert sorted(p.name for p in media.iterdir()) == sorted([image.image, page.pdf])


def test_a_slide_without_a_picture_keeps_its_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - type: slide
                body: no title
              - type: slide
                title: x
                layout: left
        """,
    )
    assert problems(path) == [
        f"{path}:5:9: sessions.s.items[0]: missing required key 'title' (a text)",
        f"{path}:9:17: sessions.s.items[1].layout: 'layout' belongs to a slide with an "
        "'image' or a 'pdf'",
    ]


def test_an_accent_without_enough_contrast_is_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        sessions:
          light:
            title: T
            theme:
              accent: "#ffcc00"
            items: [{type: slide, title: x}]
          dark:
            title: T
            theme:
              mode: dark
              accent: "#1d4ed8"
            items: [{type: slide, title: x}]
          bare:
            title: T
            theme:
              accent: #1d4ed8
            items: [{type: slide, title: x}]
        """,
    )
    assert problems(path) == [
        f"{path}:5:15: sessions.light.theme.accent: #ffcc00 has a contrast of 1.5:1 against "
        "the light background #ffffff; text needs at least 4.5:1 (WCAG AA): choose a darker "
        "colour",
        f"{path}:11:15: sessions.dark.theme.accent: #1d4ed8 has a contrast of 2.7:1 against "
        "the dark background #15161a; text needs at least 4.5:1 (WCAG AA): choose a lighter "
        "colour",
        f"{path}:16:14: sessions.bare.theme.accent: is empty: in YAML a # starts a comment, "
        'so quote the colour, like accent: "#1d5fb8"',
    ]


def test_a_theme_gives_its_colours_and_a_stylesheet_named_by_its_content() -> None:
    theme = Theme(mode="dark", accent="#f4b400")
    assert theme.accent_text == "#000000"
    assert Theme(mode="light", accent="#0b5e4b").accent_text == "#ffffff"
    view = theme.view()
    assert view["mode"] == "dark" and view["accent"] == "#f4b400" and view["logo"] is None
    name = view["css"].removeprefix("/theme/")
    rebuilt = theme_from_css_name(name)
    assert rebuilt is not None and rebuilt.css() == theme.css()
    assert "--accent: #f4b400;" in theme.css() and "--bg: #15161a;" in theme.css()
    # A name whose digest does not fit its colours is no theme's.
    assert theme_from_css_name(name.replace(name[-9:-4], "00000")) is None
    for mode in ("light", "dark"):
        palette_ok = Theme(mode=mode)  # type: ignore[arg-type]
        css = palette_ok.css()
        assert "--fg" in css and "--muted" in css
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)


def test_the_sample_session_shows_its_deck_between_its_questions() -> None:
    session = load_script(ROOT / "sessions.yaml").sessions["gemengde-wijken"]
    kinds = ["q" if item.is_question else "p" for item in session.items]
    assert "".join(kinds) == "ppppppppp" + "qqq" + "p" + "qqq" + "p"
    pages = [item.page for item in session.items if isinstance(item, Slide)]
    assert pages == [*range(1, 10), 10, 11]
    assert session.items[1].title.startswith("Opzet van de sessie")
    assert session.theme is not None and session.theme.logo is not None


def test_an_image_of_too_many_pixels_is_refused_however_small_its_file(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("1", (8000, 8000)).save(tmp_path / "big.png", "PNG")
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png", "PNG")
    path = write(
        tmp_path,
        """\
        sessions:
          s:
            title: T
            items:
              - {type: slide, image: big.png, alt: x}
              - {type: slide, image: bomb.png, alt: x}
        """,
    )
    assert [p.split(": ", 2)[2] for p in problems(path)] == [
        "'big.png' is 8000×8000 pixels, so it has more than 50 megapixels: scale it down",
        "'bomb.png' has more than 50 megapixels: scale it down",
    ]
