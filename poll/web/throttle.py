"""Failed join-code lookups, so that codes cannot be found by guessing, without
locking a whole venue out because one phone behind its wifi guessed.

A join code is one of 10^7; while a handful of rooms run, a script trying codes
as fast as the server answers would find one in minutes. The throttle counts
failures per *client*, which is an address and a participant id together (the
signed `poll_pid` cookie): a venue's phones share one address behind NAT, but
each has its own cookie.

- A client may fail `FAILED_LOOKUPS_PER_MINUTE` times in a sliding minute; then
  every lookup of that client is answered 429 until its oldest failure is a
  minute old. Refusing its right codes too is deliberate: otherwise the
  refusals themselves would tell a guesser which codes exist.
- A lookup without a cookie is given a new participant id at once (the page
  it gets sets the cookie), so a new phone that mistypes the code starts a
  client of its own. An address is given at most `NEW_IDS_PER_MINUTE` ids a
  minute; past that, its cookie-less lookups share one client, which the rule
  above stops after 20 failures. A guesser cannot make itself endless fresh
  clients.
- An address may fail `ADDRESS_FAILURES_PER_MINUTE` times a minute over all its
  clients (a ceiling far above a venue's typos). Past it, only its clients
  that have not failed in the last minute are served: the guesser's
  cookies are refused, a phone that has not guessed wrong is never refused.

So a guesser behind one address gets at most about `ADDRESS_FAILURES_PER_MINUTE
+ NEW_IDS_PER_MINUTE` guesses a minute (each new id one more), against 10^7
codes. Addresses and ids are kept in this process's memory only, for at most a
minute after their last failure, and never written anywhere (see
docs/privacy.md). The address is the one the server sees for the connection.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from starlette.requests import HTTPConnection

from poll.bounded import Bounded
from poll.web.i18n import N_

#: Failures a minute of one client (address and participant id).
FAILED_LOOKUPS_PER_MINUTE = 20
#: Failures a minute of all clients at one address together.
ADDRESS_FAILURES_PER_MINUTE = 500
#: Participant ids handed a minute to cookie-less lookups from one address
#: (a venue's 1,000 phones do not all arrive in the same minute).
NEW_IDS_PER_MINUTE = 2_000
TOO_MANY_ATTEMPTS = N_("Too many wrong codes. Wait a minute, then try again.")
WINDOW = 60.0
#: Clients (and addresses) remembered at most: memory stays bounded under a flood.
MAX_ENTRIES = 50_000

Client = tuple[str, str]
K = TypeVar("K", bound=Hashable)


class SlidingWindows(Generic[K]):
    """Time stamps of recent events per key, in a sliding `WINDOW`, at most `cap` each."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._events: Bounded[K, deque[float]] = Bounded(MAX_ENTRIES)

    def count(self, key: K) -> int:
        events = self._events.get(key)
        if events is None:
            return 0
        cutoff = self._clock() - WINDOW
        while events and events[0] <= cutoff:
            events.popleft()
        if not events:
            del self._events[key]
        return len(events)

    def first(self, key: K) -> float | None:
        """When the oldest event still in the window happened, if any."""
        events = self._events.get(key) if self.count(key) else None
        return events[0] if events else None

    def add(self, key: K, cap: int) -> None:
        self.count(key)  # drops what is older than the window
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque()
        events.append(self._clock())
        # Only the last `cap` matter for any decision.
        while len(events) > max(cap, 1):
            events.popleft()

    def __len__(self) -> int:
        return len(self._events)


class FailedLookups:
    """The join-code throttle of one process; see the module's docstring."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clients: SlidingWindows[Client] = SlidingWindows(clock)
        self._addresses: SlidingWindows[str] = SlidingWindows(clock)
        self._new_ids: SlidingWindows[str] = SlidingWindows(clock)

    def may_issue(self, address: str) -> bool:
        """Whether a cookie-less lookup from `address` gets a participant id of its own
        now (counted when it does)."""
        if self._new_ids.count(address) >= NEW_IDS_PER_MINUTE:
            return False
        self._new_ids.add(address, NEW_IDS_PER_MINUTE)
        return True

    def blocked(self, address: str, participant: str | None) -> bool:
        """Whether this client's lookups are refused now (`participant` None: no cookie)."""
        failures = self._clients.count((address, participant or ""))
        if failures >= FAILED_LOOKUPS_PER_MINUTE:
            return True
        clean = failures == 0 and participant is not None
        return not clean and self._addresses.count(address) >= ADDRESS_FAILURES_PER_MINUTE

    def failed(self, address: str, participant: str | None) -> None:
        self._clients.add((address, participant or ""), FAILED_LOOKUPS_PER_MINUTE)
        self._addresses.add(address, ADDRESS_FAILURES_PER_MINUTE)

    def __len__(self) -> int:
        """Clients with failures in the last minute."""
        return len(self._clients)


def client_address(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client is not None else "unknown"
