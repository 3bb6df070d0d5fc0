"""Wrong facilitator tokens per client address, so the token cannot be guessed.

A token has at least 128 bits (`poll.token`), which no one guesses at any
rate; the throttle is a second wall, and keeps a guessing script from costing
the server anything. Each address may send `WRONG_TOKENS_PER_MINUTE` wrong
tokens in a sliding minute; then every sign-in from it (a right token too, so
that the answer tells a guesser nothing) is answered 429 with Retry-After
until the oldest failure is a minute old. Phones never send a token: a venue
behind one address is not locked out of anything by it.

Addresses are kept in this process's memory only, for at most a minute after
their last failure, and never written anywhere (see docs/privacy.md).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from poll.web.i18n import N_

WRONG_TOKENS_PER_MINUTE = 10
WINDOW = 60.0
#: Addresses remembered at most (memory stays bounded under a spoofed flood).
MAX_ADDRESSES = 10_000
TOO_MANY_WRONG_TOKENS = N_(
    "Too many wrong tokens from this network. Wait a minute, then try again."
)


class WrongTokens:
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

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may try again, or None when it may now."""
        failures = self._recent(address)
        if failures is None or len(failures) < WRONG_TOKENS_PER_MINUTE:
            return None
        return max(1, math.ceil(failures[0] + WINDOW - self._clock()))

    def failed(self, address: str) -> None:
        failures = self._recent(address)
        if failures is None:
            if len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[address] = deque()
        failures.append(self._clock())
        while len(failures) > WRONG_TOKENS_PER_MINUTE:
            failures.popleft()

    def __len__(self) -> int:
        return len(self._failures)
