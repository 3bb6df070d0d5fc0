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
from collections.abc import Callable

from poll.web.i18n import N_
from poll.web.throttle import WINDOW, SlidingWindows

WRONG_TOKENS_PER_MINUTE = 10
TOO_MANY_WRONG_TOKENS = N_(
    "Too many wrong tokens from this network. Wait a minute, then try again."
)


class WrongTokens:
    """Wrong tokens per address in a sliding minute (the join throttle's windows)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._failures: SlidingWindows[str] = SlidingWindows(clock)

    def retry_after(self, address: str) -> int | None:
        """Seconds until this address may try again, or None when it may now."""
        if self._failures.count(address) < WRONG_TOKENS_PER_MINUTE:
            return None
        first = self._failures.first(address)
        assert first is not None
        return max(1, math.ceil(first + WINDOW - self._clock()))

    def failed(self, address: str) -> None:
        self._failures.add(address, WRONG_TOKENS_PER_MINUTE)

    def __len__(self) -> int:
        return len(self._failures)
