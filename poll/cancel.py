"""Cancellation that always ends a task, and task shutdown that never waits for ever.

A cancellation can be lost. On Python 3.11, a library's read that times out
at the moment its task is cancelled may return as if it had only timed out.
And code that awaits a cancelled task under `suppress(CancelledError)`
swallows its own cancellation along with the task's. Either way the task goes
on. A long-lived loop that then waits again would never end,
and whoever awaits it (store close, server shutdown) would wait for ever. So
every long-lived loop calls `raise_if_cancelling()` on each turn, and shutdown
code waits for its tasks with `settle()`, which gives up after a bound.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


def raise_if_cancelling() -> None:
    """Raise CancelledError if this task was asked to stop, whatever swallowed it since."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def settle(
    tasks: Iterable[asyncio.Task[object]], within: float, what: str
) -> set[asyncio.Task[object]]:
    """Cancel `tasks` and wait up to `within` seconds; return (and log) those still running."""
    pending = [task for task in tasks if not task.done()]
    for task in pending:
        task.cancel()
    if not pending:
        return set()
    # Most finish at their next step: one turn of the loop, then the dearer wait (with
    # its timer and callbacks: 5 % of the server's CPU when thousands of phones left).
    await asyncio.sleep(0)
    finished = [task for task in pending if task.done()]
    for task in finished:
        if not task.cancelled():
            task.exception()
    pending = [task for task in pending if not task.done()]
    if not pending:
        return set()
    done, stuck = await asyncio.wait(pending, timeout=within)
    for task in done:  # their errors were theirs to log: mark them seen
        if not task.cancelled():
            task.exception()
    if stuck:
        log.warning("%s: %d task(s) still running %.0f s after cancel", what, len(stuck), within)
    return stuck
