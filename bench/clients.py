"""Simulated phones: one client process runs a slice of the participants.

Each participant does what a phone does (docs/protocol.md): `GET /r/CODE` for
its `poll_pid` cookie, then the websocket `/ws/participant/CODE` with that
cookie, answers pings, votes with a fresh submission id and waits for the
`ack`. What it answers is its workload's (bench/workloads.py): the
coordinator names the workload and passes the question as the console's
snapshot describes it. It notes when it first saw each item in a snapshot (fan-out).

The coordinator (bench/load.py) drives the processes through a pipe, one
command at a time, and gets plain lists of timings back. All times are
`time.monotonic()`, which on Linux is one clock for every process of the
machine, so a vote sent here can be compared with a snapshot the projector
received in the coordinator.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import random
import resource
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import psutil  # type: ignore[import-untyped]
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from bench import workloads
from bench.http import request
from bench.workloads import Answer, Item, Seen

#: Connects in flight per client process: enough to saturate the server's
#: accept loop without making the kernel's listen backlog overflow.
CONNECT_CONCURRENCY = 100
#: Seconds a vote may wait for its ack before it counts as failed.
ACK_TIMEOUT = 60.0


#: The open-files limit of poll's systemd unit (deploy/poll@.service, LimitNOFILE).
UNIT_NOFILE = 65_536


def raise_nofile(hard_to: int = 0) -> int:
    """Raise the soft open-files limit to the hard one; the new soft limit.

    With `hard_to`, first raise the hard limit to that, where this process may
    (root, as systemd does for the unit): one server process holding 20,000
    phones needs more descriptors than this machine's hard limit of 20,000.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard_to > hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard_to, hard_to))
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def install_uvloop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


@dataclass
class VoteRecord:
    kind: str  # "first" or "change"
    answer: Answer
    sent: float
    acked: float | None = None
    status: str = "pending"  # saved, duplicate, refused:<reason>, timeout, error
    version: int = -1


@dataclass
class Participant:
    index: int
    cookie: str = ""
    ws: ClientConnection | None = None
    joined_at: float | None = None
    seen: dict[str, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    votes: list[VoteRecord] = field(default_factory=list)
    first_snapshot: asyncio.Event = field(default_factory=asyncio.Event)
    #: The `results` of the newest snapshot per item, and the answers of the last ack:
    #: what the phone knows when it answers again (a Q&A board to upvote from).
    results: dict[str, Any] = field(default_factory=dict)
    mine: tuple[dict[str, Any], ...] = ()
    #: A `sync` waiting for its snapshot (the slide workloads: phones that only look).
    synced: asyncio.Future[float] | None = None
    #: After a reconnect (the storm): the item of its first snapshot, the answers of
    #: its first `mine`, and when it had both.
    again: Rejoin | None = None


@dataclass
class Rejoin:
    question_id: str
    item: str | None = None
    mine: list[dict[str, Any]] | None = None
    connected: float | None = None
    back: asyncio.Event = field(default_factory=asyncio.Event)
    back_at: float | None = None


class ClientProcess:
    def __init__(self, conn: Connection, config: dict[str, Any]) -> None:
        self.conn = conn
        self.http_url: str = config["http_url"]
        self.ws_url: str = config["ws_url"]
        self.code: str = config["code"]
        self.people = [Participant(i) for i in config["indices"]]
        self.rng = random.Random(config.get("seed", 0))
        self.commands: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.readers: list[asyncio.Task[None]] = []

    # Plumbing ---------------------------------------------------------------------

    def _on_command(self) -> None:
        try:
            self.commands.put_nowait(self.conn.recv())
        except EOFError:
            self.commands.put_nowait(("close",))

    def _reply(self, reply: Any) -> None:
        """Send a reply whole. The event loop watches the pipe for commands, which made
        it non-blocking: a reply larger than the pipe's buffer (a burst's votes at
        5,000 phones a process) failed with EAGAIN. The coordinator reads meanwhile."""
        fd = self.conn.fileno()
        os.set_blocking(fd, True)
        try:
            self.conn.send(reply)
        finally:
            os.set_blocking(fd, False)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), self._on_command)
        self.conn.send(("ready", os.getpid()))
        while True:
            command = await self.commands.get()
            name = command[0]
            if name == "join":
                self._reply(await self.join())
            elif name == "vote":
                self._reply(await self.vote_burst(*command[1:]))
            elif name == "storm":
                self._reply(await self.storm(*command[1:]))
            elif name == "seen":
                self._reply([p.seen.get(command[1]) for p in self.people])
            elif name == "close":
                await self.close()
                times = psutil.Process().cpu_times()
                self._reply({"cpu": times.user + times.system})
                return

    # Join -------------------------------------------------------------------------

    async def join(self) -> dict[str, Any]:
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        failures: Counter[str] = Counter()

        async def one(person: Participant) -> None:
            async with gate:
                try:
                    await self._connect(person)
                except Exception as exc:
                    failures[_reason(exc)] += 1

        started = time.monotonic()
        await asyncio.gather(*(one(p) for p in self.people))
        # "In" means the server registered the socket and sent the first snapshot.
        for person in self.people:
            if person.ws is not None and not person.first_snapshot.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(person.first_snapshot.wait(), 30)
        joined = [p.joined_at for p in self.people if p.joined_at is not None]
        missing = len(self.people) - len(joined) - sum(failures.values())
        if missing > 0:
            failures["no_snapshot"] += missing
        return {"started": started, "joined": joined, "failures": dict(failures)}

    async def _connect(self, person: Participant) -> None:
        reply = await request(f"{self.http_url}/r/{self.code}")
        if reply.status != 200 or "poll_pid" not in reply.cookies:
            raise RuntimeError(f"http_{reply.status}")
        person.cookie = reply.cookies["poll_pid"]
        person.ws = await self._open(person)
        self.readers.append(asyncio.create_task(self._read(person)))

    async def _open(self, person: Participant) -> ClientConnection:
        """The participant websocket, with the phone's cookie (a reconnect keeps it)."""
        return await connect(
            f"{self.ws_url}/ws/participant/{self.code}",
            additional_headers={"Cookie": f"poll_pid={person.cookie}"},
            compression=None,  # the server turns deflate off; phones' offers are refused
            ping_interval=None,  # the protocol's JSON pings are answered instead
            # No proxy lookup: per connection it reads the whole environment, which
            # was an eighth of the generator's CPU in a join.
            proxy=None,
            open_timeout=120,
            max_size=2**20,
        )

    async def _read(self, person: Participant) -> None:
        ws = person.ws
        assert ws is not None
        with contextlib.suppress(Exception):
            async for raw in ws:
                now = time.monotonic()
                message = json.loads(raw)
                kind = message.get("type")
                again = person.again
                # (Only this socket's: the dropped one may still hand over what it had.)
                if again is not None and ws is person.ws and not again.back.is_set():
                    if kind == "snapshot" and again.item is None:
                        again.item = str((message.get("item") or {}).get("id"))
                    elif kind == "mine" and message.get("question_id") == again.question_id:
                        again.mine = list(message.get("answers") or ())
                    if again.item is not None and again.mine is not None:
                        again.back_at = now
                        again.back.set()
                if kind == "snapshot":
                    item = message.get("item") or {}
                    item_id = item.get("id")
                    if item_id is not None and item_id not in person.seen:
                        person.seen[item_id] = now
                    if item_id is not None:
                        person.results[item_id] = message.get("results")
                    if not person.first_snapshot.is_set():
                        person.joined_at = now
                        person.first_snapshot.set()
                    if person.synced is not None and not person.synced.done():
                        person.synced.set_result(now)
                elif kind in ("ack", "refused"):
                    message["_at"] = now
                    future = person.waiting.pop(str(message.get("submission_id")), None)
                    if future is not None and not future.done():
                        future.set_result(message)
                elif kind == "ping":
                    await ws.send(json.dumps({"type": "pong", "t": message.get("t")}))
        for future in person.waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("socket closed"))

    # Votes ------------------------------------------------------------------------

    async def vote_burst(
        self, start: float, spread: float, change_share: float, workload_name: str, item: Item
    ) -> dict[str, Any]:
        """Every phone answers `item` once; a share of them answer again after "saved".
        With the votes, how late this process's event loop ran meanwhile (`lag`)."""
        workload = workloads.get(workload_name)
        question_id = str(item["id"])
        second_thoughts = workload.may_change(item)

        async def one(person: Participant) -> None:
            if person.ws is None or person.joined_at is None:
                return
            await asyncio.sleep(max(0.0, start + self.rng.uniform(0, spread) - time.monotonic()))
            if not workload.answers:
                await self._sync(person)
                return
            answer = workload.answer(item, self.rng, person.index, 1)
            record = await self._vote(person, question_id, answer, "first")
            if second_thoughts and record.status == "saved" and self.rng.random() < change_share:
                # A second thought after seeing "saved": another answer (replacing the
                # first, or one more entry where the question takes several).
                await asyncio.sleep(self.rng.uniform(0.2, 1.0))
                seen = Seen(person.results.get(question_id), person.mine)
                second = workload.change(item, self.rng, person.index, answer, seen)
                await self._vote(person, question_id, second, "change")

        lag: list[float] = []
        ticker = asyncio.create_task(_lateness(lag))
        try:
            await asyncio.gather(*(one(p) for p in self.people))
        finally:
            ticker.cancel()
        votes = [
            {
                "participant": p.index,
                "kind": v.kind,
                "answer": v.answer,
                "sent": v.sent,
                "acked": v.acked,
                "status": v.status,
                "version": v.version,
            }
            for p in self.people
            for v in p.votes
        ]
        return {"votes": votes, "lag": lag}

    async def _vote(
        self, person: Participant, question_id: str, answer: Answer, kind: str
    ) -> VoteRecord:
        assert person.ws is not None
        submission = secrets.token_urlsafe(9)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        person.waiting[submission] = future
        record = VoteRecord(kind=kind, answer=answer, sent=time.monotonic())
        person.votes.append(record)
        message = {
            "type": "vote",
            "question_id": question_id,
            "submission_id": submission,
            "answer": workloads.sendable(answer),
        }
        try:
            await person.ws.send(json.dumps(message))
            reply = await asyncio.wait_for(future, ACK_TIMEOUT)
        except TimeoutError:
            record.status = "timeout"
            return record
        except Exception as exc:
            record.status = f"error:{_reason(exc)}"
            return record
        record.acked = float(reply["_at"])
        if reply["type"] == "ack":
            record.status = str(reply.get("status"))
            record.version = int(reply.get("version") or -1)
            person.mine = tuple(reply.get("mine") or ())
        else:
            record.status = f"refused:{reply.get('reason')}"
        return record

    async def _sync(self, person: Participant) -> None:
        """A phone that only looks (a slide is current) asks for the snapshot again, as a
        phone does when it comes back to the foreground; recorded as a "synced" vote."""
        assert person.ws is not None
        person.synced = asyncio.get_running_loop().create_future()
        record = VoteRecord(kind="first", answer={}, sent=time.monotonic())
        person.votes.append(record)
        try:
            await person.ws.send(json.dumps({"type": "sync"}))
            record.acked = await asyncio.wait_for(person.synced, ACK_TIMEOUT)
            record.status = "synced"
        except TimeoutError:
            record.status = "timeout"
        except Exception as exc:
            record.status = f"error:{_reason(exc)}"

    # Reconnect storm --------------------------------------------------------------

    async def storm(self, start: float, window: float, question_id: str) -> list[dict[str, Any]]:
        """The venue's wifi drops: at `start` every phone loses its connection (no close
        handshake) and reconnects with its cookie at a random moment within `window`
        seconds. A phone is back when it has a snapshot and its own answers (`mine`)."""
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(person: Participant) -> dict[str, Any] | None:
            ws = person.ws
            if ws is None or person.joined_at is None:
                return None
            await asyncio.sleep(max(0.0, start - time.monotonic()))
            ws.transport.abort()
            await asyncio.sleep(max(0.0, start + self.rng.uniform(0, window) - time.monotonic()))
            again = person.again = Rejoin(question_id)
            reason = ""
            try:
                async with gate:
                    again.connected = time.monotonic()
                    person.ws = await self._open(person)
                self.readers.append(asyncio.create_task(self._read(person)))
                await asyncio.wait_for(again.back.wait(), ACK_TIMEOUT)
            except Exception as exc:
                reason = _reason(exc)
            return {
                "participant": person.index,
                "expected": list(person.mine),
                "item": again.item,
                "mine": again.mine,
                "connected": again.connected,
                "back": again.back_at,
                "failure": reason,
            }

        done = await asyncio.gather(*(one(p) for p in self.people))
        return [report for report in done if report is not None]

    async def close(self) -> None:
        async def one(person: Participant) -> None:
            if person.ws is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(person.ws.close(), 5)

        gate = asyncio.Semaphore(500)

        async def gated(person: Participant) -> None:
            async with gate:
                await one(person)

        await asyncio.gather(*(gated(p) for p in self.people))
        for task in self.readers:
            task.cancel()


#: Seconds between two looks at the event loop's lateness.
TICK = 0.01


async def _lateness(into: list[float]) -> None:
    """How late a timer fires, every TICK: a vote's ack or a snapshot waits as long
    before this process reads it, so every latency measured here includes it."""
    while True:
        planned = time.monotonic() + TICK
        await asyncio.sleep(TICK)
        into.append(max(0.0, time.monotonic() - planned))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, InvalidStatus):
        return f"http_{exc.response.status_code}"
    text = str(exc)
    if text.startswith("http_"):
        return text
    return type(exc).__name__


def main(conn: Connection, config: dict[str, Any]) -> None:
    """The client process's entry point (a multiprocessing target)."""
    raise_nofile()
    install_uvloop()
    # The same collector settings as `poll serve` (poll/web/app.py): thousands of
    # sockets make default full collections stall the generator for 100s of ms.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 2, 1_000)
    asyncio.run(ClientProcess(conn, config).run())
