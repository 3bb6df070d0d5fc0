"""A process's figures for /metrics, and their sum over processes."""

from __future__ import annotations

from poll.meter import BUCKETS_MS, WINDOW, Meter, combine


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rates_and_latencies_cover_the_last_minute_only() -> None:
    clock = Clock()
    meter = Meter(clock)
    meter.vote_saved()
    meter.store_call(0.500)
    clock.now += WINDOW + 1
    meter.vote_saved()
    meter.vote_saved()
    meter.store_call(0.002)
    meter.store_call(0.003, failed=True)
    meter.refused("voting_closed")
    meter.snapshot_dropped()

    figures = meter.figures({"r1": 4})

    assert figures["votes_last_minute"] == 2 and figures["votes_total"] == 3
    assert sum(figures["store_ms_buckets"]) == 2  # the 500 ms call left the window
    assert figures["refusals"] == {"voting_closed": 1}
    assert figures["snapshots_dropped"] == 1 and figures["store_errors"] == 1
    assert figures["phones"] == {"r1": 4}


def test_processes_add_up_and_percentiles_bound_the_samples() -> None:
    fast, slow = Meter(Clock()), Meter(Clock())
    for _ in range(98):
        fast.store_call(0.001)
    for _ in range(2):
        slow.store_call(0.250)
    fast.refused("invalid_answer")
    slow.refused("invalid_answer")
    slow.refused("rate_limited")

    total = combine([fast.figures({"r1": 3}), slow.figures({"r1": 2, "r2": 1})])

    assert total["processes"] == 2
    assert total["phones"] == 6 and total["phones_by_room"] == {"r1": 5, "r2": 1}
    assert total["refusals"] == {"invalid_answer": 2, "rate_limited": 1}
    assert total["store_calls_last_minute"] == 100
    # Each percentile is the upper bound of its bucket: at most 25 % above the samples.
    assert 1.0 <= total["store_ms_p50"] <= 1.25
    assert 250.0 <= total["store_ms_p99"] <= 312.5
    assert total["store_ms_p99"] in BUCKETS_MS


def test_no_calls_no_percentiles() -> None:
    assert combine([])["store_ms_p50"] is None
    assert combine([Meter().figures({})])["store_ms_p99"] is None
