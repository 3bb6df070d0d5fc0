"""The tests' own way to end background tasks (tests/support/tasks.py) ends a task
that outlives one cancel, as Python 3.11's wait_for lets a looping task do."""

from __future__ import annotations

import asyncio

from tests.support.tasks import cancel_and_wait


async def test_a_task_that_swallows_cancels_is_cancelled_until_it_ends() -> None:
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                cancels += 1
                if cancels == 3:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task), 30)
    assert task.cancelled() and cancels == 3


async def test_tasks_that_ended_or_failed_are_waited_for_with_the_rest() -> None:
    async def fails() -> None:
        raise ValueError("ended on its own")

    done = asyncio.create_task(asyncio.sleep(0))
    failed = asyncio.create_task(fails())
    sleeping = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0.01)
    await cancel_and_wait([done, failed, sleeping])
    assert done.done() and isinstance(failed.exception(), ValueError) and sleeping.cancelled()
