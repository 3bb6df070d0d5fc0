"""The pub/sub reader: changes made by other processes reach this process's subscribers.

One pub/sub connection per store, read by one task only; every change a
script makes is published as "room R changed, version V" on the room's
channel, and the reader hands it to the local fan-out. Pub/sub is at most
once, so the reader also:

- reconnects with backoff for as long as the store is open, whatever redis-py
  raises, and makes every local subscriber re-read after each (re)subscribe;
- subscribes again, every second, channels that redis-py's own reconnection
  dropped;
- is replaced when it stops coming round its loop (a hang inside redis-py);
- is backed by a version check every `verify_every` seconds that signals rooms
  whose version moved on without a message.

On a Redis Cluster the channels are sharded (SSUBSCRIBE): redis-py keeps one
connection per node owning a watched room, and the reader reads them in turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterPubSub
from redis.exceptions import RedisError

from poll.cancel import raise_if_cancelling, settle
from poll.store.base import StoreError
from poll.store.fanout import Fanout, Signals
from poll.store.redis.client import Client
from poll.store.redis.errors import safe_url, store_errors, transport_closed
from poll.store.redis.keys import Layout

# The store's logger: operators filter on it (see poll/web/logs.py).
log = logging.getLogger("poll.store.redis")

#: How long a new subscription waits for Redis to confirm it.
SUBSCRIBE_WAIT = 5.0
#: How long the pub/sub reader waits for a message before it looks at its channels.
READ_WAIT = 0.1
#: A reader that has not come round its loop for this long is stuck: it is replaced.
READER_STUCK = 30.0
#: How long closing a broken pub/sub connection may take before it is left behind.
CLOSE_WAIT = 2.0
#: Reconnect backoff of the pub/sub reader, in seconds.
BACKOFF_FIRST, BACKOFF_MAX = 0.05, 5.0
#: How often each process compares its rooms' versions with Redis, in seconds.
#: Pub/sub is at most once: this bounds how long a lost signal leaves a screen stale.
VERIFY_EVERY = 2.0


class Listener:
    """The reader and the version check of one store, and its local subscriptions."""

    def __init__(self, url: str, layout: Layout, *, verify_every: float = VERIFY_EVERY) -> None:
        self._url = url
        self._layout = layout
        self._verify_every = verify_every
        self.fanout = Fanout()
        self._redis: Client | None = None  # set while the store is open
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._channels_changed = asyncio.Event()  # the reader has channels to (un)subscribe
        self._reader: asyncio.Task[None] | None = None
        self._verifier: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._pubsub_was_up = False
        self._reader_beat = time.monotonic()  # when the reader last came round its loop

    @property
    def connected(self) -> bool:
        """Whether the pub/sub connection is up (for health reports)."""
        return self._pubsub is not None

    def start(self, client: Client) -> None:
        self._redis = client
        self._start_reader()
        self._verifier = asyncio.create_task(self._verify_forever(), name="poll redis verify")

    async def stop(self) -> set[asyncio.Task[Any]]:
        """Stop reading; the tasks still stuck after CLOSE_WAIT (closing the client ends them)."""
        reader, verifier = self._reader, self._verifier
        self._redis = self._reader = self._verifier = None
        tasks = [task for task in (reader, verifier, *self._background) if task is not None]
        return await settle(tasks, CLOSE_WAIT, "closing the Redis store")

    @property
    def _client(self) -> Client:
        if self._redis is None:
            raise StoreError(f"Redis store {safe_url(self._url)} is not open: call open() first")
        return self._redis

    # Subscriptions ------------------------------------------------------------------

    @asynccontextmanager
    async def subscription(self, room_id: str) -> AsyncIterator[Signals]:
        signals = Signals(room_id)
        first = self.fanout.add(signals)
        try:
            await self._listen_to(room_id, first=first)
            yield signals
        finally:
            signals.close()
            if self.fanout.remove(signals):  # the room's last local subscriber left
                self._confirmed.pop(self._layout.room(room_id).channel, None)
                self._channels_changed.set()  # the reader unsubscribes

    async def _listen_to(self, room_id: str, first: bool) -> None:
        """Have the reader subscribe the room's channel, and wait until Redis confirms.

        Only the reader sends on the pub/sub connection: a SUBSCRIBE from another
        task could meet redis-py reconnecting that connection under the reader,
        and two reconnections at once can leave a connection that hears nothing.
        """
        channel = self._layout.room(room_id).channel
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        pubsub = self._pubsub
        if pubsub is not None and channel in self._subscribed(pubsub):
            # The room's last subscriber left a moment ago and the reader has not
            # unsubscribed yet: the channel is still confirmed.
            confirmed.set()
        elif first:
            self._channels_changed.set()
        # Changes made after subscribe() returns are then seen. While Redis is away
        # (no pub/sub connection) this waits SUBSCRIBE_WAIT at most; the resync
        # that follows the reader's reconnection covers the gap.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), SUBSCRIBE_WAIT)

    # The reader ---------------------------------------------------------------------

    def _start_reader(self) -> None:
        self._reader_beat = time.monotonic()
        self._reader = asyncio.create_task(self._listen_forever(), name="poll redis pubsub")

    def _replace_stuck_reader(self) -> None:
        """Cancel a reader that stopped coming round its loop and start another.

        Every wait of the reader is bounded, but it runs inside redis-py's
        reconnection code: should that ever hang, this process would hear no
        other process again. The version check keeps screens right meanwhile.
        """
        reader = self._reader
        if reader is None or time.monotonic() - self._reader_beat < READER_STUCK:
            return
        log.warning("Redis pub/sub reader stuck for %.0f s; starting another", READER_STUCK)
        reader.cancel()
        self._background.add(reader)  # stop() still waits for it to finish
        reader.add_done_callback(self._background.discard)
        self._start_reader()

    async def _listen_forever(self) -> None:
        """The one pub/sub reader: reconnects with backoff for as long as the store is open.

        redis-py retries a few times by itself and then raises; this loop outlives that.
        """
        delay = BACKOFF_FIRST
        while self._redis is not None:  # stop() clears it before it cancels this task
            self._reader_beat = time.monotonic()
            try:
                await self._listen_once()
            except Exception as error:
                # Whatever redis-py raises, this task must not die: without it no
                # change made by another process would reach this one's screens.
                raise_if_cancelling()
                if self._redis is None:
                    return
                if isinstance(error, RedisError | OSError) or transport_closed(error):
                    log.warning("Redis pub/sub lost (%s); reconnecting in %.2f s", error, delay)
                else:
                    log.exception("Redis pub/sub reader failed; reconnecting in %.2f s", delay)
            if self._pubsub_was_up:
                delay = BACKOFF_FIRST
            await asyncio.sleep(delay)
            delay = min(delay * 2, BACKOFF_MAX)

    async def _listen_once(self) -> None:
        pubsub = self._client.pubsub()
        self._pubsub_was_up = False
        try:
            for event in self._confirmed.values():
                event.clear()
            self._channels_changed.clear()
            channels = [self._layout.room(room_id).channel for room_id in self.fanout.rooms()]
            await self._subscribe(pubsub, channels)
            self._pubsub = pubsub
            self._pubsub_was_up = True
            checked = time.monotonic()
            while self._redis is not None:
                # A cancellation can be lost in a read whose own timeout ends at the
                # same moment (seen with redis-py 8.1 on Python 3.11): look for one
                # here too, or close() would wait for this loop for ever.
                raise_if_cancelling()
                self._reader_beat = time.monotonic()
                message = await self._next_message(pubsub)
                if message is not None:
                    self._dispatch(message)
                # On a subscriber's request, and every second whatever happened: a
                # channel that redis-py's own reconnection dropped comes back too.
                if self._channels_changed.is_set() or time.monotonic() - checked >= 1.0:
                    checked = time.monotonic()
                    await self._match_channels(pubsub)
        finally:
            if self._pubsub is pubsub:  # a replacement reader may have its own already
                self._pubsub = None
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                async with asyncio.timeout(CLOSE_WAIT):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _match_channels(self, pubsub: PubSub) -> None:
        """Subscribe the channels of local rooms the connection lacks; drop the others."""
        self._channels_changed.clear()
        wanted = {self._layout.room(room_id).channel for room_id in self.fanout.rooms()}
        have = self._subscribed(pubsub)
        if missing := wanted - have:
            await self._subscribe(pubsub, sorted(missing))
        if unwanted := have - wanted:
            if isinstance(pubsub, ClusterPubSub):
                await pubsub.sunsubscribe(*sorted(unwanted))
            else:
                await pubsub.unsubscribe(*sorted(unwanted))

    # Plain or sharded channels: the one place that tells them apart.

    def _subscribed(self, pubsub: PubSub) -> set[str]:
        """The room channels the connection has (or is getting), not those it is leaving."""
        if isinstance(pubsub, ClusterPubSub):
            return set(pubsub.shard_channels) - pubsub.pending_unsubscribe_shard_channels
        have = set(pubsub.channels) - pubsub.pending_unsubscribe_channels
        return have - {self._layout.control}

    async def _subscribe(self, pubsub: PubSub, channels: list[str]) -> None:
        if isinstance(pubsub, ClusterPubSub):
            # No control channel: each node's connection opens with its first room.
            if channels:
                await pubsub.ssubscribe(*channels)
        else:
            await pubsub.subscribe(self._layout.control, *channels)

    async def _next_message(self, pubsub: PubSub) -> Mapping[str, Any] | None:
        message: Mapping[str, Any] | None
        if not isinstance(pubsub, ClusterPubSub):
            message = await pubsub.get_message(timeout=READ_WAIT)
        elif pubsub.shard_channels:
            # Waits up to READ_WAIT on each node in turn until one has a message.
            message = await pubsub.get_sharded_message(timeout=READ_WAIT)
        else:
            await asyncio.sleep(READ_WAIT)  # no node to read yet
            message = None
        return message

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        channel = message["channel"]
        room_id = self._layout.room_of(channel)
        if room_id is None:
            return
        if message["type"] in ("message", "smessage"):
            self.fanout.signal(room_id, int(message["data"]))
        elif message["type"] in ("subscribe", "ssubscribe"):
            # Redis forgets what it published while we were away: whenever a
            # channel is (re)subscribed, every local subscriber re-reads.
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            task = asyncio.create_task(self._resync(room_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _resync(self, room_id: str) -> None:
        if room_id not in self.fanout:
            return
        try:
            with store_errors(self._url):
                version = await self._client.hget(self._layout.room(room_id).room, "version")
        except StoreError as error:
            # Redis flapped again. Signal anyway: a signal only says "read again", and
            # the hub retries its reads until Redis answers; silence here would leave
            # every local screen on what it showed before the outage.
            log.warning("resync of room %s failed: %s", room_id, error)
            self.fanout.signal(room_id, 0)
            return
        if version is not None:
            self.fanout.signal(room_id, int(version))

    # The version check ---------------------------------------------------------------

    async def _verify_forever(self) -> None:
        """Compare each local room's version with Redis now and then; signal what is newer.

        Pub/sub is at most once: a message published while this process's
        subscriber connection is being re-established is gone. One pipelined
        HGET per process every `verify_every` seconds bounds how long any screen
        can stay behind, whatever happened to the messages.
        """
        while self._redis is not None:
            await asyncio.sleep(self._verify_every)
            self._replace_stuck_reader()
            try:
                await self._verify()
            except StoreError as error:
                log.debug("version check skipped: %s", error)
            except Exception:
                log.exception("version check failed; trying again in %.1f s", self._verify_every)

    async def _verify(self) -> None:
        rooms = self.fanout.rooms()
        if not rooms:
            return
        with store_errors(self._url):
            async with self._client.pipeline(transaction=False) as pipe:
                for room_id in rooms:
                    pipe.hget(self._layout.room(room_id).room, "version")
                versions = await pipe.execute()
        for room_id, version in zip(rooms, versions, strict=True):
            sent = self.fanout.sent(room_id)
            if version is None or int(version) <= (-1 if sent is None else sent):
                continue
            if sent is not None:  # lost, or still on its way: either way, read again
                log.debug("room %s: version %s seen before its signal", room_id, version)
            self.fanout.signal(room_id, int(version))
