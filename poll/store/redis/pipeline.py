"""Votes share round trips: every vote made while the event loop turns goes in one pipeline.

Each vote stays its own atomic script (EVALSHA of `lua/vote.lua`); the pipeline
only shares the round trip and redis-py's per-command overhead, which otherwise
caps one process at a few thousand votes a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError

from poll.store.base import StoreError
from poll.store.redis.errors import safe_url, store_errors, unreachable
from poll.store.redis.scripts import VOTE

#: Votes sent in one pipeline at most.
PIPELINE_MAX = 500


@dataclass(frozen=True)
class QueuedVote:
    keys: Sequence[str | bytes]
    args: Sequence[Any]
    future: asyncio.Future[Any]


class VotePipeline:
    """Queues votes and sends them in pipelines; each caller gets its own script's reply."""

    def __init__(self, url: str, client: Callable[[], Redis], sha: Callable[[], str]) -> None:
        """`client()` raises StoreError when the store is not open; `sha()` is the vote script's."""
        self._url = url
        self._client = client
        self._sha = sha
        # Votes waiting to go out in the next pipeline, and pipelines in flight.
        self._queued: list[QueuedVote] = []
        self._sending: set[asyncio.Task[None]] = set()

    async def vote(self, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """Run the vote script, sharing one pipeline with every vote made meanwhile."""
        self._client()  # raises StoreError when the store is not open
        loop = asyncio.get_running_loop()
        queued = QueuedVote(keys, args, loop.create_future())
        self._queued.append(queued)
        if len(self._queued) == 1:
            loop.call_soon(self._send_queued)
        return await queued.future

    async def drain(self) -> None:
        """Send the votes already made and wait for their replies: their callers are waiting."""
        if self._queued:
            self._send_queued()
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    def _send_queued(self) -> None:
        queued, self._queued = self._queued, []
        for start in range(0, len(queued), PIPELINE_MAX):
            task = asyncio.create_task(self._send(queued[start : start + PIPELINE_MAX]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[QueuedVote]) -> None:
        try:
            replies = await self._evalsha_pipeline(batch)
        except asyncio.CancelledError:
            for queued in batch:
                queued.future.cancel()
            raise
        except Exception as error:
            failure = error if isinstance(error, StoreError) else unreachable(self._url, error)
            for queued in batch:
                if not queued.future.done():
                    queued.future.set_exception(failure)
            return
        for queued, reply in zip(batch, replies, strict=True):
            if queued.future.done():
                continue
            if isinstance(reply, Exception):
                queued.future.set_exception(
                    StoreError(f"Redis at {safe_url(self._url)} refused a vote: {reply}")
                )
            else:
                queued.future.set_result(reply)

    async def _evalsha_pipeline(self, batch: list[QueuedVote]) -> list[Any]:
        client = self._client()
        sha = self._sha()
        with store_errors(self._url):
            replies = await _evalsha_all(client, sha, batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                # Redis restarted or its script cache was flushed: load and send again.
                await client.script_load(VOTE)
                again = await _evalsha_all(client, sha, [batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        return replies


async def _evalsha_all(client: Redis, sha: str, batch: list[QueuedVote]) -> list[Any]:
    async with client.pipeline(transaction=False) as pipe:
        for queued in batch:
            pipe.evalsha(sha, len(queued.keys), *queued.keys, *queued.args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    return replies
