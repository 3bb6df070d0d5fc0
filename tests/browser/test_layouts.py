"""The layout comparison of the projector tests: it lets font rendering pass and
catches a layout that moves (bars squeezed into the top quarter, as before)."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageFilter

from tests.browser.projector_checks import GRID, LAYOUTS, layout_difference


def stored(name: str) -> Image.Image:
    with Image.open(LAYOUTS / f"{name}.png") as image:
        return image.convert("L")


def test_every_stored_layout_is_a_grid_of_the_expected_size() -> None:
    names = sorted(LAYOUTS.glob("*.png"))
    assert names, "no stored layouts"
    for path in names:
        assert not path.name.endswith(".actual.png"), f"{path} is a failed run's picture"
        with Image.open(path) as image:
            assert image.size == GRID, path


def test_a_layout_matches_itself_and_itself_slightly_blurred() -> None:
    bars = stored("yesno-1920x1080")
    assert layout_difference(bars, bars) is None
    # Glyphs drawn a little differently: a slight blur of the whole grid.
    assert layout_difference(bars.filter(ImageFilter.GaussianBlur(0.6)), bars) is None


def test_bars_squeezed_into_the_top_quarter_are_caught() -> None:
    bars = stored("yesno-1920x1080")
    width, height = GRID
    squeezed = Image.new("L", GRID, 255)
    squeezed.paste(bars.resize((width, height // 4)), (0, 0))
    assert layout_difference(squeezed, bars) is not None


def test_another_screen_is_caught() -> None:
    assert layout_difference(stored("ranking-1920x1080"), stored("yesno-1920x1080"))
    shifted = ImageChops.offset(stored("open-1920x1080"), 0, 4)
    assert layout_difference(shifted, stored("open-1920x1080"))
