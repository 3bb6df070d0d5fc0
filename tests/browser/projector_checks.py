"""What a projector screen must be, checked in Chromium: text large enough for the back
row, no axe violation (contrast included), and the layout of a stored picture.

A layout picture is the screen shrunk to a small grey grid (GRID cells): glyphs blur
into the cells, so font rendering does not count, while a block that moves (bars in
the top quarter, a wall cut off) changes many cells. POLL_UPDATE_LAYOUTS=1 writes the
pictures anew (tests/browser/layouts/); look at them before committing.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat

from tests.browser.test_session import violations

LAYOUTS = Path(__file__).resolve().parent / "layouts"
SIZES = ((1920, 1080), (1280, 720), (1024, 768))
GRID = (48, 27)
#: How far a layout may drift: the mean difference of the grid's grey levels (0–255),
#: and the share of cells that may differ by more than CELL.
MEAN_LIMIT = 6.0
CELL = 48
CELLS_LIMIT = 0.04
#: The smallest text at 1080p (px); at other sizes in proportion to the root font size,
#: which is 16px at 1920×1080.
SMALLEST = 28.0

# Every visible text node: its element's font size and where it is, skipping text that
# is only for screen readers (.visually-hidden) or off the screen (the skip link).
TEXTS_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    if (!text) continue;
    const el = node.parentElement;
    if (!el || el.closest('.visually-hidden, script, style')) continue;
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const r = range.getBoundingClientRect();
    if (r.width < 2 || r.height < 2) continue;
    if (r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth || r.top >= innerHeight) continue;
    const classes = el.className ? '.' + String(el.className).split(' ').join('.') : '';
    out.push({ text: text.slice(0, 60), size: parseFloat(getComputedStyle(el).fontSize),
               tag: el.tagName.toLowerCase() + classes });
  }
  return { root: parseFloat(getComputedStyle(document.documentElement).fontSize), texts: out };
}"""


def small_texts(page: Any) -> list[str]:
    """Texts under 28px at 1080p (in proportion at other sizes), as readable lines."""
    found = page.evaluate(TEXTS_JS)
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    floor = SMALLEST * found["root"] / 16.0
    if (width, height) == (1920, 1080):
        assert abs(found["root"] - 16.0) < 0.2, f"root font size {found['root']} at 1080p"
    return [
        f"{t['size']:.1f}px < {floor:.1f}px: {t['tag']} {t['text']!r}"
        for t in found["texts"]
        if t["size"] < floor - 0.05
    ]


def layout_of(page: Any) -> Image.Image:
    """The screen as a small grey grid; the QR code (new per run) and the countdown's
    clock (ticking) are blanked first."""
    # Through the CSSOM: the page's CSP forbids a style element of the test's own.
    hide = "(on) => document.querySelectorAll('.qr, .countdown-clock').forEach((e) => {"
    hide += " e.style.visibility = on ? 'hidden' : ''; })"
    page.evaluate(hide, True)
    png = page.screenshot(full_page=False)
    page.evaluate(hide, False)
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("L").resize(GRID, Image.Resampling.BOX)


def compare_layout(page: Any, name: str) -> str | None:
    """None when the screen's layout matches the stored one; else what differs."""
    current = layout_of(page)
    stored = LAYOUTS / f"{name}.png"
    if os.environ.get("POLL_UPDATE_LAYOUTS") == "1":
        LAYOUTS.mkdir(exist_ok=True)
        current.save(stored)
        return None
    if not stored.exists():
        return f"{name}: no stored layout {stored}; write it with POLL_UPDATE_LAYOUTS=1"
    with Image.open(stored) as image:
        expected = image.convert("L")
    problem = layout_difference(current, expected)
    if problem:
        current.resize((GRID[0] * 10, GRID[1] * 10)).save(LAYOUTS / f"{name}.actual.png")
        return f"{name}: {problem}; see {name}.actual.png"
    return None


def layout_difference(current: Image.Image, expected: Image.Image) -> str | None:
    """None when two layout grids match within the tolerance; else by how much not."""
    diff = ImageChops.difference(current, expected)
    mean = ImageStat.Stat(diff).mean[0]
    cells = sum(1 for value in diff.tobytes() if value > CELL) / (GRID[0] * GRID[1])
    if mean > MEAN_LIMIT or cells > CELLS_LIMIT:
        return (
            f"layout moved (mean difference {mean:.1f}, limit {MEAN_LIMIT}; "
            f"{cells:.0%} of cells changed, limit {CELLS_LIMIT:.0%})"
        )
    return None


def pictures_without_alt(page: Any) -> list[str]:
    """Visible pictures with no text alternative: a slide's PDF page or image is pixels,
    not text (the 28px rule cannot read it), so its alt text is what a screen reader
    gets. A logo beside the session's title may be decorative (alt="") but not bare."""
    missing = page.evaluate(
        """() => [...document.querySelectorAll('img')]
          .filter((img) => img.checkVisibility())
          .filter((img) => !img.hasAttribute('alt')
                           || (img.closest('figure') && !img.getAttribute('alt').trim()))
          .map((img) => img.getAttribute('src'))"""
    )
    return [f"picture without alt text: {src}" for src in missing]


def under_the_logo(page: Any) -> list[str]:
    """What the theme's logo in the corner covers: nothing of the screen may be under it."""
    covered = page.evaluate(
        """() => {
      const logo = document.querySelector('.room-logo');
      if (!logo || !logo.checkVisibility()) return [];
      const l = logo.getBoundingClientRect();
      return [...document.querySelectorAll('#screen *')]
        .filter((el) => !el.firstElementChild && el.checkVisibility())
        .filter((el) => { const r = el.getBoundingClientRect();
          return r.width > 0 && r.height > 0 && r.left < l.right && r.right > l.left
            && r.top < l.bottom && r.bottom > l.top; })
        .map((el) => el.tagName.toLowerCase() + ' ' + el.textContent.trim().slice(0, 40));
    }"""
    )
    return [f"under the logo: {what}" for what in covered]


def check_screen(page: Any, name: str, artifacts: Path, stock_dark: bool = True) -> list[str]:
    """Every check of one screen at every size; the problems found, empty when none.
    `stock_dark` also checks the stock dark colours at 1080p: only for a session without
    a theme of its own (a theme's accent is checked against its own mode's background)."""
    problems: list[str] = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(150)  # a resize re-lays the wall and the word cloud
        label = f"{name}-{width}x{height}"
        page.screenshot(path=str(artifacts / f"projector-{label}.png"))
        problems += [f"{label}: {line}" for line in small_texts(page)]
        problems += [f"{label}: axe {line}" for line in violations(page)]
        problems += [f"{label}: {line}" for line in pictures_without_alt(page)]
        problems += [f"{label}: {line}" for line in under_the_logo(page)]
        if stock_dark and (width, height) == (1920, 1080):
            # The dark variant of the stock colours passes axe's contrast rule too.
            page.evaluate("document.body.classList.add('theme-dark')")
            problems += [f"{label} dark: axe {line}" for line in violations(page)]
            page.evaluate("document.body.classList.remove('theme-dark')")
        layout = compare_layout(page, label)
        if layout:
            problems.append(layout)
    page.set_viewport_size({"width": 1920, "height": 1080})
    return problems
