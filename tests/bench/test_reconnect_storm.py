"""The reconnect storm of the load generator (`python -m bench load --reconnect-storm`).

Two hundred phones vote, then all drop at once, mid-question, and reconnect
within 5 s with their cookies, against a real `poll serve` on every store.
Checked: every phone is back with a snapshot of the question and exactly the
answers its last ack listed, and still follows the facilitator afterwards.
Never timings (the machine is shared; docs/performance.md has them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.bench.runs import run_load
from tests.conftest import redis_url
from tests.support.servers import need_shared_redis

PHONES = 200

pytestmark = pytest.mark.load


def storm(tmp_path: Path, *args: str) -> dict[str, Any]:
    return run_load(tmp_path, PHONES, "--reconnect-storm", "5", *args, timeout=180)


def check(result: dict[str, Any]) -> None:
    assert result["vote"]["not_acked"] == 0, result["vote"]["statuses"]
    back = result["storm"]
    assert back["phones"] == PHONES, back
    assert back["failed"] == 0 and back["wrong_item"] == 0 and back["wrong_answers"] == 0, back
    assert back["back"] == PHONES and back["with_answers"] == PHONES, back
    assert result["fanout"]["reached"] == PHONES, result["fanout"]


def test_every_phone_comes_back_with_its_item_and_answers_on_the_embedded_store(
    tmp_path: Path,
) -> None:
    check(storm(tmp_path))


@pytest.mark.redis
def test_every_phone_comes_back_with_its_item_and_answers_on_redis_with_two_workers(
    tmp_path: Path,
) -> None:
    url = redis_url()
    need_shared_redis(url)
    check(storm(tmp_path, "--store", url, "--workers", "2"))
