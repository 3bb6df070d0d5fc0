"""A store whose calls are timed: every coroutine method, for the store latency in /metrics.

Wraps any store without knowing it: each coroutine method is wrapped once, on
first use, and reports its duration (and whether it failed) to `record`.
Everything else (subscriptions, iterators, attributes) passes through as is.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable
from typing import Any, cast

from poll.store.base import Store

#: Not the live path's calls: the store's own lifecycle and the metrics reports.
UNTIMED = frozenset({"open", "close", "health", "report_metrics", "metrics_reports"})


class TimedStore:
    def __init__(self, store: Store, record: Callable[[float, bool], None]) -> None:
        self._store = store
        self._record = record

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._store, name)
        if name in UNTIMED or not inspect.iscoroutinefunction(attribute):
            return attribute
        record = self._record

        @functools.wraps(attribute)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            failed = True
            try:
                result = await attribute(*args, **kwargs)
                failed = False
                return result
            finally:
                record(time.perf_counter() - started, failed)

        setattr(self, name, timed)  # found directly from now on, without __getattr__
        return timed


def timed(store: Store, record: Callable[[float, bool], None]) -> Store:
    """`store` with its calls' durations reported to `record(seconds, failed)`."""
    return cast(Store, TimedStore(store, record))
