"""Headless Chromium for Playwright: one way to find it, launch it, and go without it.

Without Chromium a browser test is skipped, with the reason; POLL_REQUIRE_BROWSER=1
(as in CI) makes that a failure instead.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_or_skip

CHROMIUM = os.environ.get("POLL_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE_VIEWPORT = {"width": 390, "height": 844}


def need_chromium() -> None:
    if not (Path(CHROMIUM).exists() and shutil.which(CHROMIUM)):
        require_or_skip(f"Chromium not found at {CHROMIUM}", "POLL_REQUIRE_BROWSER")


@contextlib.contextmanager
def chromium_sync() -> Iterator[Any]:
    """Chromium through Playwright's sync API (which keeps an event loop in this thread)."""
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Chromium through Playwright's async API, for tests that run their own event loop."""
    need_chromium()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for a module's tests (sync API); skipped or failed without it (see above)."""
    with chromium_sync() as launched:
        yield launched


def async_expect(locator: Any) -> Any:
    """Playwright's async `expect`, imported late: only the browser tests need Playwright."""
    from playwright.async_api import expect as playwright_expect

    return playwright_expect(locator)


async def phone_page(browser: Any, url: str) -> Any:
    """A phone-sized page (touch, mobile) opened at `url`."""
    context = await browser.new_context(viewport=PHONE_VIEWPORT, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await page.goto(url)
    return page
