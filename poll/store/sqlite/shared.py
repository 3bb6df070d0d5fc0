"""What every SqliteStore of this process shares per database file: change signals and presence.

Two store objects on one file (two "workers" in a test, a store closed and
opened again) see each other's changes and presence reports, as two processes
on one Redis do. Both live in memory only: one SQLite file serves one server
process, and presence is about that process's connections.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Shared:
    """One database file's change signals and presence."""

    fanout: Fanout = field(default_factory=Fanout)
    presence: Presence = field(default_factory=Presence)


_lock = threading.Lock()
_by_file: dict[str, Shared] = {}


def shared(key: str) -> Shared:
    """What the stores of this process on the database file `key` (its resolved path) share."""
    with _lock:
        found = _by_file.get(key)
        if found is None:
            found = _by_file[key] = Shared()
        return found
