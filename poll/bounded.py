"""A dict that keeps at most a given number of entries, forgetting the oldest.

For what a process remembers per visitor or per code (checked cookies, join
codes, a throttle's recent failures): memory that a stream of strangers could
otherwise grow without end. "Oldest" is the entry added first (dicts keep
insertion order); reading an entry does not make it younger.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Bounded(dict[K, V]):
    """At most `limit` entries: adding a new key past it drops the oldest first."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = max(1, limit)

    def __setitem__(self, key: K, value: V) -> None:
        if key not in self and len(self) >= self.limit:
            del self[next(iter(self))]
        super().__setitem__(key, value)
