"""Failed join-code lookups per client address, so codes cannot be found by guessing.

A join code is one of 10^7; while a handful of rooms run, a script trying codes
as fast as the server answers would find one in minutes. Each address may fail
`FAILED_LOOKUPS_PER_MINUTE` times in a sliding minute; then every lookup from
it is answered 429 until the oldest failure is a minute old. Refusing right
codes too (not only wrong ones) is deliberate: otherwise the refusals
themselves would tell a guesser which codes exist.

Addresses are kept in this process's memory only, for at most a minute after
their last failure, and never written anywhere (see docs/privacy.md). Behind a
reverse proxy the address is the one uvicorn takes from X-Forwarded-For (from
trusted proxies only). Phones behind one NAT share an address: 20 typos a minute
from one venue is still far above what people make.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from starlette.requests import HTTPConnection

from poll.web.i18n import N_

FAILED_LOOKUPS_PER_MINUTE = 20
TOO_MANY_ATTEMPTS = N_("Too many wrong codes from this network. Wait a minute, then try again.")
WINDOW = 60.0
#: Addresses remembered at most (memory stays bounded under a spoofed flood).
MAX_ADDRESSES = 50_000


class FailedLookups:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float] | None:
        failures = self._failures.get(address)
        if failures is None:
            return None
        cutoff = self._clock() - WINDOW
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            del self._failures[address]
            return None
        return failures

    def blocked(self, address: str) -> bool:
        failures = self._recent(address)
        return failures is not None and len(failures) >= FAILED_LOOKUPS_PER_MINUTE

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                # Forget the address that was added first (dicts keep insertion order).
                del self._failures[next(iter(self._failures))]
            failures = self._failures[address] = deque()
        failures.append(self._clock())
        # Only the last FAILED_LOOKUPS_PER_MINUTE matter for the decision.
        while len(failures) > max(FAILED_LOOKUPS_PER_MINUTE, 1):
            failures.popleft()

    def __len__(self) -> int:
        return len(self._failures)


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"
