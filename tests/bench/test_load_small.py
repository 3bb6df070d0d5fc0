"""A small run of the load generator (`python -m bench load`) on every store.

One hundred phones join, vote (a tenth change their answer), and follow the
facilitator to the next item, against a real `poll serve` started by the
bench. Checked here: every vote acknowledged, none lost or doubled in the
tally or the CSV export, every phone reached by the move. Never timings: the
machine is shared, and timings belong in docs/performance.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.bench.runs import run_bench, run_load
from tests.conftest import redis_url
from tests.support.servers import need_shared_redis

PHONES = 100

pytestmark = pytest.mark.load


def check(result: dict[str, Any]) -> None:
    assert result["join"]["joined"] == PHONES, result["join"]
    assert result["join"]["failed"] == 0, result["join"]
    vote = result["vote"]
    assert vote["first"] == PHONES
    assert vote["not_acked"] == 0, vote["statuses"]
    correct = result["correct"]
    assert correct["lost"] == 0 and correct["doubled"] == 0, correct
    assert correct["csv_rows"] == PHONES, correct
    assert correct["csv_lost"] == 0 and correct["csv_doubled"] == 0, correct
    assert correct["respondents"] == PHONES and correct["ok"], correct
    assert result["fanout"]["reached"] == PHONES, result["fanout"]
    # The generator says what it cost beside the server (its share of the CPU both used)
    # and how late its own event loops ran in the burst.
    for part in (result["join"], vote):
        assert part["generator_cpu_s"] > 0 and 0 < part["generator_share"] < 1, part
    assert 0 < result["generator"]["share"] < 1, result["generator"]
    assert vote["generator_lag_ms"]["n"] > 0, vote["generator_lag_ms"]


def test_embedded_store_keeps_every_vote(tmp_path: Path) -> None:
    check(run_load(tmp_path, PHONES))


@pytest.mark.redis
def test_redis_with_two_workers_keeps_every_vote(tmp_path: Path) -> None:
    url = redis_url()
    need_shared_redis(url)
    check(run_load(tmp_path, PHONES, "--store", url, "--workers", "2"))


@pytest.mark.parametrize("server", ["websockets", "uvicorn"])
def test_each_baseline_server_counts_every_vote(tmp_path: Path, server: str) -> None:
    out = tmp_path / "load.json"
    run_bench(
        *("load", "--participants", str(PHONES), "--clients", "1", "--json", str(out)),
        *("--baseline-server", server),
    )
    summary = json.loads(out.read_text())
    assert summary["baseline_server"] == server
    base = summary["baseline"]
    assert base["join"]["joined"] == PHONES and base["join"]["failed"] == 0, base["join"]
    assert base["vote"]["not_acked"] == 0, base["vote"]["statuses"]
    assert base["correct"]["ok"] and base["correct"]["lost"] == 0, base["correct"]
    assert base["fanout"]["reached"] == PHONES, base["fanout"]
    assert summary["ratio_to_baseline"]["server_cpu"] > 0
