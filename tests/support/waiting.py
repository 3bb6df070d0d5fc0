"""Waiting for a condition: poll it until a generous deadline, never sleep a fixed time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import pytest


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    what: str,
    within: float = 60.0,
    every: float = 0.2,
) -> None:
    """Wait until `check()` is true; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:.0f} s waiting for: {what}")
        await asyncio.sleep(every)


def eventually_sync(
    check: Callable[[], bool], what: str, within: float = 60.0, every: float = 0.2
) -> None:
    """`eventually` for tests that may not run an event loop of their own (Playwright's
    sync API keeps one running in the test thread)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {within:.0f} s waiting for: {what}")
        time.sleep(every)
