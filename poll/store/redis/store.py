"""RedisStore: the contract's methods on Redis, for several worker processes and hosts.

Hashes, sets and sorted sets are the truth (their layout: `keys.py`); each
change is one Lua script (`scripts.py`, `lua/`) that also bumps the room's
version and publishes it. Votes share pipelines (`pipeline.py`); changes made
elsewhere reach this process's subscribers through the pub/sub reader
(`listener.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

from poll.answers import Aggregate, Answer, TextEntry
from poll.bounded import Bounded
from poll.store.base import (
    METRICS_TTL,
    PRESENCE_TTL,
    Response,
    ResultsLink,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)
from poll.store.fanout import Signals
from poll.store.redis.client import (
    Client,
    Transactions,
    connect,
    sharded_source,
    split_options,
)
from poll.store.redis.errors import safe_url, store_errors, unreachable
from poll.store.redis.keys import SEP, Layout, RoomKeys, vote_keys
from poll.store.redis.listener import CLOSE_WAIT, VERIFY_EVERY, Listener
from poll.store.redis.pipeline import ScriptPipeline
from poll.store.redis.records import pairs, response, room_state, vote_json
from poll.store.redis.scripts import SCRIPTS
from poll.store.timestamps import from_ms, now_ms, to_ms

#: Attempts at a free join code before giving up.
CODE_ATTEMPTS = 100
#: Responses fetched per round trip while exporting.
EXPORT_CHUNK = 500
#: Join codes a process remembers the running room of (`RedisStore.room_by_code`).
CODES_KEPT = 1024


class RedisStore(Store):
    kind = "redis"

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "poll",
        max_connections: int = 64,
        client_name: str | None = None,
        presence_ttl: float = PRESENCE_TTL,
        clock: Callable[[], float] = time.time,
        verify_every: float = VERIFY_EVERY,
        cluster: bool = False,
    ) -> None:
        self.url = url
        self.prefix = prefix
        #: A Redis Cluster: RedisCluster client, sharded pub/sub (see client.py).
        self.cluster = cluster
        self._max_connections = max_connections
        self._client_name = client_name
        self._presence_ttl = presence_ttl
        self._clock = clock
        self._redis: Client | None = None
        self._transactions: Transactions | None = None
        self._scripts: dict[str, AsyncScript] = {}
        #: Join code → the running room it led to (see `room_by_code`).
        self._code_rooms: Bounded[str, str] = Bounded(CODES_KEPT)
        self._layout = Layout(prefix)
        self._listener = Listener(url, self._layout, verify_every=verify_every)
        self._votes = self._pipeline("votes")
        # What each phone's websocket runs as it joins, hundreds at once: the count
        # of who joined and her own answers, made in the same turn (see live_ws.py).
        self._phone_calls = self._pipeline("joins and reads of answers")

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        """`redis://host:port/db`, optionally `?prefix=NAME` to keep several
        installations (or test runs) apart in one database, and `?cluster=1`
        for a Redis Cluster (reached through any of its nodes)."""
        url, prefix, cluster = split_options(url)
        if prefix is not None:
            options.setdefault("prefix", prefix)
        options.setdefault("cluster", cluster)
        return cls(url, **options)

    def _pipeline(self, calls: str) -> ScriptPipeline:
        """Script calls made while the event loop turns, in one round trip."""
        return ScriptPipeline(
            self.url,
            lambda: self._client,
            lambda script: self._scripts[script].sha,
            self._source,
            lambda: self._transactions if self.cluster else None,
            calls=calls,
        )

    def _source(self, name: str) -> str:
        """A script's text as this store runs it: SPUBLISH on a cluster."""
        return sharded_source(SCRIPTS[name]) if self.cluster else SCRIPTS[name]

    # Lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        if self._redis is not None:
            return
        client = connect(
            self.url,
            cluster=self.cluster,
            max_connections=self._max_connections,
            client_name=self._client_name,
        )
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            await _close(client)
            raise self._unreachable(error) from error
        self._redis = client
        self._transactions = Transactions(
            self.url, client, max_connections=self._max_connections, client_name=self._client_name
        )
        self._scripts = {name: client.register_script(self._source(name)) for name in SCRIPTS}
        # On a cluster a WAITAOF would go to one node, not to those holding the
        # votes: acks there are as durable as each node's appendfsync.
        self._votes.wait_aof = not self.cluster and await waitaof_usable(client)
        self._listener.start(client)

    async def close(self) -> None:
        # Votes already made are sent and answered first: their callers are waiting.
        for pipeline in (self._votes, self._phone_calls):
            await pipeline.drain()
        client, self._redis = self._redis, None
        transactions, self._transactions = self._transactions, None
        # Closing the connections below ends whatever read still holds a stuck one.
        stuck = await self._listener.stop()
        if transactions is not None:
            await transactions.close()
        if client is not None:
            await _close(client)
        if stuck:
            await asyncio.wait(stuck, timeout=CLOSE_WAIT)

    async def health(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "url": safe_url(self.url)}
        if self._redis is None:
            return {**info, "ok": False, "error": "store is not open"}
        started = time.perf_counter()
        try:
            await asyncio.wait_for(self._redis.ping(), timeout=2)
        except Exception as error:
            return {**info, "ok": False, "error": str(self._unreachable(error))}
        return {
            **info,
            "ok": True,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "pubsub_connected": self._listener.connected,
        }

    # Plumbing --------------------------------------------------------------------

    def _unreachable(self, error: BaseException) -> StoreError:
        return unreachable(self.url, error)

    def _errors(self) -> contextlib.AbstractContextManager[None]:
        return store_errors(self.url)

    @property
    def _client(self) -> Client:
        if self._redis is None:
            raise StoreError(f"Redis store {safe_url(self.url)} is not open: call open() first")
        return self._redis

    async def _multi(self, key: str, queue: Callable[[Any], object]) -> list[Any]:
        """Commands on one room's keys (one slot) as one MULTI/EXEC."""
        self._client  # noqa: B018 - raises StoreError when the store is not open
        assert self._transactions is not None
        with self._errors():
            return await self._transactions.run(key, queue)

    async def _run(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        client = self._client
        with self._errors():
            return await self._scripts[script](keys=keys, args=args, client=client)

    def _keys(self, room_id: str) -> RoomKeys:
        return self._layout.room(room_id)

    # Rooms -----------------------------------------------------------------------

    async def create_room(
        self,
        *,
        session_id: str,
        session_spec: Mapping[str, Any],
        question_ids: list[str],
        new_code: Callable[[], str],
    ) -> RoomState:
        room_id = uuid.uuid4().hex
        code = await self._claim_code(room_id, new_code)
        keys = self._keys(room_id)
        created = now_ms()
        client = self._client
        try:

            def queue(pipe: Any) -> None:
                pipe.hset(
                    keys.room,
                    mapping={
                        "id": room_id,
                        "code": code,
                        "session_id": session_id,
                        "created_at": created,
                        "current": 0,
                        "version": 0,
                        "seq": 0,
                        "qorder": json.dumps(question_ids),
                    },
                )
                pipe.set(keys.spec, json.dumps(session_spec))
                if question_ids:
                    pipe.hset(keys.status, mapping=dict.fromkeys(question_ids, "pending"))

            await self._multi(keys.room, queue)
            with self._errors():
                # A counter, not the clock, orders the index: rooms made in the
                # same millisecond still list newest first.
                order = await client.incr(self._layout.index_seq)
                await client.zadd(self._layout.index, {room_id: order})
        except BaseException:
            with contextlib.suppress(StoreError):
                await self._run("swap_code", [self._layout.code(code)], [room_id, ""])
            raise
        return await self.room(room_id)

    async def _claim_code(self, room_id: str, new_code: Callable[[], str]) -> str:
        client = self._client
        for _ in range(CODE_ATTEMPTS):
            code = new_code()
            key = self._layout.code(code)
            with self._errors():
                if await client.set(key, room_id, nx=True):
                    return code
                holder = await client.get(key)
            # A claim left by a process that died between ending a room and
            # releasing its code must not block the code for ever.
            if (
                holder is not None
                and await self._holder_is_stale(str(holder), code)
                and await self._run("swap_code", [key], [holder, room_id])
            ):
                return code
        raise StoreError(f"found no free join code in {CODE_ATTEMPTS} attempts: end some rooms")

    async def _holder_is_stale(self, holder: str, code: str) -> bool:
        with self._errors():
            ended_at, holder_code = await self._client.hmget(
                self._keys(holder).room, ["ended_at", "code"]
            )
        if holder_code is None:
            # No room yet: its creator claimed the code a moment ago and is still
            # writing the room (on a cluster, to another node). Taking the code
            # now would give two rooms one code; a creator that fails releases it.
            return False
        return ended_at is not None or holder_code != code

    async def room(self, room_id: str) -> RoomState:
        keys = self._keys(room_id)
        meta, *rest = await self._multi(keys.room, lambda pipe: self._read_state(pipe, keys))
        if not meta:
            raise RoomNotFound(room_id)
        return room_state(meta, *rest)

    #: Replies `_read_state` queues per room.
    STATE_READS = 6

    @staticmethod
    def _read_state(pipe: Any, keys: RoomKeys) -> None:
        """Queue the reads of one room's state (STATE_READS replies, for `room_state`)."""
        pipe.hgetall(keys.room)
        pipe.hgetall(keys.status)
        pipe.smembers(keys.shown)
        pipe.smembers(keys.unshown)
        pipe.hgetall(keys.opened)
        pipe.hgetall(keys.deadlines)

    async def room_by_code(self, code: str) -> RoomState | None:
        # The room the code led to last time, read and checked as a claim's room is
        # (`_claimed`): one round trip instead of two for each phone's page. A room
        # that moved to another code, ended or is gone fails the check, and the
        # claim is read again.
        known = self._code_rooms.get(code)
        if known is not None:
            try:
                state = await self.room(known)
            except RoomNotFound:
                state = None
            if state is not None and state.code == code and not state.ended:
                return state
            del self._code_rooms[code]
        state = await self._claimed(self._layout.code(code), code, ended=False)
        if state is not None:
            self._code_rooms[code] = state.id
        return state

    async def ended_room_by_code(self, code: str) -> RoomState | None:
        return await self._claimed(self._layout.ended_code(code), code, ended=True)

    async def _claimed(self, claim: str, code: str, *, ended: bool) -> RoomState | None:
        """The room a code claim points at, if it still has that code and that state
        (a stale claim, left by a room that moved on or was purged, counts as none)."""
        with self._errors():
            room_id = await self._client.get(claim)
        if room_id is None:
            return None
        try:
            state = await self.room(str(room_id))
        except RoomNotFound:
            return None
        return state if state.code == code and state.ended == ended else None

    async def rooms(self) -> list[RoomState]:
        client = self._client
        with self._errors():
            ids = [str(room_id) for room_id in await client.zrevrange(self._layout.index, 0, -1)]
            async with client.pipeline(transaction=False) as pipe:
                for room_id in ids:
                    self._read_state(pipe, self._keys(room_id))
                replies = await pipe.execute()
        states = []
        step = self.STATE_READS
        for i in range(0, len(replies), step):
            meta, *rest = replies[i : i + step]
            if meta:  # purged meanwhile
                states.append(room_state(meta, *rest))
        return states

    async def session_spec(self, room_id: str) -> dict[str, Any]:
        with self._errors():
            raw = await self._client.get(self._keys(room_id).spec)
        if raw is None:
            raise RoomNotFound(room_id)
        spec: dict[str, Any] = json.loads(raw)
        return spec

    async def update(self, room_id: str, patch: RoomPatch) -> RoomState:
        keys = self._keys(room_id)
        data = {
            "set_current": 0 if patch.current is None else 1,
            "current": patch.current or 0,
            "current_question": patch.current_question or "",
            "statuses": dict(patch.statuses),
            "shown": {qid: int(shown) for qid, shown in patch.shown.items()},
            "timers": {qid: float(seconds) for qid, seconds in patch.timers.items()},
            "join_screen": patch.join_screen or "",
            "end": int(patch.end),
        }
        status, detail = await self._run(
            "update",
            [keys.room, keys.status, keys.shown, keys.opened, keys.deadlines, keys.unshown],
            [json.dumps(data), now_ms(), keys.channel],
        )
        if status == "not_found":
            raise RoomNotFound(room_id)
        if status == "unknown":
            raise StoreError(f"room {room_id!r} has no question {detail!r}", retry=False)
        state = await self.room(room_id)
        if state.ended:
            # Remembered first, so that a phone asking between the two steps is told
            # the run ended rather than that there is no such code.
            with self._errors():
                await self._client.set(self._layout.ended_code(state.code), room_id)
            await self._run("swap_code", [self._layout.code(state.code)], [room_id, ""])
        return state

    # Votes and results ---------------------------------------------------------------

    async def vote(self, room_id: str, vote: Vote) -> VoteOutcome:
        keys, channel = vote_keys(self.prefix, room_id)
        status, version = await self._votes.run("vote", keys, [vote_json(vote, now_ms()), channel])
        if status == "not_found":
            raise RoomNotFound(room_id)
        return VoteOutcome(status, int(version))

    async def reset_question(self, room_id: str, question_id: str) -> RoomState:
        k = self._keys(room_id)
        version = await self._run(
            "reset",
            [k.room, k.resp, k.mine, k.counts, k.respondents, k.texts, k.hidden, k.marks],
            [question_id, k.channel],
        )
        if version == -1:
            raise RoomNotFound(room_id)
        return await self.room(room_id)

    async def set_hidden(self, room_id: str, question_id: str, ref: str, hidden: bool) -> bool:
        k = self._keys(room_id)
        done = await self._run(
            "set_hidden", [k.room, k.resp, k.hidden], [ref, question_id, int(hidden), k.channel]
        )
        if done == -1:
            raise RoomNotFound(room_id)
        return bool(done)

    async def set_mark(self, room_id: str, question_id: str, key: str, value: str | None) -> None:
        k = self._keys(room_id)
        done = await self._run(
            "set_mark",
            [k.room, k.marks],
            [question_id, key, value or "", 0 if value is None else 1, k.channel],
        )
        if done == -1:
            raise RoomNotFound(room_id)

    async def claim_name(self, room_id: str, participant: str, name: str, key: str) -> str | None:
        k = self._keys(room_id)
        reply = await self._run(
            "claim_name", [k.room, k.names, k.namekeys], [participant, name, key]
        )
        if reply[0] == "not_found":
            raise RoomNotFound(room_id)
        return str(reply[1]) if reply[0] == "ok" else None

    async def names(self, room_id: str) -> dict[str, str]:
        k = self._keys(room_id)
        exists, names = await self._multi(
            k.room, lambda pipe: (pipe.exists(k.room), pipe.hgetall(k.names))
        )
        if not exists:
            raise RoomNotFound(room_id)
        return {str(p): str(n) for p, n in sorted(names.items(), key=lambda item: item[1])}

    @staticmethod
    def _aggregate_keys(k: RoomKeys) -> list[str]:
        return [k.room, k.respondents, k.counts, k.texts, k.resp, k.hidden, k.marks]

    async def aggregates(self, room_id: str) -> dict[str, Aggregate]:
        reply = await self._run("aggregates", self._aggregate_keys(self._keys(room_id)), [])
        if not reply:
            raise RoomNotFound(room_id)
        return self._aggregates_from(reply)

    async def room_with_aggregates(self, room_id: str) -> tuple[RoomState, dict[str, Aggregate]]:
        # One MULTI: the state's reads and the aggregates script run with nothing
        # in between, so no vote can land after the version was read.
        keys = self._keys(room_id)
        script = self._scripts["aggregates"]
        aggregate_keys = self._aggregate_keys(keys)

        def queue(pipe: Any) -> None:
            self._read_state(pipe, keys)
            pipe.evalsha(script.sha, len(aggregate_keys), *aggregate_keys)

        try:
            *state, reply = await self._multi(keys.room, queue)
        except StoreError as error:
            if not isinstance(error.__cause__, NoScriptError):
                raise
            # Redis restarted or flushed its scripts: load it (on every node) and ask again.
            with self._errors():
                await self._client.script_load(script.script)
            *state, reply = await self._multi(keys.room, queue)
        if not state[0] or not reply:
            raise RoomNotFound(room_id)
        return room_state(*state), self._aggregates_from(reply)

    @staticmethod
    def _aggregates_from(reply: list[Any]) -> dict[str, Aggregate]:
        """The aggregates script's reply as the contract's values."""
        order, respondents, counts, refs, records, hidden, mark_fields = reply
        totals = {qid: int(n) for qid, n in pairs(respondents) if int(n) > 0}
        marks: dict[str, dict[str, str]] = {}
        for field, value in sorted(pairs(mark_fields)):
            qid, _, key = field.partition(SEP)
            marks.setdefault(qid, {})[key] = value
        by_question: dict[str, dict[str, int]] = {qid: {} for qid in totals}
        for field, count in sorted(pairs(counts)):
            qid, _, key = field.partition(SEP)
            if qid in by_question:
                by_question[qid][key] = int(count)
        hidden_refs = set(hidden)
        texts: dict[str, list[TextEntry]] = {qid: [] for qid in totals}
        for ref, raw in zip(refs, records, strict=True):
            if raw is None:
                continue
            record = json.loads(raw)
            if record["q"] in texts and record["t"] is not None:
                texts[record["q"]].append(TextEntry(ref, record["t"], ref in hidden_refs))
        return {
            qid: Aggregate(
                respondents=totals.get(qid, 0),
                counts=by_question.get(qid, {}),
                texts=tuple(texts.get(qid, ())),
                marks=marks.get(qid, {}),
            )
            for qid in json.loads(order)
            if qid in totals or qid in marks
        }

    async def answers_of(self, room_id: str, participant: str) -> dict[str, list[Answer]]:
        k = self._keys(room_id)
        reply = await self._phone_calls.run("answers_of", [k.room, k.mine, k.resp], [participant])
        if not reply:
            raise RoomNotFound(room_id)
        result: dict[str, list[Answer]] = {}
        for ref, raw in pairs(reply[1]):
            record = json.loads(raw)
            answer = Answer(tuple(record["k"]), record["t"], ref=str(ref))
            result.setdefault(record["q"], []).append(answer)
        return result

    async def responses(self, room_id: str) -> AsyncIterator[Response]:
        k = self._keys(room_id)
        client = self._client
        with self._errors():
            last = await client.hget(k.room, "seq")
        if last is None:
            raise RoomNotFound(room_id)
        for start in range(1, int(last) + 1, EXPORT_CHUNK):
            refs = [str(ref) for ref in range(start, min(start + EXPORT_CHUNK, int(last) + 1))]
            records, hidden = await self._multi(k.room, functools.partial(self._chunk, k, refs))
            for ref, raw, is_hidden in zip(refs, records, hidden, strict=True):
                if raw is not None:
                    yield response(room_id, ref, json.loads(raw), bool(is_hidden))

    async def join(self, room_id: str, participant: str) -> bool:
        k = self._keys(room_id)
        done = await self._phone_calls.run("join", [k.room, k.joined], [participant, k.channel])
        if done == -1:
            raise RoomNotFound(room_id)
        return bool(done)

    async def joined(self, room_id: str) -> int:
        with self._errors():
            return int(await self._client.scard(self._keys(room_id).joined))

    @staticmethod
    def _chunk(k: RoomKeys, refs: list[str], pipe: Any) -> None:
        """Queue the reads of one chunk of responses: records and whether each is hidden."""
        pipe.hmget(k.resp, refs)
        pipe.smismember(k.hidden, refs)

    # Live ----------------------------------------------------------------------------

    def subscribe(self, room_id: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscription(room_id)

    def local_subscriptions(self) -> int:
        return self._listener.fanout.count()

    @asynccontextmanager
    async def _subscription(self, room_id: str) -> AsyncIterator[Signals]:
        self._client  # noqa: B018 - raises StoreError when the store is not open
        async with self._listener.subscription(room_id) as signals:
            yield signals

    async def set_presence(self, room_id: str, process_id: str, count: int) -> None:
        k = self._keys(room_id)
        done = await self._run(
            "presence",
            [k.room, k.presence],
            [
                process_id,
                count,
                int(self._clock() * 1000),
                int(self._presence_ttl * 1000),
                k.channel,
            ],
        )
        if done == -1:
            raise RoomNotFound(room_id)

    async def presence(self, room_id: str) -> int:
        with self._errors():
            entries = await self._client.hgetall(self._keys(room_id).presence)
        oldest = (self._clock() - self._presence_ttl) * 1000
        total = 0
        for value in entries.values():
            count, _, seen = str(value).partition(":")
            if int(seen) >= oldest:
                total += int(count)
        return total

    # Operators' figures ------------------------------------------------------------

    async def report_metrics(self, process_id: str, figures: Mapping[str, Any]) -> None:
        record = json.dumps({"at": int(self._clock() * 1000), "figures": dict(figures)})
        with self._errors():
            await self._client.hset(self._layout.metrics, process_id, record)

    async def metrics_reports(self) -> dict[str, dict[str, Any]]:
        with self._errors():
            entries = await self._client.hgetall(self._layout.metrics)
        oldest = (self._clock() - METRICS_TTL) * 1000
        live: dict[str, dict[str, Any]] = {}
        stale = []
        for process_id, raw in entries.items():
            record = json.loads(raw)
            if record["at"] >= oldest:
                live[str(process_id)] = record["figures"]
            else:
                stale.append(process_id)
        if stale:  # processes that ended or died: their figures no longer count
            with self._errors():
                await self._client.hdel(self._layout.metrics, *stale)
        return live

    # Facilitator sign-ins ------------------------------------------------------------

    async def console_epoch(self) -> int:
        with self._errors():
            value = await self._client.get(self._layout.console_epoch)
        return int(value) if value is not None else 0

    async def end_console_sessions(self) -> int:
        with self._errors():
            return int(await self._client.incr(self._layout.console_epoch))

    # Housekeeping --------------------------------------------------------------------

    # Results links ---------------------------------------------------------------

    async def set_results_link(self, room_id: str, link: ResultsLink | None) -> None:
        k = self._keys(room_id)
        if link is not None:
            # The index first: a link the room's hash names can always be found.
            with self._errors():
                await self._client.set(self._layout.results_link(link.digest), room_id)
        args: list[str | int] = (
            [
                link.digest,
                link.nonce,
                to_ms(link.created_at),
                "" if link.expires_at is None else to_ms(link.expires_at),
                int(link.in_room),
                1,
            ]
            if link is not None
            else ["", "", 0, "", 0, 0]
        )
        old = await self._run("set_link", [k.room, k.link], [*args, k.channel])
        if old == -1:
            if link is not None:
                with self._errors():
                    await self._client.delete(self._layout.results_link(link.digest))
            raise RoomNotFound(room_id)
        if old and (link is None or str(old) != link.digest):
            with self._errors():
                await self._client.delete(self._layout.results_link(str(old)))

    async def results_link(self, room_id: str) -> ResultsLink | None:
        k = self._keys(room_id)
        with self._errors():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.exists(k.room)
                pipe.hgetall(k.link)
                exists, fields = await pipe.execute()
        if not exists:
            raise RoomNotFound(room_id)
        if not fields:
            return None
        expires = str(fields.get("expires") or "")
        return ResultsLink(
            digest=str(fields["digest"]),
            nonce=str(fields["nonce"]),
            created_at=from_ms(str(fields["created"])),
            expires_at=from_ms(expires) if expires else None,
            in_room=str(fields.get("in_room")) == "1",
        )

    async def room_of_results_link(self, digest: str) -> str | None:
        with self._errors():
            room_id = await self._client.get(self._layout.results_link(digest))
            if room_id is None:
                return None
            # The room's own hash decides: an index entry outliving its link finds nothing.
            current = await self._client.hget(self._keys(str(room_id)).link, "digest")
        return str(room_id) if current is not None and str(current) == digest else None

    async def purge(self, ended_before: datetime) -> list[str]:
        cutoff = to_ms(ended_before)
        client = self._client
        with self._errors():
            ids = [str(room_id) for room_id in await client.zrange(self._layout.index, 0, -1)]
            async with client.pipeline(transaction=False) as pipe:
                for room_id in ids:
                    pipe.hmget(self._keys(room_id).room, ["ended_at", "code"])
                replies = await pipe.execute()
        purged = []
        for room_id, (ended_at, code) in zip(ids, replies, strict=True):
            if ended_at is None or int(ended_at) >= cutoff:
                continue
            with self._errors():
                digest = await client.hget(self._keys(room_id).link, "digest")
                if digest is not None:
                    await client.delete(self._layout.results_link(str(digest)))
                await client.delete(*self._keys(room_id).all())
                await client.zrem(self._layout.index, room_id)
            if code is not None:
                await self._run("swap_code", [self._layout.code(code)], [room_id, ""])
                await self._run("swap_code", [self._layout.ended_code(code)], [room_id, ""])
            purged.append(room_id)
        return purged


async def _close(client: Client) -> None:
    if isinstance(client, Redis):
        await client.aclose(close_connection_pool=True)
    else:
        await client.aclose()


async def waitaof_usable(client: Client) -> bool:
    """Whether votes can wait for Redis to fsync them: a server with WAITAOF (Redis
    7.2 and later, or Valkey) that keeps an append-only file. False when INFO is
    not allowed (some hosted Redis): acks then are as durable as appendfsync."""
    try:
        server = await client.info("server")
        persistence = await client.info("persistence")
    except (RedisError, OSError):
        return False
    return has_waitaof(str(server.get("redis_version", ""))) and bool(
        int(persistence.get("aof_enabled", 0) or 0)
    )


def has_waitaof(version: str) -> bool:
    """WAITAOF came with Redis 7.2."""
    parts = []
    for part in version.split(".")[:2]:
        if not part.isdigit():
            return False
        parts.append(int(part))
    return len(parts) == 2 and tuple(parts) >= (7, 2)
