"""Calls of the store's scripts share round trips: every call made while the event
loop turns goes in one pipeline.

Each call stays its own atomic script (EVALSHA of `lua/vote.lua`, or of the
scripts a phone's websocket runs when it joins: `join.lua`, `answers_of.lua`);
the pipeline only shares the round trip and redis-py's per-command overhead
(about 0.1–0.3 ms of the worker's CPU per round trip, measured), which
otherwise caps one process at a few thousand votes a second, and made a
joining phone's two calls a tenth of a worker's time in a 5,000-phone join.
One pipeline may carry calls of several scripts: a phone's join and the read
of her answers, made in the same turn, go in one round trip.

Where the server has `WAITAOF` (Redis 7.2 and later) and keeps an append-only
file, the votes' pipeline ends with `WAITAOF 1 0`: the votes are answered only once
Redis has written them to its disk, whatever its `appendfsync` (see
docs/durability.md). On an older Redis the acknowledgement is as durable as
`appendfsync` makes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import AskError, MovedError, NoScriptError

from poll.store.base import StoreError
from poll.store.redis.client import Client, Transactions
from poll.store.redis.errors import safe_url, store_errors, unreachable

#: What Redis Cluster answers for a slot that lives on another node now.
MOVED = (MovedError, AskError)
#: Calls sent in one pipeline at most.
PIPELINE_MAX = 500
#: How long a pipeline's WAITAOF may wait for the append-only file's fsync (ms).
WAITAOF_TIMEOUT_MS = 5000

log = logging.getLogger("poll.store")


@dataclass(frozen=True)
class QueuedCall:
    script: str
    keys: Sequence[str | bytes]
    args: Sequence[Any]
    future: asyncio.Future[Any]


class ScriptPipeline:
    """Queues calls of scripts and sends them in pipelines; each caller gets its own
    call's reply."""

    def __init__(
        self,
        url: str,
        client: Callable[[], Client],
        sha: Callable[[str], str],
        source: Callable[[str], str],
        nodes: Callable[[], Transactions | None] = lambda: None,
        *,
        calls: str,
    ) -> None:
        """`client()` raises StoreError when the store is not open; `sha(name)` is a
        script's, `source(name)` its text (loaded again when Redis has lost it); on a
        cluster, `nodes()` gives each call's node (by its first key); `calls` names
        them in errors."""
        self._url = url
        self._calls = calls
        self._client = client
        self._nodes = nodes
        self._sha = sha
        self._source = source
        # Calls waiting to go out in the next pipeline, and pipelines in flight.
        self._queued: list[QueuedCall] = []
        self._sending: set[asyncio.Task[None]] = set()
        #: Whether each pipeline waits for Redis to fsync its votes (set by the store).
        self.wait_aof = False

    async def run(self, script: str, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """Run the script named `script`, sharing one pipeline with every call made
        meanwhile."""
        self._client()  # raises StoreError when the store is not open
        loop = asyncio.get_running_loop()
        queued = QueuedCall(script, keys, args, loop.create_future())
        self._queued.append(queued)
        if len(self._queued) == 1:
            loop.call_soon(self._send_queued)
        return await queued.future

    async def drain(self) -> None:
        """Send the calls already made and wait for their replies: their callers are waiting."""
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

    async def _send(self, batch: list[QueuedCall]) -> None:
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
                    StoreError(f"Redis at {safe_url(self._url)} refused {self._calls}: {reply}")
                )
            else:
                queued.future.set_result(reply)

    async def _evalsha_pipeline(self, batch: list[QueuedCall]) -> list[Any]:
        client = self._client()
        with store_errors(self._url):
            replies = await self._evalsha_nodes(batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                # Redis restarted or its script cache was flushed: load and send again.
                for script in sorted({batch[i].script for i in missing}):
                    await client.script_load(self._source(script))
                again = await self._evalsha_nodes([batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
            moved = [
                i for i, reply in enumerate(replies) if isinstance(reply, MovedError | AskError)
            ]
            if moved:
                # A slot went to another node of the cluster: learn where, send again.
                nodes = self._nodes()
                if nodes is not None:
                    await nodes.refresh()
                again = await self._evalsha_nodes([batch[i] for i in moved])
                for i, reply in zip(moved, again, strict=True):
                    replies[i] = reply
        return replies

    async def _evalsha_nodes(self, batch: list[QueuedCall]) -> list[Any]:
        """One pipeline per node: the calls of a room go to the node owning its slot."""
        nodes = self._nodes()
        if nodes is None:
            client = self._client()
            assert isinstance(client, Redis)
            return await self._evalsha_all(client, batch)
        groups: dict[int, tuple[Redis, list[int]]] = {}
        for i, queued in enumerate(batch):
            key = queued.keys[0]
            target = nodes.target(key.decode() if isinstance(key, bytes) else key)
            groups.setdefault(id(target), (target, []))[1].append(i)
        results = await asyncio.gather(
            *(self._evalsha_all(target, [batch[i] for i in at]) for target, at in groups.values())
        )
        replies: list[Any] = [None] * len(batch)
        for (_, at), got in zip(groups.values(), results, strict=True):
            for i, reply in zip(at, got, strict=True):
                replies[i] = reply
        return replies

    async def _evalsha_all(self, client: Redis, batch: list[QueuedCall]) -> list[Any]:
        wait_aof = self.wait_aof
        sha = self._sha
        async with client.pipeline(transaction=False) as pipe:
            for queued in batch:
                pipe.evalsha(sha(queued.script), len(queued.keys), *queued.keys, *queued.args)
            if wait_aof:
                # On the same connection as the votes: it waits for their fsync.
                pipe.execute_command("WAITAOF", 1, 0, WAITAOF_TIMEOUT_MS)
            replies: list[Any] = await pipe.execute(raise_on_error=False)
        if wait_aof:
            self._check_synced(replies.pop())
        return replies

    def _check_synced(self, reply: Any) -> None:
        """Fail the votes (their callers retry, idempotently) unless Redis says they
        are on its disk; stop waiting when the server cannot (AOF turned off)."""
        if isinstance(reply, Exception):
            self.wait_aof = False
            log.warning("Redis refused WAITAOF (%s); votes no longer wait for its fsync", reply)
            return
        local = reply[0] if isinstance(reply, list | tuple) and reply else 0
        if int(local) < 1:
            raise StoreError(
                f"Redis at {safe_url(self._url)} did not write the votes to its"
                f" append-only file within {WAITAOF_TIMEOUT_MS} ms"
            )
