"""The figures an operator watches, counted in each process and summed over all of them.

Each process counts what it does (`Meter`); the hub reports the figures to the
store every few seconds, and /metrics sums every live process's report
(`combine`), so the answer is the same whichever worker or host it hits.
Windows are the last minute: a rate and a latency say how things are now.
"""

from __future__ import annotations

import bisect
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

#: The window of rates and latencies, in seconds.
WINDOW = 60.0
#: Store call durations kept per window at most (the newest): bounds memory in a burst.
MAX_SAMPLES = 20_000
#: Upper bounds (ms) of the latency buckets: each 25 % above the last, 0.1 ms to about
#: 17 s. Processes report counts per bucket, which add up; a percentile is read as
#: the upper bound of its bucket (at most 25 % above the true figure).
BUCKETS_MS: tuple[float, ...] = tuple(round(0.1 * 1.25**i, 3) for i in range(55))


class Meter:
    """One process's counts: votes, refusals by reason, dropped snapshots, store latency."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._votes: deque[float] = deque()
        self._calls: deque[tuple[float, float]] = deque(maxlen=MAX_SAMPLES)
        self.votes_total = 0
        self.refusals: Counter[str] = Counter()
        self.snapshots_dropped = 0
        self.store_errors = 0

    def vote_saved(self) -> None:
        self.votes_total += 1
        self._votes.append(self._clock())

    def refused(self, reason: str) -> None:
        self.refusals[reason] += 1

    def snapshot_dropped(self) -> None:
        """An unsent snapshot was replaced by a newer one (a slow reader)."""
        self.snapshots_dropped += 1

    def store_call(self, seconds: float, failed: bool = False) -> None:
        self._calls.append((self._clock(), seconds))
        if failed:
            self.store_errors += 1

    def figures(self, phones: Mapping[str, int]) -> dict[str, Any]:
        """This process's report; `phones` is connected participants per room."""
        since = self._clock() - WINDOW
        while self._votes and self._votes[0] < since:
            self._votes.popleft()
        while self._calls and self._calls[0][0] < since:
            self._calls.popleft()
        return {
            "phones": dict(phones),
            "votes_last_minute": len(self._votes),
            "votes_total": self.votes_total,
            "refusals": dict(self.refusals),
            "snapshots_dropped": self.snapshots_dropped,
            "store_errors": self.store_errors,
            "store_ms_buckets": _buckets(seconds * 1000 for _, seconds in self._calls),
        }


def combine(reports: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Every process's figures summed: what /metrics shows as the installation's."""
    phones: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    buckets = [0] * (len(BUCKETS_MS) + 1)
    votes_minute = votes_total = dropped = errors = processes = 0
    for report in reports:
        processes += 1
        phones.update(report.get("phones", {}))
        refusals.update(report.get("refusals", {}))
        for i, count in enumerate(report.get("store_ms_buckets", [])[: len(buckets)]):
            buckets[i] += int(count)
        votes_minute += int(report.get("votes_last_minute", 0))
        votes_total += int(report.get("votes_total", 0))
        dropped += int(report.get("snapshots_dropped", 0))
        errors += int(report.get("store_errors", 0))
    return {
        "processes": processes,
        "phones": sum(phones.values()),
        "phones_by_room": dict(sorted(phones.items())),
        "votes_per_second": round(votes_minute / WINDOW, 2),
        "votes_total": votes_total,
        "refusals": dict(sorted(refusals.items())),
        "snapshots_dropped": dropped,
        "store_errors": errors,
        "store_calls_last_minute": sum(buckets),
        "store_ms_p50": _percentile(buckets, 0.50),
        "store_ms_p99": _percentile(buckets, 0.99),
    }


def _buckets(durations_ms: Iterable[float]) -> list[int]:
    """Counts per bucket of BUCKETS_MS, and a last one for anything slower."""
    counts = [0] * (len(BUCKETS_MS) + 1)
    for ms in durations_ms:
        counts[bisect.bisect_left(BUCKETS_MS, ms)] += 1
    return counts


def _percentile(buckets: list[int], share: float) -> float | None:
    """The upper bound (ms) of the bucket holding the `share` quantile; None without calls."""
    total = sum(buckets)
    if not total:
        return None
    rank = share * total
    seen = 0
    for i, count in enumerate(buckets):
        seen += count
        if seen >= rank and count:
            return BUCKETS_MS[min(i, len(BUCKETS_MS) - 1)]  # the last: "at least"
    return None
