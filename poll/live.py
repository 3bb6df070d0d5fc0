"""The per-process hub: turns store change signals into snapshots for local sockets.

    store signal "room R changed" ──▶ RoomChannel(R)
        one subscription per room with local sockets (opened on the first, closed
        after the last has gone), at most `max_rate` snapshots a second:
        read the room once ─▶ one view per audience ─▶ encoded once ─▶ every socket

Each socket has an `Outbox`: a small queue where a newer snapshot replaces an
unsent older one, so a slow phone never delays the others and never makes the
server buffer a backlog. A socket whose sends stay stuck is closed; its client
reconnects and gets a fresh snapshot.

Participants' own answers ("mine") are not part of the shared snapshot: they
are sent with each vote's acknowledgement, on connect, and (read once for all
local participants) when the current question changes or is reset. The store
is never called per participant per change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Protocol

from poll import protocol
from poll.cancel import raise_if_cancelling, settle
from poll.meter import Meter
from poll.questions import Answer
from poll.rooms import Audience, Room, RoomData, Rooms, StoreError, normalize_code

log = logging.getLogger("poll.live")

#: Seconds a single send may take before the socket counts as stuck.
SEND_TIMEOUT = 10.0
#: Control messages (acks, "mine", pongs) one socket may have waiting.
MAX_PENDING = 64
#: Seconds the polite close of a stuck socket may take before the connection is cut.
CLOSE_TIMEOUT = 2.0
#: Seconds a room's subscription stays after its last socket left (reloads, reconnects).
LINGER = 5.0
#: Seconds between the server's pings (one sweep over every socket of the process).
PING_INTERVAL = 20.0
#: A socket silent for this long (no pong, nothing) is closed as dead.
IDLE_TIMEOUT = 60.0
#: Seconds between presence reports of an unchanged count (the store's TTL is 30).
PRESENCE_REFRESH = 10.0
#: Seconds between two reports of this process's figures to the store (for /metrics).
METRICS_EVERY = 5
#: Seconds between participant snapshots whose only change is the shown tally.
PARTICIPANT_TALLY_INTERVAL = 1.0
#: Phones drawn their own standing between two turns of the event loop.
YIELD_EVERY = 200
#: Snapshot fields that phones do not show; a change in these alone is not sent to them.
_PHONE_IGNORES = ("version", "joined", "connected", "answers", "entries", "results", "deadline_in")


def phone_screen(view: dict[str, Any]) -> dict[str, Any]:
    """The part of a participant view that a phone shows (what `_PHONE_IGNORES` leaves)."""
    return {k: v for k, v in view.items() if k not in _PHONE_IGNORES}


class ScreenRenderer(Protocol):
    """Renders the screens that snapshots carry (poll.web.screens); the hub stays
    free of templates."""

    def snapshot_fields(self, view: dict[str, Any], audience: Audience) -> dict[str, Any]: ...

    def stage(
        self,
        view: dict[str, Any],
        mine: list[dict[str, Any]],
        me: dict[str, Any] | None = None,
    ) -> str: ...


class Outbox:
    """One socket's outgoing messages, sent in order by one writer task."""

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
        *,
        audience: Audience,
        participant: str | None = None,
        abort: Callable[[], None] | None = None,
    ) -> None:
        self._send = send
        self._close = close
        # Cuts the connection outright. A polite close frame waits behind the
        # unsent data of a peer that stopped reading, for ever: only this frees it.
        self._abort = abort
        self._stuck = False
        self.audience = audience
        self.participant = participant
        # Entries are [kind, text]; at most one "snapshot" entry is ever waiting. A
        # list and a bare future, not a deque and an Event (a 600-byte block each):
        # at 10,000 phones every byte per socket is 10 kB (docs/performance.md).
        self._queue: list[list[str]] = []
        self._waiter: asyncio.Future[None] | None = None
        self.closed = False
        #: When the peer last sent anything (the hub's heartbeat closes a silent one).
        self.last_seen = time.monotonic()
        #: When the send under way started (None: none is), for `watch_sends`.
        self.sending_since: float | None = None
        self._writer: asyncio.Task[None] | None = None
        self._gave_up = False
        self._peer_left = False
        self.sent_version = -1
        #: Told of each unsent snapshot a newer one replaced (the hub's meter, once joined).
        self.on_drop: Callable[[], None] | None = None

    def offer_snapshot(self, text: str) -> None:
        """Queue a snapshot, dropping an unsent older one."""
        if self.closed:
            return
        for entry in self._queue:
            if entry[0] == "snapshot":
                self._queue.remove(entry)
                if self.on_drop is not None:
                    self.on_drop()
                break
        self._queue.append(["snapshot", text])
        self._wake()

    def put(self, text: str) -> None:
        """Queue a message that must not be dropped (ack, mine, pong)."""
        if self.closed:
            return
        if len(self._queue) >= MAX_PENDING:
            log.info("closing a %s socket that stopped reading", self.audience)
            self.closed = self._stuck = True
            self._wake()
            return
        self._queue.append(["message", text])
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def run(self) -> None:
        """The writer task: send until closed; closed if a send hangs (see `give_up`)."""
        self._writer = asyncio.current_task()
        try:
            while True:
                raise_if_cancelling()
                if not self._queue and not self.closed:
                    self._waiter = asyncio.get_running_loop().create_future()
                    try:
                        await self._waiter
                    finally:
                        self._waiter = None
                while self._queue and not self.closed:
                    _, text = self._queue.pop(0)
                    # No timer per message (asyncio.timeout was 5 % of the server's CPU
                    # in a 3,000-phone run): the hub's watchdog gives up on a send
                    # that has taken too long (`watch_sends`).
                    self.sending_since = time.monotonic()
                    await self._send(text)
                    self.sending_since = None
                if self.closed:
                    break
        except asyncio.CancelledError:
            if not self._gave_up:
                raise
            # The watchdog's cancellation, handled here. (No local names the task: a
            # traceback kept by a cancelled task would hold it in a reference cycle,
            # and so the whole socket until a full collection.)
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
            log.info("closing a %s socket stuck for %.0f s", self.audience, SEND_TIMEOUT)
            self._stuck = True
        except Exception:  # the socket went away under us
            pass
        finally:
            self.closed = True
            self.sending_since = None
            self._writer = None
            if not self._peer_left:
                await self.shut(protocol.CLOSE_TOO_SLOW, "too slow; reconnect")

    def give_up(self) -> None:
        """Stop a send that hangs (a peer that stopped reading): the writer closes."""
        if self._writer is not None and self.sending_since is not None and not self._gave_up:
            self._gave_up = True
            self._writer.cancel()

    async def shut(self, code: int, reason: str, *, cut: bool = False) -> None:
        """Close politely if the peer takes it soon; cut a stuck connection either way.

        `cut`: cut it even after a polite close (a peer silent for a minute is gone,
        and its unacknowledged close frame would hold the connection for minutes more).
        """
        self._stuck = self._stuck or cut
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self._close(code, reason)
        except TimeoutError:
            self._stuck = True
        except Exception:  # closed already
            pass
        if self._stuck and self._abort is not None:
            self._abort()

    def stop(self) -> None:
        self.closed = True
        self._wake()

    def peer_left(self) -> None:
        """The peer closed the connection: stop, with nothing left to close."""
        self._peer_left = True
        self.stop()

    @property
    def queued(self) -> int:
        """Messages waiting to be sent (for /metrics: stays small by design)."""
        return len(self._queue)


def watch_sends(outboxes: Iterable[Outbox], now: float) -> None:
    """Give up on every send that has taken longer than SEND_TIMEOUT."""
    for outbox in outboxes:
        since = outbox.sending_since
        if since is not None and now - since > SEND_TIMEOUT:
            outbox.give_up()


class RoomChannel:
    """Everything the hub keeps for one room with local sockets."""

    def __init__(self, hub: Hub, room: Room) -> None:
        self.hub = hub
        self.room = room
        self.outboxes: dict[Audience, set[Outbox]] = {
            "participant": set(),
            "projector": set(),
            "console": set(),
        }
        # The newest view per audience, and its snapshot once encoded: a joining or
        # syncing socket gets the newest. Encoded (with its screen rendered) only
        # when sent, so a vote burst that changes nothing on the phones renders
        # nothing for them.
        self.views: dict[Audience, dict[str, Any]] = {}
        self._texts: dict[Audience, str] = {}
        self._screens: dict[Audience, dict[str, Any]] = {}
        # The room as last read: what each phone's personal context is built from.
        self.data: RoomData | None = None
        self._last_stage: str | None = None
        self.dirty = asyncio.Event()
        self.dirty.set()
        self.reading = False
        self.presence_dirty = True
        self.presence_sent_at = 0.0
        # Participant sockets per participant id: presence counts people, so
        # that a phone with several tabs (or a script with 300 sockets on one
        # cookie) counts once.
        self._sockets_of: Counter[str] = Counter()
        # The question the joining phones get their answers to with their first
        # snapshot: the first broadcast needs to send them again only if it moved.
        self._last_question: str | None = room.state.current_question
        self._last_respondents = 0
        # What phones were last sent: the part they show, the tally, and when.
        self._phone_screen: dict[str, Any] | None = None
        self._phone_results: Any = None
        self._phone_sent_at = 0.0
        self._phone_timer: asyncio.TimerHandle | None = None
        # Phones sent a snapshot on joining (or syncing) since the last broadcast to
        # phones, with the screen they were shown: the next broadcast sends them only
        # what differs from it, not the same screen again with another head count.
        self._joined: dict[Outbox, dict[str, Any]] = {}
        # Phones added whose first snapshot is still being read: broadcasts leave them
        # out, as they get the newest view once their read is done.
        self._joining: set[Outbox] = set()
        # A read for joining sockets under way: those that join meanwhile share it
        # (when a venue's wifi comes back, every phone reconnects at once).
        self._join_read: asyncio.Future[RoomData] | None = None
        # Wakes the room when the current question's countdown ends, so every
        # screen shows it closed without waiting for another change.
        self._deadline: tuple[float, asyncio.TimerHandle] | None = None
        self._tasks = [
            asyncio.create_task(self._listen(), name=f"poll-listen-{room.id}"),
            asyncio.create_task(self._broadcast_loop(), name=f"poll-broadcast-{room.id}"),
        ]
        self._linger: asyncio.TimerHandle | None = None

    @property
    def participants(self) -> int:
        """Participants with at least one socket open here (people, not sockets)."""
        return len(self._sockets_of)

    @property
    def empty(self) -> bool:
        return not any(self.outboxes.values())

    def add(self, outbox: Outbox) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        self.outboxes[outbox.audience].add(outbox)
        outbox.on_drop = self.hub.meter.snapshot_dropped
        if outbox.audience == "participant":
            self._joining.add(outbox)
            if outbox.participant is not None:
                self._sockets_of[outbox.participant] += 1
                if self._sockets_of[outbox.participant] == 1:
                    self.presence_dirty = True

    def remove(self, outbox: Outbox) -> None:
        if outbox not in self.outboxes[outbox.audience]:
            return
        self.outboxes[outbox.audience].discard(outbox)
        who = outbox.participant
        if outbox.audience == "participant":
            self._joined.pop(outbox, None)
            self._joining.discard(outbox)
            if who is not None:
                self._sockets_of[who] -= 1
                if self._sockets_of[who] <= 0:
                    del self._sockets_of[who]
                    self.presence_dirty = True
        if not self.outboxes[outbox.audience]:
            # No broadcast keeps this audience's view current any more: the next
            # socket of it (a console reopened within the linger) reads the room.
            self.views.pop(outbox.audience, None)
            self._texts.pop(outbox.audience, None)
        if self.empty and self._linger is None:
            loop = asyncio.get_running_loop()
            self._linger = loop.call_later(LINGER, self.hub._close_if_empty, self.room.id)

    async def _listen(self) -> None:
        """Follow the store's change signals; resubscribe with backoff when it fails."""
        backoff = 0.5
        while True:
            raise_if_cancelling()
            try:
                async with self.hub.rooms.store.subscribe(self.room.id) as signals:
                    backoff = 0.5
                    self.dirty.set()  # signals were lost while away: read again
                    async for _version in signals:
                        raise_if_cancelling()
                        self.dirty.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("room %s: subscription failed (%s); retrying", self.room.id, exc)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    async def _broadcast_loop(self) -> None:
        interval = 1.0 / self.hub.max_rate
        while True:
            raise_if_cancelling()
            await self.dirty.wait()
            self.dirty.clear()
            try:
                await self.broadcast()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("room %s: cannot read the room (%s); retrying", self.room.id, exc)
                await asyncio.sleep(1.0)
                self.dirty.set()
            # Coalescing: signals arriving meanwhile collapse into one next round.
            await asyncio.sleep(interval)

    async def broadcast(self) -> None:
        # A read under way means the views may already be behind the room.
        self.reading = True
        try:
            data = await self.room.load()
        finally:
            self.reading = False
        if self.data is not None and data.state.version < self.data.state.version:
            # A socket that joined meanwhile read the room later than this read:
            # sending this would take every screen back. Read again instead.
            self.dirty.set()
            return
        self.data = data
        self.watch_deadline(data)
        for audience, outboxes in self.outboxes.items():
            if not outboxes:
                # Not rebuilt now, so no longer current: the next socket of this
                # audience must not be sent it (it would keep the old state).
                self.views.pop(audience, None)
                self._texts.pop(audience, None)
                continue
            view = self.set_view(audience, self.room.view(data, audience))
            targets = self._phones_to_send(view) if audience == "participant" else outboxes
            if not targets:
                continue
            text = self.snapshot_text(audience)
            for outbox in list(targets):
                outbox.offer_snapshot(text)
        question = data.state.current_question
        aggregate = data.aggregates.get(question) if question is not None else None
        respondents = aggregate.respondents if aggregate is not None else 0
        stage = (
            protocol.stage_key(self.phone_view)
            if self.outboxes["participant"] and self.phone_view
            else None
        )
        # A phone's stage shows its own answers, and on a personal screen her own
        # standing: when the screen changes under them (another item, a reset, voting
        # opened or closed, new standings, the end), each phone gets its answers again
        # with its stage rendered for them. (Phones that join get theirs with their
        # first snapshot: a room without phones has no stage.)
        restaged = stage is not None and self._last_stage not in (None, stage)
        changed = (
            question != self._last_question or respondents < self._last_respondents or restaged
        )
        self._last_question, self._last_respondents = question, respondents
        if stage is not None:
            self._last_stage = stage
        drawn_for = self.phone_view
        personal = drawn_for is not None and bool(drawn_for.get("personal"))
        if changed and drawn_for is not None and stage and (question is not None or personal):
            # Let every writer send the new item first (they were woken before us):
            # queued behind it, "mine" would double the time to reach the last phone.
            await asyncio.sleep(0)
            await self._send_mine(question, respondents, data, drawn_for)

    def watch_deadline(self, data: RoomData) -> None:
        """Read the room again just after the current question's deadline (once per deadline)."""
        question = data.state.current_question
        deadline = data.state.deadlines.get(question) if question is not None else None
        if deadline is None or data.state.questions.get(question or "") != "open":
            return
        left = (deadline - data.read_at).total_seconds()
        if left <= 0:
            return
        at = deadline.timestamp()
        if self._deadline is not None:
            if self._deadline[0] == at:
                return
            self._deadline[1].cancel()
        # A little after: the snapshot read then must already see it passed.
        handle = asyncio.get_running_loop().call_later(left + 0.05, self._deadline_due)
        self._deadline = (at, handle)

    def _deadline_due(self) -> None:
        self.dirty.set()

    @property
    def phone_view(self) -> dict[str, Any] | None:
        """The newest participant view: what each phone's own stage is drawn for."""
        return self.views.get("participant")

    def set_view(self, audience: Audience, view: dict[str, Any]) -> dict[str, Any]:
        self.views[audience] = view
        self._texts.pop(audience, None)
        return view

    def snapshot_text(self, audience: Audience) -> str:
        """The newest snapshot for `audience` (which has a view), encoded once."""
        text = self._texts.get(audience)
        if text is None:
            view = self.views[audience]
            screen = self._screens[audience] = self.hub.screen_fields(view, audience)
            text = self._texts[audience] = protocol.encode(protocol.snapshot(view, **screen))
        return text

    def fresh_snapshot_text(self, audience: Audience) -> str:
        """The newest snapshot for a socket that joins or syncs now: the encoded one,
        unless a countdown runs: then with the seconds left now, not when it was built."""
        text = self.snapshot_text(audience)
        view = self.views[audience]
        if view.get("deadline_in") is None or self._deadline is None:
            return text
        left = max(0.0, round(self._deadline[0] - time.time(), 1))
        fresh = {**view, "deadline_in": left}
        return protocol.encode(protocol.snapshot(fresh, **self._screens[audience]))

    def _phones_to_send(self, view: dict[str, Any]) -> list[Outbox]:
        """The phones this participant snapshot changes the screen of.

        Every phone when `_phones_need` says so; else the phones that joined since
        the last broadcast and were shown another screen (read before this change).
        """
        joined, self._joined = self._joined, {}
        phones = self.outboxes["participant"]
        if self._joining:
            phones = phones - self._joining
        screen = phone_screen(view)
        moved = screen != self._phone_screen
        if self._phones_need(view):
            if not moved or not joined:
                return list(phones)  # a new tally, or a screen no phone has yet
            # A phone that joined meanwhile was shown this screen already when only
            # the head count or the answers changed since its own read.
            return [o for o in phones if joined.get(o) != screen]
        return [o for o, shown in joined.items() if shown != screen and o in phones]

    def joined(self, outbox: Outbox, view: dict[str, Any]) -> None:
        """A phone was sent `view` on its own (joining or syncing)."""
        self._joining.discard(outbox)
        self._joined[outbox] = phone_screen(view)

    async def read_for_join(self) -> RoomData:
        """The room for sockets that join: those that come during a read share it."""
        reading = self._join_read
        if reading is None or reading.done():
            reading = self._join_read = asyncio.ensure_future(self.room.load())
        return await asyncio.shield(reading)

    def _phones_need(self, view: dict[str, Any]) -> bool:
        """Whether this participant snapshot changes what a phone shows.

        During a vote burst every change is a count, and counts are all the
        phones would get, ten times a second each: at 10,000 phones that is
        100,000 messages a second for nothing on screen. Phones get a snapshot
        when the item, its status, the results' visibility or the room changes
        at once, and the tally (only when shown) at most once a second.
        """
        screen = phone_screen(view)
        results = view.get("results")
        if screen != self._phone_screen:
            self._phone_screen, self._phone_results = screen, results
            self._phone_sent_at = time.monotonic()
            return True
        if results is None or results == self._phone_results:
            return False
        wait = self._phone_sent_at + PARTICIPANT_TALLY_INTERVAL - time.monotonic()
        if wait > 0:
            if self._phone_timer is None:  # come back for the newest tally
                self._phone_timer = asyncio.get_running_loop().call_later(wait, self._tally_due)
            return False
        self._phone_results = results
        self._phone_sent_at = time.monotonic()
        return True

    def _tally_due(self) -> None:
        self._phone_timer = None
        self.dirty.set()

    async def _send_mine(
        self, question: str | None, respondents: int, data: RoomData, view: dict[str, Any]
    ) -> None:
        """Each local participant's answers to the (new) current question, read at once,
        and on a personal screen what it shows of her (counted once for all)."""
        item_id = view["item"]["id"]
        stored: dict[str, list[Answer]] = {}
        wanted = {o.participant for o in self.outboxes["participant"] if o.participant}
        if question is not None and respondents:
            async for response in self.hub.rooms.store.responses(self.room.id):
                if response.question_id == question and response.participant in wanted:
                    stored.setdefault(response.participant, []).append(response.answer)
        found = {who: self.room.mine_json(item_id, answers) for who, answers in stored.items()}
        personal: dict[str, dict[str, Any]] = {}
        if view.get("personal"):
            personal = await self.room.personal(data, wanted, fresh=True)
        hub = self.hub
        version = data.state.version
        # Nothing of hers: the phone shows the snapshot's own stage, drawn for nobody.
        empty = protocol.encode(protocol.mine(item_id, [], version))
        for count, outbox in enumerate(list(self.outboxes["participant"]), 1):
            if personal and count % YIELD_EVERY == 0:
                # Thousands of players are each drawn their own block: let the other
                # rooms and sockets of this process have their turn between batches.
                await asyncio.sleep(0)
            answers = found.get(outbox.participant or "", [])
            me = personal.get(outbox.participant or "")
            if answers or me:
                fields = hub.stage_fields(view, answers, me)
                outbox.put(protocol.encode(protocol.mine(item_id, answers, version, **fields)))
            else:
                outbox.put(empty)

    async def report_presence(self, process_id: str, force: bool = False) -> None:
        now = time.monotonic()
        if force or self.presence_dirty or now - self.presence_sent_at >= PRESENCE_REFRESH:
            self.presence_dirty = False
            self.presence_sent_at = now
            await self.hub.rooms.store.set_presence(self.room.id, process_id, self.participants)

    async def close(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
        if self._phone_timer is not None:
            self._phone_timer.cancel()
        if self._join_read is not None:
            self._join_read.cancel()
        if self._deadline is not None:
            self._deadline[1].cancel()
        await settle(self._tasks, CLOSE_TIMEOUT, f"closing room {self.room.id}")


class Hub:
    """One per process: the rooms with local sockets and their channels."""

    def __init__(
        self,
        rooms: Rooms,
        *,
        process_id: str,
        max_rate: float = 10.0,
        screens: ScreenRenderer | None = None,
        meter: Meter | None = None,
        ping_interval: float = PING_INTERVAL,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self.rooms = rooms
        #: What this process counts for /metrics, reported to the store now and then.
        self.meter = meter or Meter()
        self.screens = screens
        self.process_id = process_id
        self.max_rate = max_rate
        self.channels: dict[str, RoomChannel] = {}
        self._presence_task: asyncio.Task[None] | None = None
        self.ping_interval = ping_interval
        self.idle_timeout = idle_timeout
        # Polite closes of silent sockets under way (kept so they are not collected).
        self._closing: set[asyncio.Task[None]] = set()

    def screen_fields(self, view: dict[str, Any], audience: Audience) -> dict[str, Any]:
        return self.screens.snapshot_fields(view, audience) if self.screens else {}

    def stage_fields(
        self,
        view: dict[str, Any],
        mine: list[dict[str, Any]],
        me: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A phone's stage for its answers (and what a personal screen shows of her),
        and the screen it was drawn for."""
        if self.screens is None:
            return {}
        return {"stage": protocol.stage_key(view), "html": self.screens.stage(view, mine, me)}

    async def start(self) -> None:
        self._presence_task = asyncio.create_task(self._presence_loop(), name="poll-presence")

    def stats(self) -> dict[str, Any]:
        """Counts for /metrics, so that leak checks and operators can see the hub drain."""
        sockets = {"participant": 0, "projector": 0, "console": 0}
        queued_max = 0
        for channel in self.channels.values():
            for audience, outboxes in channel.outboxes.items():
                sockets[audience] += len(outboxes)
                queued_max = max([queued_max, *(outbox.queued for outbox in outboxes)])
        return {
            "rooms": len(self.channels),
            "sockets": sum(sockets.values()),
            "sockets_by_audience": sockets,
            "queued_max": queued_max,
            "subscriptions": self.rooms.store.local_subscriptions(),
        }

    def figures(self) -> dict[str, Any]:
        """This process's report for /metrics (see poll/meter.py)."""
        phones = {
            room_id: len(channel.outboxes["participant"])
            for room_id, channel in self.channels.items()
            if channel.outboxes["participant"]
        }
        return self.meter.figures(phones)

    async def report_metrics(self) -> None:
        """Hand this process's figures to the store, where /metrics on any process reads them."""
        await self.rooms.store.report_metrics(self.process_id, self.figures())

    async def stop(self) -> None:
        if self._presence_task is not None:
            await settle([self._presence_task], CLOSE_TIMEOUT, "stopping presence reports")
        await settle(list(self._closing), CLOSE_TIMEOUT, "closing silent sockets")
        for room_id, channel in list(self.channels.items()):
            for outboxes in channel.outboxes.values():
                for outbox in outboxes:
                    outbox.stop()
            with contextlib.suppress(StoreError, Exception):
                await self.rooms.store.set_presence(room_id, self.process_id, 0)
            await channel.close()
        self.channels.clear()

    async def join(self, room: Room, outbox: Outbox) -> RoomChannel:
        """Register a socket and queue its first snapshot (and, for a participant, mine)."""
        channel = self.channels.get(room.id)
        if channel is None:
            channel = RoomChannel(self, room)
            self.channels[room.id] = channel
        channel.add(outbox)
        await self.send_current(channel, outbox)
        return channel

    async def send_current(self, channel: RoomChannel, outbox: Outbox) -> None:
        room = channel.room
        if self._must_read(channel, outbox.audience):
            # Phones that join during one read share it; a console or projector reads
            # the room itself, so that it never starts behind the page it came from.
            if outbox.audience == "participant":
                data = await channel.read_for_join()
            else:
                data = await room.load()
            # A broadcast may have built a newer view meanwhile: the newer one is sent.
            built = channel.views.get(outbox.audience)
            if channel.data is None or data.state.version >= channel.data.state.version:
                channel.data = data
                channel.watch_deadline(data)
            if built is None or data.state.version > built["version"]:
                channel.set_view(outbox.audience, room.view(data, outbox.audience))
        outbox.offer_snapshot(channel.fresh_snapshot_text(outbox.audience))
        if outbox.audience == "participant":
            channel.joined(outbox, channel.views["participant"])
        drawn_for = channel.phone_view
        known = channel.data
        if outbox.participant is not None and drawn_for is not None and known is not None:
            question = room.state.current_question
            personal = bool(drawn_for.get("personal"))
            if question is not None or personal:
                mine = await room.mine(outbox.participant) if question is not None else []
                me = await room.me(known, outbox.participant) if personal else None
                # Nothing of hers: the phone shows the snapshot's own stage, drawn for none.
                fields = self.stage_fields(drawn_for, mine, me) if mine or me else {}
                item_id = drawn_for["item"]["id"]
                outbox.put(
                    protocol.encode(protocol.mine(item_id, mine, room.state.version, **fields))
                )

    @staticmethod
    def _must_read(channel: RoomChannel, audience: Audience) -> bool:
        """Whether a joining socket must read the room rather than get the view
        the last broadcast built.

        That view is kept only while its audience has sockets (see `remove`).
        While a change waits for the next broadcast (`dirty`, or a read under
        way), it is older than the room: a phone gets it anyway, with the new
        one a tenth of a second behind (a thousand phones joining in a vote
        burst must not each read the room), but a console or projector reads the
        room now, so that it never starts behind the page it was opened from.
        """
        if audience not in channel.views or channel.data is None:
            return True
        return audience != "participant" and (channel.dirty.is_set() or channel.reading)

    def leave(self, room_id: str, outbox: Outbox) -> None:
        outbox.stop()
        channel = self.channels.get(room_id)
        if channel is not None:
            channel.remove(outbox)

    def poke(self, room_id: str) -> None:
        """A local change: refresh now rather than wait for the store's signal."""
        channel = self.channels.get(room_id)
        if channel is not None:
            channel.dirty.set()

    def _close_if_empty(self, room_id: str) -> None:
        channel = self.channels.get(room_id)
        if channel is None or not channel.empty:
            return
        del self.channels[room_id]
        asyncio.get_running_loop().create_task(self._retire(channel))

    def room_with_phones(self, code: str) -> Room | None:
        """The running room with this code whose phones this process serves, as its
        channel last read it; None when it serves none (then read the store).

        A phone that connects to such a room is sent that channel's view anyway (see
        `_must_read`), so the room it joins need not be read for it either: in a
        join or a reconnect storm that was three reads and a room's state per
        phone. The channel reads the room after every change, so a run that ended
        is known here within a broadcast; the phone is then found through the
        store, as the end is (a new run can take the code only once this one ended).
        """
        digits = normalize_code(code)
        if digits is None:
            return None
        for channel in self.channels.values():
            state = channel.room.state
            if state.code == digits and not state.ended and channel.outboxes["participant"]:
                return channel.room
        return None

    def has_phones(self, room_id: str) -> bool:
        """Whether phones of this room are connected to this process."""
        channel = self.channels.get(room_id)
        return channel is not None and bool(channel.outboxes["participant"])

    def outboxes(self) -> Iterator[Outbox]:
        """Every socket of the process."""
        for channel in list(self.channels.values()):
            for outboxes in channel.outboxes.values():
                yield from list(outboxes)

    def heartbeat(self) -> None:
        """Ping every socket of the process, and cut those silent for `idle_timeout`.

        One sweep for all, not a task with its own timer per socket: each cost
        every phone a task, a coroutine and a timer (memory and CPU per phone,
        docs/performance.md). Clients answer a ping with a pong (protocol.md).
        """
        now = time.monotonic()
        ping = protocol.encode(protocol.ping(round(time.time() * 1000)))
        for outbox in self.outboxes():
            if now - outbox.last_seen > self.idle_timeout:
                outbox.stop()
                shut = outbox.shut(protocol.CLOSE_GOING_AWAY, "no answer to ping", cut=True)
                task = asyncio.get_running_loop().create_task(shut)
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
            else:
                outbox.put(ping)

    async def _retire(self, channel: RoomChannel) -> None:
        with contextlib.suppress(Exception):
            await self.rooms.store.set_presence(channel.room.id, self.process_id, 0)
        await channel.close()

    async def _presence_loop(self) -> None:
        beats = 0
        pinged_at = time.monotonic()
        while True:
            raise_if_cancelling()
            await asyncio.sleep(1.0)
            beats += 1
            watch_sends(self.outboxes(), time.monotonic())
            if time.monotonic() - pinged_at >= self.ping_interval:
                pinged_at = time.monotonic()
                self.heartbeat()
            if beats % METRICS_EVERY == 0:
                try:
                    await self.report_metrics()
                except Exception as exc:
                    log.warning("metrics not reported (%s)", exc)
            for channel in list(self.channels.values()):
                try:
                    await channel.report_presence(self.process_id)
                except Exception as exc:
                    log.warning("room %s: presence not reported (%s)", channel.room.id, exc)
