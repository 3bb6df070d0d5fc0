"""The durability bench runs end to end on a few votes (its figures are for docs, not asserted)."""

from __future__ import annotations

import json

import pytest

from bench import durability
from tests.support.servers import need_redis_server


async def test_the_durability_bench_measures_every_setting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    need_redis_server()
    assert await durability.main(["--votes", "300", "--concurrency", "20"]) == 0
    last = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    settings = {(r["store"], r["setting"]) for r in last["results"]}
    assert settings == {
        ("redis", "appendfsync everysec"),
        ("redis", "appendfsync always"),
        ("sqlite", "synchronous=NORMAL"),
        ("sqlite", "synchronous=FULL"),
    }
    assert all(r["votes_per_s"] > 0 for r in last["results"])
