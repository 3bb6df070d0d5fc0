"""The Redis store: several worker processes and hosts share one Redis.

Hashes, sets and sorted sets are the truth; pub/sub only says "room R changed,
version V". Every key of a room carries the hash tag `{R}`, so every room
script touches one hash slot and the same code runs on Redis Cluster. The only
global keys are the room index and the join-code claims, and no script touches
them together with room keys.

Keys (prefix P, default "poll"; "\\x1f" separates parts of a hash field):

    P:rooms                     zset   room id → creation order (global index)
    P:rooms:seq                 string counter giving that order
    P:code:CODE                 string room id holding the join code (SET NX)
    P:room:{R}                  hash   id, code, session_id, created_at, ended_at,
                                       current, current_question, version, seq, qorder
    P:room:{R}:spec             string the session copy (JSON)
    P:room:{R}:status           hash   question id → pending|open|closed
    P:room:{R}:shown            set    questions whose results are shown
    P:room:{R}:subs             set    participant\\x1fsubmission id, for idempotency
    P:room:{R}:resp             hash   ref → {"q","p","k","t","at"} (JSON)
    P:room:{R}:mine             hash   question\\x1fparticipant → [ref, ...]
    P:room:{R}:counts           hash   question\\x1fkey → count
    P:room:{R}:respondents      hash   question → participants with an answer
    P:room:{R}:texts            zset   refs of responses with text, in answer order
    P:room:{R}:hidden           set    refs hidden by moderation
    P:room:{R}:presence         hash   process id → "count:ms"
    channel P:changed:{R}       the new version, after every change
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from poll.answers import Aggregate, Answer, TextEntry
from poll.cancel import raise_if_cancelling, settle
from poll.store._shared import Signals, from_ms, now_ms, to_ms
from poll.store.base import (
    PRESENCE_TTL,
    QuestionStatus,
    Response,
    RoomNotFound,
    RoomPatch,
    RoomState,
    Store,
    StoreError,
    Subscription,
    Vote,
    VoteOutcome,
)

log = logging.getLogger(__name__)

SEP = "\x1f"
#: Attempts at a free join code before giving up.
CODE_ATTEMPTS = 100
#: Responses fetched per round trip while exporting.
EXPORT_CHUNK = 500
#: Votes sent in one pipeline at most.
PIPELINE_MAX = 500
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

# Lua ----------------------------------------------------------------------------

# KEYS: room status subs resp mine counts respondents texts hidden
# ARGV: vote (JSON: q question, p participant, k keys, t text, at ms, s submission,
#       m mode, n max_entries, a allow_change), channel. The vote JSON is stored as
#       the response: one argument to send keeps redis-py's packing cost low.
VOTE = r"""
local meta = redis.call('HMGET', KEYS[1], 'version', 'ended_at', 'current_question')
if not meta[1] then return {'not_found', 0} end
local version = tonumber(meta[1])
if meta[2] then return {'room_ended', version} end
local v = cjson.decode(ARGV[1])
local qid = v['q']
if meta[3] ~= qid then return {'not_current', version} end
if redis.call('HGET', KEYS[2], qid) ~= 'open' then return {'closed', version} end
local sub = v['p'] .. '\31' .. v['s']
if redis.call('SISMEMBER', KEYS[3], sub) == 1 then return {'duplicate', version} end
local mine = qid .. '\31' .. v['p']
local old = redis.call('HGET', KEYS[5], mine)
local refs = {}
if old then refs = cjson.decode(old) end
local had = #refs > 0
if v['m'] == 'replace' then
  if had then
    if v['a'] ~= 1 then return {'no_change', version} end
    for _, ref in ipairs(refs) do
      local raw = redis.call('HGET', KEYS[4], ref)
      if raw then
        for _, key in ipairs(cjson.decode(raw)['k']) do
          local field = qid .. '\31' .. key
          if redis.call('HINCRBY', KEYS[6], field, -1) <= 0 then
            redis.call('HDEL', KEYS[6], field)
          end
        end
        redis.call('HDEL', KEYS[4], ref)
      end
      redis.call('ZREM', KEYS[8], ref)
      redis.call('SREM', KEYS[9], ref)
    end
    refs = {}
  end
elseif #refs >= v['n'] then
  return {'too_many', version}
end
local ref = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[4], ref, ARGV[1])
for _, key in ipairs(v['k']) do
  redis.call('HINCRBY', KEYS[6], qid .. '\31' .. key, 1)
end
if v['t'] ~= cjson.null then redis.call('ZADD', KEYS[8], ref, ref) end
if not had then redis.call('HINCRBY', KEYS[7], qid, 1) end
refs[#refs + 1] = ref
redis.call('HSET', KEYS[5], mine, cjson.encode(refs))
redis.call('SADD', KEYS[3], sub)
version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[2], version)
return {'saved', version}
"""

# KEYS: room status shown; ARGV: patch (JSON) now_ms channel
UPDATE = r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', ''} end
local p = cjson.decode(ARGV[1])
for qid, _ in pairs(p['statuses']) do
  if redis.call('HEXISTS', KEYS[2], qid) == 0 then return {'unknown', qid} end
end
for qid, _ in pairs(p['shown']) do
  if redis.call('HEXISTS', KEYS[2], qid) == 0 then return {'unknown', qid} end
end
if p['set_current'] == 1 then
  redis.call('HSET', KEYS[1], 'current', p['current'])
  if p['current_question'] == '' then
    redis.call('HDEL', KEYS[1], 'current_question')
  else
    redis.call('HSET', KEYS[1], 'current_question', p['current_question'])
  end
end
for qid, status in pairs(p['statuses']) do redis.call('HSET', KEYS[2], qid, status) end
for qid, shown in pairs(p['shown']) do
  if shown == 1 then redis.call('SADD', KEYS[3], qid) else redis.call('SREM', KEYS[3], qid) end
end
if p['end'] == 1 and redis.call('HEXISTS', KEYS[1], 'ended_at') == 0 then
  redis.call('HSET', KEYS[1], 'ended_at', ARGV[2])
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[3], version)
return {'ok', tostring(version)}
"""

# KEYS: room resp mine counts respondents texts hidden; ARGV: question channel
RESET = r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local prefix = ARGV[1] .. '\31'
local n = #prefix
local mine = redis.call('HGETALL', KEYS[3])
for i = 1, #mine, 2 do
  if string.sub(mine[i], 1, n) == prefix then
    for _, ref in ipairs(cjson.decode(mine[i + 1])) do
      redis.call('HDEL', KEYS[2], ref)
      redis.call('ZREM', KEYS[6], ref)
      redis.call('SREM', KEYS[7], ref)
    end
    redis.call('HDEL', KEYS[3], mine[i])
  end
end
for _, field in ipairs(redis.call('HKEYS', KEYS[4])) do
  if string.sub(field, 1, n) == prefix then redis.call('HDEL', KEYS[4], field) end
end
redis.call('HDEL', KEYS[5], ARGV[1])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[2], version)
return version
"""

# KEYS: room resp hidden; ARGV: ref question hidden channel
SET_HIDDEN = r"""
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw or cjson.decode(raw)['q'] ~= ARGV[2] then return 0 end
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[4], version)
return 1
"""

# KEYS: room respondents counts texts resp hidden; read-only, atomic snapshot
AGGREGATES = r"""
local order = redis.call('HGET', KEYS[1], 'qorder')
if not order then return false end
local refs = redis.call('ZRANGE', KEYS[4], 0, -1)
local records = {}
for i, ref in ipairs(refs) do records[i] = redis.call('HGET', KEYS[5], ref) end
return {order, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]), refs, records,
        redis.call('SMEMBERS', KEYS[6])}
"""

# KEYS: room mine resp; ARGV: participant
ANSWERS_OF = r"""
local order = redis.call('HGET', KEYS[1], 'qorder')
if not order then return false end
local out = {}
for _, qid in ipairs(cjson.decode(order)) do
  local refs = redis.call('HGET', KEYS[2], qid .. '\31' .. ARGV[1])
  if refs then
    for _, ref in ipairs(cjson.decode(refs)) do
      local record = redis.call('HGET', KEYS[3], ref)
      if record then out[#out + 1] = record end
    end
  end
end
return {'ok', out}
"""

# KEYS: room presence; ARGV: process count now_ms ttl_ms channel
PRESENCE = r"""
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return -1 end
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local function total()
  local sum = 0
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local count, seen = string.match(all[i + 1], '^(%d+):(%d+)$')
    if tonumber(seen) >= now - ttl then
      sum = sum + tonumber(count)
    else
      redis.call('HDEL', KEYS[2], all[i])
    end
  end
  return sum
end
local before = total()
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
if total() ~= before then redis.call('PUBLISH', ARGV[5], version) end
return 1
"""

# A code claim is released or taken over only by who holds it (compare and set).
# KEYS: code; ARGV: expected holder, new holder ('' deletes)
SWAP_CODE = r"""
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
"""


@dataclass(frozen=True)
class _QueuedVote:
    keys: Sequence[str | bytes]
    args: Sequence[Any]
    future: asyncio.Future[Any]


async def _evalsha_all(client: Redis, sha: str, batch: list[_QueuedVote]) -> list[Any]:
    async with client.pipeline(transaction=False) as pipe:
        for queued in batch:
            pipe.evalsha(sha, len(queued.keys), *queued.keys, *queued.args)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    return replies


@dataclass(frozen=True)
class _Keys:
    """Every key of one room; all share the hash slot of `{room_id}`."""

    room: str
    spec: str
    status: str
    shown: str
    subs: str
    resp: str
    mine: str
    counts: str
    respondents: str
    texts: str
    hidden: str
    presence: str
    channel: str

    @classmethod
    def of(cls, prefix: str, room_id: str) -> _Keys:
        base = f"{prefix}:room:{{{room_id}}}"
        return cls(
            room=base,
            spec=f"{base}:spec",
            status=f"{base}:status",
            shown=f"{base}:shown",
            subs=f"{base}:subs",
            resp=f"{base}:resp",
            mine=f"{base}:mine",
            counts=f"{base}:counts",
            respondents=f"{base}:respondents",
            texts=f"{base}:texts",
            hidden=f"{base}:hidden",
            presence=f"{base}:presence",
            channel=f"{prefix}:changed:{{{room_id}}}",
        )

    def all(self) -> list[str]:
        return [
            self.room,
            self.spec,
            self.status,
            self.shown,
            self.subs,
            self.resp,
            self.mine,
            self.counts,
            self.respondents,
            self.texts,
            self.hidden,
            self.presence,
        ]


def _plain_reason(error: BaseException) -> str:
    """ "connection refused" rather than redis-py's "Error 111 connecting to …" text."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return f"unknown host ({seen})"
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    if "Connect call failed" in text or "Connection refused" in text:
        return "connection refused"
    return text or type(error).__name__


def _safe_url(url: str) -> str:
    """The URL without its password, for messages and health reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def _vote_json(vote: Vote, answered_at: int) -> bytes:
    return json.dumps(
        {
            "q": vote.question_id,
            "p": vote.participant,
            "k": vote.answer.keys,
            "t": vote.answer.text,
            "at": answered_at,
            "s": vote.submission_id,
            "m": vote.mode,
            "n": vote.max_entries,
            "a": int(vote.allow_change),
        },
        separators=(",", ":"),
    ).encode()


@functools.lru_cache(maxsize=4096)
def _vote_keys(prefix: str, room_id: str) -> tuple[tuple[bytes, ...], bytes]:
    """The vote script's keys as bytes, made once per room: redis-py sends bytes as they are."""
    k = _Keys.of(prefix, room_id)
    names = (k.room, k.status, k.subs, k.resp, k.mine, k.counts, k.respondents, k.texts, k.hidden)
    return tuple(name.encode() for name in names), k.channel.encode()


def _transport_closed(error: BaseException) -> bool:
    """uvloop's way of saying the connection is gone, which redis-py passes on as is.

    Writing to a socket that Redis has just closed (CLIENT KILL, a restart) can
    raise `RuntimeError: unable to perform operation on <TCPTransport closed=True
    …>; the handler is closed` from inside redis-py's reconnection.
    """
    return isinstance(error, RuntimeError) and "handler is closed" in str(error)


def _pairs(flat: Sequence[str]) -> Iterator[tuple[str, str]]:
    return zip(flat[::2], flat[1::2], strict=True)


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
    ) -> None:
        self.url = url
        self._verify_every = verify_every
        self.prefix = prefix
        self._max_connections = max_connections
        self._client_name = client_name
        self._presence_ttl = presence_ttl
        self._clock = clock
        self._redis: Redis | None = None
        self._scripts: dict[str, AsyncScript] = {}
        # Pub/sub: one connection per store, read by one task only.
        self._local: dict[str, set[Signals]] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._pubsub: PubSub | None = None
        self._channels_changed = asyncio.Event()  # the reader has channels to (un)subscribe
        self._reader: asyncio.Task[None] | None = None
        self._verifier: asyncio.Task[None] | None = None
        # The newest version each local room was signalled with.
        self._signalled: dict[str, int] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._pubsub_was_up = False
        self._reader_beat = time.monotonic()  # when the reader last came round its loop
        # Votes waiting to go out in the next pipeline, and pipelines in flight.
        self._queued_votes: list[_QueuedVote] = []
        self._sending: set[asyncio.Task[None]] = set()
        self._control = f"{prefix}:control"

    @classmethod
    def from_url(cls, url: str, **options: Any) -> RedisStore:
        """`redis://host:port/db`, optionally `?prefix=NAME` to keep several
        installations (or test runs) apart in one database."""
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        prefixes = [value for key, value in query if key == "prefix"]
        if prefixes:
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", prefixes[-1]):
                raise StoreError(
                    f"bad prefix {prefixes[-1]!r} in {url!r}: use letters, digits, '.', '_', '-'",
                    retry=False,
                )
            options.setdefault("prefix", prefixes[-1])
            rest = urlencode([(key, value) for key, value in query if key != "prefix"])
            url = urlunsplit(parts._replace(query=rest))
        return cls(url, **options)

    # Lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        if self._redis is not None:
            return
        pool = BlockingConnectionPool.from_url(
            self.url,
            # A burst of votes waits for a free connection instead of failing
            # with "Too many connections" (what the plain pool does at its limit).
            max_connections=self._max_connections,
            timeout=10,
            decode_responses=True,
            socket_connect_timeout=2,
            socket_keepalive=True,
            health_check_interval=30,
            # Names this process's connections in CLIENT LIST (operators, fault tests).
            client_name=self._client_name,
            # Few, quick retries: open() must fail fast when Redis is down, and a
            # retried vote is safe because its submission id makes it idempotent.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
        )
        client = Redis(connection_pool=pool)
        try:
            await client.ping()
        except (RedisError, OSError) as error:
            await client.aclose(close_connection_pool=True)
            raise self._unreachable(error) from error
        self._redis = client
        self._scripts = {
            name: client.register_script(text)
            for name, text in {
                "vote": VOTE,
                "update": UPDATE,
                "reset": RESET,
                "set_hidden": SET_HIDDEN,
                "aggregates": AGGREGATES,
                "answers_of": ANSWERS_OF,
                "presence": PRESENCE,
                "swap_code": SWAP_CODE,
            }.items()
        }
        self._start_reader()
        self._verifier = asyncio.create_task(self._verify_forever(), name="poll redis verify")

    async def close(self) -> None:
        # Votes already made are sent and answered first: their callers are waiting.
        if self._queued_votes:
            self._send_queued_votes()
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        client, reader, verifier = self._redis, self._reader, self._verifier
        self._redis = self._reader = self._verifier = None
        tasks = [task for task in (reader, verifier, *self._background) if task is not None]
        # Closing the connections below ends whatever read still holds a stuck one.
        stuck = await settle(tasks, CLOSE_WAIT, "closing the Redis store")
        if client is not None:
            await client.aclose(close_connection_pool=True)
        if stuck:
            await asyncio.wait(stuck, timeout=CLOSE_WAIT)

    async def health(self) -> dict[str, Any]:
        info: dict[str, Any] = {"kind": self.kind, "url": _safe_url(self.url)}
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
            "pubsub_connected": self._pubsub is not None,
        }

    # Plumbing --------------------------------------------------------------------

    def _unreachable(self, error: BaseException) -> StoreError:
        reason = _plain_reason(error)
        return StoreError(
            f"cannot reach Redis at {_safe_url(self.url)}: {reason}"
            " (is the server running, and is the URL right?)"
        )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            raise self._unreachable(error) from error
        except RuntimeError as error:
            if not _transport_closed(error):
                raise
            raise self._unreachable(error) from error
        except RedisError as error:
            raise StoreError(f"Redis at {_safe_url(self.url)} refused: {error}") from error

    @property
    def _client(self) -> Redis:
        if self._redis is None:
            raise StoreError(f"Redis store {_safe_url(self.url)} is not open: call open() first")
        return self._redis

    async def _run(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        client = self._client
        with self._errors():
            return await self._scripts[script](keys=keys, args=args, client=client)

    def _keys(self, room_id: str) -> _Keys:
        return _Keys.of(self.prefix, room_id)

    def _code_key(self, code: str) -> str:
        return f"{self.prefix}:code:{code}"

    @property
    def _index(self) -> str:
        return f"{self.prefix}:rooms"

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
            with self._errors():
                async with client.pipeline(transaction=True) as pipe:
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
                    await pipe.execute()
                # A counter, not the clock, orders the index: rooms made in the
                # same millisecond still list newest first.
                order = await client.incr(f"{self._index}:seq")
                await client.zadd(self._index, {room_id: order})
        except BaseException:
            with contextlib.suppress(StoreError):
                await self._run("swap_code", [self._code_key(code)], [room_id, ""])
            raise
        return await self.room(room_id)

    async def _claim_code(self, room_id: str, new_code: Callable[[], str]) -> str:
        client = self._client
        for _ in range(CODE_ATTEMPTS):
            code = new_code()
            key = self._code_key(code)
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
        return ended_at is not None or holder_code != code

    async def room(self, room_id: str) -> RoomState:
        keys = self._keys(room_id)
        with self._errors():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hgetall(keys.room)
                pipe.hgetall(keys.status)
                pipe.smembers(keys.shown)
                meta, statuses, shown = await pipe.execute()
        if not meta:
            raise RoomNotFound(room_id)
        return _state(meta, statuses, shown)

    async def room_by_code(self, code: str) -> RoomState | None:
        with self._errors():
            room_id = await self._client.get(self._code_key(code))
        if room_id is None:
            return None
        try:
            state = await self.room(str(room_id))
        except RoomNotFound:
            return None
        return state if state.code == code and not state.ended else None

    async def rooms(self) -> list[RoomState]:
        client = self._client
        with self._errors():
            ids = [str(room_id) for room_id in await client.zrevrange(self._index, 0, -1)]
            async with client.pipeline(transaction=False) as pipe:
                for room_id in ids:
                    keys = self._keys(room_id)
                    pipe.hgetall(keys.room)
                    pipe.hgetall(keys.status)
                    pipe.smembers(keys.shown)
                replies = await pipe.execute()
        states = []
        for i in range(0, len(replies), 3):
            meta, statuses, shown = replies[i : i + 3]
            if meta:  # purged meanwhile
                states.append(_state(meta, statuses, shown))
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
            "end": int(patch.end),
        }
        status, detail = await self._run(
            "update",
            [keys.room, keys.status, keys.shown],
            [json.dumps(data), now_ms(), keys.channel],
        )
        if status == "not_found":
            raise RoomNotFound(room_id)
        if status == "unknown":
            raise StoreError(f"room {room_id!r} has no question {detail!r}", retry=False)
        state = await self.room(room_id)
        if state.ended:
            await self._run("swap_code", [self._code_key(state.code)], [room_id, ""])
        return state

    # Votes and results ---------------------------------------------------------------

    async def vote(self, room_id: str, vote: Vote) -> VoteOutcome:
        keys, channel = _vote_keys(self.prefix, room_id)
        status, version = await self._batched_vote(keys, [_vote_json(vote, now_ms()), channel])
        if status == "not_found":
            raise RoomNotFound(room_id)
        return VoteOutcome(status, int(version))

    async def _batched_vote(self, keys: Sequence[str | bytes], args: Sequence[Any]) -> Any:
        """Run the vote script, sharing one pipeline with every vote made meanwhile.

        Each vote stays its own atomic script; the pipeline only shares the round
        trip and redis-py's per-command overhead, which otherwise caps one
        process at a few thousand votes a second.
        """
        self._client  # noqa: B018 - raises StoreError when the store is not open
        loop = asyncio.get_running_loop()
        queued = _QueuedVote(keys, args, loop.create_future())
        self._queued_votes.append(queued)
        if len(self._queued_votes) == 1:
            loop.call_soon(self._send_queued_votes)
        return await queued.future

    def _send_queued_votes(self) -> None:
        queued, self._queued_votes = self._queued_votes, []
        for start in range(0, len(queued), PIPELINE_MAX):
            task = asyncio.create_task(self._send_votes(queued[start : start + PIPELINE_MAX]))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send_votes(self, batch: list[_QueuedVote]) -> None:
        try:
            replies = await self._evalsha_pipeline(batch)
        except asyncio.CancelledError:
            for queued in batch:
                queued.future.cancel()
            raise
        except Exception as error:
            failure = error if isinstance(error, StoreError) else self._unreachable(error)
            for queued in batch:
                if not queued.future.done():
                    queued.future.set_exception(failure)
            return
        for queued, reply in zip(batch, replies, strict=True):
            if queued.future.done():
                continue
            if isinstance(reply, Exception):
                queued.future.set_exception(
                    StoreError(f"Redis at {_safe_url(self.url)} refused a vote: {reply}")
                )
            else:
                queued.future.set_result(reply)

    async def _evalsha_pipeline(self, batch: list[_QueuedVote]) -> list[Any]:
        client = self._client
        sha = self._scripts["vote"].sha
        with self._errors():
            replies = await _evalsha_all(client, sha, batch)
            missing = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
            if missing:
                # Redis restarted or its script cache was flushed: load and send again.
                await client.script_load(VOTE)
                again = await _evalsha_all(client, sha, [batch[i] for i in missing])
                for i, reply in zip(missing, again, strict=True):
                    replies[i] = reply
        return replies

    async def reset_question(self, room_id: str, question_id: str) -> RoomState:
        k = self._keys(room_id)
        version = await self._run(
            "reset",
            [k.room, k.resp, k.mine, k.counts, k.respondents, k.texts, k.hidden],
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

    async def aggregates(self, room_id: str) -> dict[str, Aggregate]:
        k = self._keys(room_id)
        reply = await self._run(
            "aggregates", [k.room, k.respondents, k.counts, k.texts, k.resp, k.hidden], []
        )
        if not reply:
            raise RoomNotFound(room_id)
        order, respondents, counts, refs, records, hidden = reply
        totals = {qid: int(n) for qid, n in _pairs(respondents) if int(n) > 0}
        by_question: dict[str, dict[str, int]] = {qid: {} for qid in totals}
        for field, count in sorted(_pairs(counts)):
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
                respondents=totals[qid], counts=by_question[qid], texts=tuple(texts[qid])
            )
            for qid in json.loads(order)
            if qid in totals
        }

    async def answers_of(self, room_id: str, participant: str) -> dict[str, list[Answer]]:
        k = self._keys(room_id)
        reply = await self._run("answers_of", [k.room, k.mine, k.resp], [participant])
        if not reply:
            raise RoomNotFound(room_id)
        result: dict[str, list[Answer]] = {}
        for raw in reply[1]:
            record = json.loads(raw)
            result.setdefault(record["q"], []).append(Answer(tuple(record["k"]), record["t"]))
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
            with self._errors():
                async with client.pipeline(transaction=True) as pipe:
                    pipe.hmget(k.resp, refs)
                    pipe.smismember(k.hidden, refs)
                    records, hidden = await pipe.execute()
            for ref, raw, is_hidden in zip(refs, records, hidden, strict=True):
                if raw is not None:
                    yield _response(room_id, ref, json.loads(raw), bool(is_hidden))

    # Live ----------------------------------------------------------------------------

    def subscribe(self, room_id: str) -> AbstractAsyncContextManager[Subscription]:
        return self._subscription(room_id)

    def local_subscriptions(self) -> int:
        return sum(len(subs) for subs in self._local.values())

    @asynccontextmanager
    async def _subscription(self, room_id: str) -> AsyncIterator[Signals]:
        self._client  # noqa: B018 - raises StoreError when the store is not open
        signals = Signals(room_id)
        subs = self._local.setdefault(room_id, set())
        subs.add(signals)
        try:
            await self._listen_to(room_id, first=len(subs) == 1)
            yield signals
        finally:
            signals.close()
            subs.discard(signals)
            if not subs and self._local.get(room_id) is subs:
                del self._local[room_id]
                self._confirmed.pop(self._keys(room_id).channel, None)
                self._signalled.pop(room_id, None)
                self._channels_changed.set()  # the reader unsubscribes

    async def _listen_to(self, room_id: str, first: bool) -> None:
        """Have the reader subscribe the room's channel, and wait until Redis confirms.

        Only the reader sends on the pub/sub connection: a SUBSCRIBE from another
        task could meet redis-py reconnecting that connection under the reader,
        and two reconnections at once can leave a connection that hears nothing.
        """
        channel = self._keys(room_id).channel
        confirmed = self._confirmed.setdefault(channel, asyncio.Event())
        pubsub = self._pubsub
        if pubsub is not None and channel in (
            set(pubsub.channels) - pubsub.pending_unsubscribe_channels
        ):
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
        self._background.add(reader)  # close() still waits for it to finish
        reader.add_done_callback(self._background.discard)
        self._start_reader()

    async def _listen_forever(self) -> None:
        """The one pub/sub reader: reconnects with backoff for as long as the store is open.

        redis-py retries a few times by itself and then raises; this loop outlives that.
        """
        delay = BACKOFF_FIRST
        while self._redis is not None:  # close() clears it before it cancels this task
            self._reader_beat = time.monotonic()
            try:
                await self._listen_once()
            except Exception as error:
                # Whatever redis-py raises, this task must not die: without it no
                # change made by another process would reach this one's screens.
                raise_if_cancelling()
                if self._redis is None:
                    return
                if isinstance(error, RedisError | OSError) or _transport_closed(error):
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
            channels = [self._keys(room_id).channel for room_id in self._local]
            await pubsub.subscribe(self._control, *channels)
            self._pubsub = pubsub
            self._pubsub_was_up = True
            checked = time.monotonic()
            while self._redis is not None:
                # A cancellation can be lost in a read whose own timeout ends at the
                # same moment (seen with redis-py 8.1 on Python 3.11): look for one
                # here too, or close() would wait for this loop for ever.
                raise_if_cancelling()
                self._reader_beat = time.monotonic()
                message = await pubsub.get_message(timeout=READ_WAIT)
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
        wanted = {self._keys(room_id).channel for room_id in self._local}
        have = set(pubsub.channels) - pubsub.pending_unsubscribe_channels - {self._control}
        if missing := wanted - have:
            await pubsub.subscribe(*sorted(missing))
        if unwanted := have - wanted:
            await pubsub.unsubscribe(*sorted(unwanted))

    def _dispatch(self, message: Mapping[str, Any]) -> None:
        channel = message["channel"]
        room_id = self._room_of(channel)
        if room_id is None:
            return
        if message["type"] == "message":
            self._fan_out(room_id, int(message["data"]))
        elif message["type"] == "subscribe":
            # Redis forgets what it published while we were away: whenever a
            # channel is (re)subscribed, every local subscriber re-reads.
            event = self._confirmed.get(channel)
            if event is not None:
                event.set()
            task = asyncio.create_task(self._resync(room_id))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    def _room_of(self, channel: str) -> str | None:
        head = f"{self.prefix}:changed:{{"
        if channel.startswith(head) and channel.endswith("}"):
            return channel[len(head) : -1]
        return None

    async def _resync(self, room_id: str) -> None:
        if room_id not in self._local:
            return
        try:
            with self._errors():
                version = await self._client.hget(self._keys(room_id).room, "version")
        except StoreError as error:
            # Redis flapped again. Signal anyway: a signal only says "read again", and
            # the hub retries its reads until Redis answers; silence here would leave
            # every local screen on what it showed before the outage.
            log.warning("resync of room %s failed: %s", room_id, error)
            self._fan_out(room_id, 0)
            return
        if version is not None:
            self._fan_out(room_id, int(version))

    def _fan_out(self, room_id: str, version: int) -> None:
        subscribers = self._local.get(room_id)
        if not subscribers:
            return
        if version > self._signalled.get(room_id, -1):
            self._signalled[room_id] = version
        for signals in subscribers:
            signals.put(version)

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
        rooms = list(self._local)
        if not rooms:
            return
        with self._errors():
            async with self._client.pipeline(transaction=False) as pipe:
                for room_id in rooms:
                    pipe.hget(self._keys(room_id).room, "version")
                versions = await pipe.execute()
        for room_id, version in zip(rooms, versions, strict=True):
            if version is None or int(version) <= self._signalled.get(room_id, -1):
                continue
            if room_id in self._signalled:  # lost, or still on its way: either way, read again
                log.debug("room %s: version %s seen before its signal", room_id, version)
            self._fan_out(room_id, int(version))

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

    # Housekeeping --------------------------------------------------------------------

    async def purge(self, ended_before: datetime) -> list[str]:
        cutoff = to_ms(ended_before)
        client = self._client
        with self._errors():
            ids = [str(room_id) for room_id in await client.zrange(self._index, 0, -1)]
            async with client.pipeline(transaction=False) as pipe:
                for room_id in ids:
                    pipe.hmget(self._keys(room_id).room, ["ended_at", "code"])
                replies = await pipe.execute()
        purged = []
        for room_id, (ended_at, code) in zip(ids, replies, strict=True):
            if ended_at is None or int(ended_at) >= cutoff:
                continue
            with self._errors():
                await client.delete(*self._keys(room_id).all())
                await client.zrem(self._index, room_id)
            if code is not None:
                await self._run("swap_code", [self._code_key(code)], [room_id, ""])
            purged.append(room_id)
        return purged


def _state(meta: Mapping[str, str], statuses: Mapping[str, str], shown: set[str]) -> RoomState:
    order: list[str] = json.loads(meta.get("qorder", "[]"))
    questions: dict[str, QuestionStatus] = {}
    for qid in order:
        status = statuses.get(qid, "pending")
        questions[qid] = (
            "open" if status == "open" else "closed" if status == "closed" else "pending"
        )
    ended_at = meta.get("ended_at")
    return RoomState(
        id=meta["id"],
        code=meta["code"],
        session_id=meta["session_id"],
        created_at=from_ms(meta["created_at"]),
        ended_at=None if ended_at is None else from_ms(ended_at),
        current=int(meta.get("current", 0)),
        current_question=meta.get("current_question"),
        questions=questions,
        shown=frozenset(shown),
        version=int(meta["version"]),
    )


def _response(room_id: str, ref: str, record: Mapping[str, Any], hidden: bool) -> Response:
    return Response(
        room_id=room_id,
        question_id=record["q"],
        participant=record["p"],
        ref=ref,
        answer=Answer(tuple(record["k"]), record["t"]),
        answered_at=from_ms(record["at"]),
        hidden=hidden,
    )
