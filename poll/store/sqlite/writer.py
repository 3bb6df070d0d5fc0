"""The server's side of the writer process: it sends operations and resolves their callers' futures.

The write connection lives in a child process (`batches.py`; spawned: the
server has threads, so no fork), out of reach of the server's GIL: in a
thread, the writer waited for the GIL after each of a vote's statements while
the event loop served thousands of websockets. Operations go to the child as
(op_id, partial of a module-level function) over one pipe; the child takes
every operation waiting (up to MAX_BATCH), runs them in one transaction,
commits, and sends ONE reply per batch: [(op_id, result, error), …] and the
versions of the rooms it changed. A reader thread of the server raises the
change signals (the fan-out lives in the server) and resolves the callers'
futures, one event-loop wake-up per batch.

If the child dies (killed), every operation in flight fails with
StoreError(retry=True) and the next write starts a new child.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import itertools
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any, TypeVar

from poll.store.base import StoreError
from poll.store.fanout import Fanout
from poll.store.sqlite.batches import Tx, serve

T = TypeVar("T")

#: Bytes the pipe to the writer process holds before a sender waits (Linux only).
PIPE_SIZE = 1 << 20


class Writer:
    """Server side of the writer process: sends operations, resolves futures."""

    def __init__(self, path: Path, key: str, fanout: Fanout, synchronous: str = "FULL") -> None:
        """Start the process and wait until the schema is ready (blocking).

        `fanout` receives the versions of the rooms each batch changed.
        """
        self._key = key
        self._fanout = fanout
        self._lock = threading.Lock()  # guards _pending and alive
        self._send_lock = threading.Lock()  # one message at a time on the pipe
        self._pending: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]]] = {}
        self._ids = itertools.count()
        self._outbox: list[tuple[int, Callable[[Tx], Any]]] = []  # not sent yet
        self.alive = True
        context = multiprocessing.get_context("spawn")
        child_requests, self._requests = context.Pipe(duplex=False)  # (reading, writing) ends
        self._replies, child_replies = context.Pipe(duplex=False)
        with contextlib.suppress(AttributeError, OSError):  # Linux: room for a burst
            fcntl.fcntl(self._requests.fileno(), fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        self._process = context.Process(
            target=serve,
            args=(str(path), key, child_requests, child_replies, synchronous),
            name=f"poll sqlite writer {key}",
            daemon=True,
        )
        try:
            self._process.start()
        finally:
            child_requests.close()
            child_replies.close()
        try:
            failure = self._replies.recv()  # None once the schema is ready
        except (EOFError, OSError):
            self._process.join(5)
            failure = f"the writer process exited with code {self._process.exitcode}"
        if failure is not None:
            self._shut()
            raise OpenFailed(failure)
        self._thread = threading.Thread(
            target=self._read_replies, name=f"sqlite-replies {key}", daemon=True
        )
        self._thread.start()

    def submit(self, fn: Callable[[Tx], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        op_id = next(self._ids)
        with self._lock:
            if not self.alive:
                raise StoreError(f"the SQLite writer for {self._key} stopped: try again")
            self._pending[op_id] = (loop, future)
            self._outbox.append((op_id, fn))
            first = len(self._outbox) == 1
        if first:
            # Operations made while the event loop turns go in one message.
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        """Send the operations waiting in the outbox as one message (any thread)."""
        with self._send_lock:
            with self._lock:
                ops, self._outbox = self._outbox, []
            if ops:
                self._send(ops)

    def _send(self, ops: list[tuple[int, Callable[[Tx], Any]]]) -> None:
        try:
            data = ForkingPickler.dumps(ops)
        except Exception:  # an unpicklable operation (a bug): fail it alone
            sendable = []
            for op in ops:
                try:
                    ForkingPickler.dumps(op)
                except Exception as error:
                    self._fail([op[0]], error)
                else:
                    sendable.append(op)
            data = ForkingPickler.dumps(sendable)
        try:
            self._requests.send_bytes(data)
        except OSError as error:
            self._fail(
                [op_id for op_id, _ in ops], StoreError(f"the SQLite writer stopped: {error}")
            )

    def _fail(self, op_ids: list[int], error: Exception) -> None:
        with self._lock:
            waiters = [self._pending.pop(op_id, None) for op_id in op_ids]
        _wake([(waiter, None, error) for waiter in waiters if waiter])

    def pending(self) -> int:
        return len(self._pending)

    def stop(self) -> None:
        """Finish every operation submitted, then end the process and the reader (blocking)."""
        self._flush()
        with contextlib.suppress(OSError), self._send_lock:
            self._requests.send(None)
        self._thread.join()
        self._shut()

    def _shut(self) -> None:
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._requests.close()
        self._replies.close()

    def _read_replies(self) -> None:
        while True:
            try:
                results, changed = self._replies.recv()
            except (EOFError, OSError):
                break  # the process ended (stop(), or killed)
            except Exception:  # an undecodable reply: its callers cannot be told apart
                self._process.kill()
                break
            if changed:
                self._fanout.signal_all(changed)
            with self._lock:
                waiters = [
                    (self._pending.pop(op_id, None), result, error)
                    for op_id, result, error in results
                ]
            _wake([(waiter, result, error) for waiter, result, error in waiters if waiter])
        with self._lock:
            self.alive = False
            lost = list(self._pending.values())
            self._pending.clear()
        gone = StoreError(f"the SQLite writer for {self._key} stopped before saving: try again")
        _wake([(waiter, None, gone) for waiter in lost])


def _wake(
    done: list[tuple[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]], Any, Exception | None]],
) -> None:
    by_loop: dict[
        asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any, Exception | None]]
    ] = {}
    for (loop, future), result, error in done:
        by_loop.setdefault(loop, []).append((future, result, error))
    for loop, items in by_loop.items():
        # One wake-up of the event loop per batch, not one per vote.
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(_resolve, items)


def _resolve(items: list[tuple[asyncio.Future[Any], Any, Exception | None]]) -> None:
    for future, result, error in items:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)


class OpenFailed(Exception):
    """The writer process could not open the database; the message says why."""
