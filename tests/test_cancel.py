"""poll/cancel.py: a loop ends even when a cancel was swallowed, and `settle` waits for
tasks within its bound and names those it could not end."""

from __future__ import annotations

import asyncio
import contextlib

from poll.cancel import raise_if_cancelling, settle


async def test_a_loop_whose_wait_for_swallowed_the_cancel_still_ends() -> None:
    # The race of Python 3.11's wait_for: what it waits for ends in the same turn of the
    # loop as the cancel comes, and wait_for returns it instead of raising.
    waits: list[asyncio.Future[int]] = []
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            raise_if_cancelling()
            turns += 1
            waits.append(asyncio.get_running_loop().create_future())
            await asyncio.wait_for(waits[-1], 3)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)  # its first turn: it waits
    waits[0].set_result(1)
    task.cancel()
    assert not await settle([task], 5, "a test loop")
    assert task.cancelled() and turns <= 2


async def test_settle_ends_what_it_can_and_names_the_rest() -> None:
    async def fails() -> None:
        raise ValueError("ended on its own")

    released = False

    async def stubborn() -> None:
        while not released:
            with contextlib.suppress(asyncio.CancelledError):  # until released
                await asyncio.sleep(60)

    done = asyncio.create_task(asyncio.sleep(0))
    failed = asyncio.create_task(fails())
    sleeping = asyncio.create_task(asyncio.sleep(60))
    holdout = asyncio.create_task(stubborn())
    await asyncio.sleep(0.01)
    stuck = await settle([done, failed, sleeping, holdout], 0.2, "a test")
    assert stuck == {holdout}
    assert done.done() and isinstance(failed.exception(), ValueError) and sleeping.cancelled()
    released = True
    holdout.cancel()
    await holdout
