"""A tiny TCP front, as a venue's load balancer in front of several `poll serve` processes.

It knows nothing of HTTP or websockets: it passes bytes, and the browser or phone
sees one origin. When one side of a connection goes (a killed process resets its
sockets) the other is closed too, so the phone notices at once, as behind a real
balancer.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

from tests.support.processes import free_port


async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy bytes one way; when the source goes, close the sink too."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        sink.close()


class Front:
    """Each new connection goes to the first backend that accepts it, trying them in
    order (`in_turn=False`: everybody lands on the first while it lives), or starting
    from the next one each time (`in_turn=True`: a round robin, so every page load and
    websocket may land on another process).

    `start()`/`stop()` run it on the caller's event loop; `start_in_thread()`/
    `stop_in_thread()` on a loop of its own, for tests under Playwright's sync API.
    """

    def __init__(self, backends: list[int], *, in_turn: bool = False) -> None:
        self.backends = backends
        self.in_turn = in_turn
        self.port = free_port()
        #: Connections carried, in all and per backend port.
        self.accepted = 0
        self.connections: Counter[int] = Counter()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port, backlog=512)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def start_in_thread(self) -> None:
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self.start())
            ready.set()
            try:
                self._loop.run_forever()
            finally:
                self._loop.run_until_complete(self.stop())
                self._loop.close()

        self._thread = threading.Thread(target=run, name="tcp-front", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop_in_thread(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def _order(self) -> list[int]:
        if not self.in_turn:
            return self.backends
        turn = self.accepted % len(self.backends)
        return self.backends[turn:] + self.backends[:turn]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        order = self._order()
        self.accepted += 1
        try:
            for port in order:
                try:
                    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
                except OSError:
                    continue  # that backend is down: try the next
                self.connections[port] += 1
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
                return
        finally:
            writer.close()
            self._pipes.discard(task)
