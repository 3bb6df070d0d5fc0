"""/metrics: the installation's figures summed over every worker, for the facilitator only."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from starlette.testclient import TestClient

from poll.settings import Settings
from poll.store.base import Store
from poll.store.redis import RedisStore
from poll.web.app import create_app
from tests.conftest import delete_keys, redis_url
from tests.support.scripts import SCRIPT
from tests.support.servers import need_shared_redis
from tests.web.conftest import TOKEN, World
from tests.web.test_participant import next_of


def test_metrics_count_phones_votes_refusals_and_store_calls(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            next_of(ws, "snapshot")
            vote = {"type": "vote", "question_id": "herkennen", "submission_id": "sub-1"}
            ws.send_json({**vote, "answer": {"choice": "yes"}})
            assert next_of(ws, "ack")["status"] == "saved"
            ws.send_json({**vote, "submission_id": "sub-2", "answer": {"choice": "maybe"}})
            reason = next_of(ws, "refused")["reason"]
            with world.as_("facilitator") as facilitator:
                figures = facilitator.get("/metrics").json()

    total = figures["all"]
    assert total["processes"] == 1 and figures["store_error"] is None
    assert total["phones"] == 1 and total["phones_by_room"] == {room: 1}
    assert total["votes_total"] == 1 and total["votes_per_second"] > 0
    assert total["refusals"] == {reason: 1}
    assert total["snapshots_dropped"] >= 0
    assert total["store_calls_last_minute"] > 0 and total["store_ms_p50"] is not None
    assert list(figures["processes"]) == [figures["process"]]


def test_metrics_need_the_facilitator(world: World) -> None:
    with world.as_("phone") as phone:
        assert phone.get("/metrics").status_code in (401, 403)


def _worker(stack: ExitStack, tmp: Path, prefix: str) -> World:
    """One more `poll serve` process on the shared Redis: an app of its own, same prefix."""
    sessions = tmp / "sessions.yaml"
    if not sessions.exists():
        shutil.copy(SCRIPT, sessions)
    settings = Settings(
        store="unused://", sessions=sessions, data_dir=tmp / "data", token=TOKEN, public_url=None
    )

    def factory() -> Store:
        return RedisStore(redis_url(), prefix=prefix)

    app = create_app(settings, store_factory=factory)
    client = stack.enter_context(TestClient(app, base_url="http://testserver"))
    return World(app, client, sessions, "redis")


@contextmanager
def _two_workers(tmp: Path) -> Iterator[tuple[World, World]]:
    need_shared_redis(redis_url())
    prefix = f"pollweb-{uuid.uuid4().hex[:12]}"
    try:
        with ExitStack() as stack:
            yield _worker(stack, tmp, prefix), _worker(stack, tmp, prefix)
    finally:
        delete_keys(redis_url(), prefix)


def test_metrics_on_one_worker_show_every_workers_counts(tmp_path: Path) -> None:
    with _two_workers(tmp_path) as (one, two):
        room, code = one.start_run()
        one.go_to(room, "herkennen")
        two.sign_in()
        with one.as_("phone-a") as a, two.as_("phone-b") as b:
            a.get(f"/r/{code}")
            b.get(f"/r/{code}")
            with (
                a.websocket_connect(f"/ws/participant/{code}") as ws_a,
                b.websocket_connect(f"/ws/participant/{code}") as ws_b,
            ):
                next_of(ws_a, "snapshot")
                next_of(ws_b, "snapshot")
                vote = {"type": "vote", "question_id": "herkennen", "answer": {"choice": "no"}}
                ws_b.send_json({**vote, "submission_id": "b-1"})
                assert next_of(ws_b, "ack")["status"] == "saved"
                with two.as_("facilitator") as facilitator_b:
                    # Worker two's figures reach the store (as its timer would do).
                    assert facilitator_b.get("/metrics").status_code == 200
                with one.as_("facilitator") as facilitator_a:
                    figures = facilitator_a.get("/metrics").json()

        total = figures["all"]
        assert total["processes"] == 2 and len(figures["processes"]) == 2
        assert total["phones_by_room"] == {room: 2}
        assert total["votes_total"] == 1
        by_process = {pid: f["phones"] for pid, f in figures["processes"].items()}
        assert sorted(by_process.values(), key=str) == [{room: 1}, {room: 1}]
