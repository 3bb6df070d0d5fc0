"""`python -m bench snapshot` runs and reports one phone's cost in both rooms (never timed)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.runs import run_bench


def test_the_snapshot_cost_bench_reads_every_sampled_phones_answers(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'bench.db'}"
    done = run_bench(
        *("snapshot", "--store", store, "--small", "20", "--large", "200", "--phones", "30")
    )
    [result] = json.loads(done.stdout.splitlines()[-1])["results"]
    assert result["store"] == "sqlite"
    assert [room["answers"] for room in result["rooms"]] == [20, 200]
    assert all(room["phones"] == 30 for room in result["rooms"])
    assert result["ratio_wall"] is not None and result["ratio_cpu"] is not None
