"""Ending the background tasks a test started, for certain.

Python 3.11's `asyncio.wait_for` returns the result of what it waited for, instead of
raising CancelledError, when the cancel and that result arrive together (fixed in
3.12 by a new implementation). A task that loops, as a flood's connection or a
projector that reconnects does, then outlives its one cancel and the gather that
waits for it never returns: the test, and CI with it, hangs. So cancel again until
every task has ended. (poll's own loops guard against the same with
`poll/cancel.py`, whose `settle` gives up after a bound instead: a server must
close.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]] | asyncio.Task[Any]) -> None:
    """Cancel `tasks` and return once every one has ended, whatever it raised."""
    every = [tasks] if isinstance(tasks, asyncio.Task) else list(tasks)
    pending = set(every)
    while pending := {task for task in pending if not task.done()}:
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=1)
    for task in every:
        if not task.cancelled():
            task.exception()  # retrieved: asyncio does not log it as never retrieved
