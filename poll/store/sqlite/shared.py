"""What every SqliteStore of this process shares per database file: change signals,
presence and metrics reports.

Two store objects on one file (two "workers" in a test, a store closed and
opened again) see each other's changes and reports, as two processes on one
Redis do. All live in memory only: one SQLite file serves one server process
(`poll serve` refuses several workers on it), and presence and metrics are
about that process.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from poll.store.fanout import Fanout


class Presence:
    """Participants connected per room, as each process last reported them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, tuple[int, float]]] = {}

    def report(self, room_id: str, process_id: str, count: int, now: float, ttl: float) -> bool:
        """Record a report; True when the live total changed."""
        with self._lock:
            entries = self._rooms.setdefault(room_id, {})
            before = _live_total(entries, now, ttl)
            entries[process_id] = (count, now)
            for pid, (_, seen) in list(entries.items()):
                if seen < now - ttl:
                    del entries[pid]
            return _live_total(entries, now, ttl) != before

    def total(self, room_id: str, now: float, ttl: float) -> int:
        with self._lock:
            return _live_total(self._rooms.get(room_id, {}), now, ttl)

    def forget(self, room_id: str) -> None:
        with self._lock:
            self._rooms.pop(room_id, None)


def _live_total(entries: Mapping[str, tuple[int, float]], now: float, ttl: float) -> int:
    return sum(count for count, seen in entries.values() if seen >= now - ttl)


class Reports:
    """Each process's latest metrics report (for /metrics) and when it came."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reports: dict[str, tuple[float, dict[str, Any]]] = {}

    def report(self, process_id: str, figures: Mapping[str, Any], now: float) -> None:
        with self._lock:
            self._reports[process_id] = (now, dict(figures))

    def live(self, now: float, ttl: float) -> dict[str, dict[str, Any]]:
        with self._lock:
            for process_id in [p for p, (seen, _) in self._reports.items() if seen < now - ttl]:
                del self._reports[process_id]
            return {p: dict(figures) for p, (_, figures) in self._reports.items()}


@dataclass(frozen=True)
class Shared:
    """One database file's change signals, presence and metrics reports."""

    fanout: Fanout = field(default_factory=Fanout)
    presence: Presence = field(default_factory=Presence)
    reports: Reports = field(default_factory=Reports)


_lock = threading.Lock()
_by_file: dict[str, Shared] = {}


def shared(key: str) -> Shared:
    """What the stores of this process on the database file `key` (its resolved path) share."""
    with _lock:
        found = _by_file.get(key)
        if found is None:
            found = _by_file[key] = Shared()
        return found
