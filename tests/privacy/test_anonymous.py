"""Participants stay anonymous: no address, no browser, no name in the store or the
logs; old runs can be deleted with `poll purge` on either store."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from poll.cli import main, purge_runs
from poll.rooms import Rooms
from poll.store.base import Store
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from tests.conftest import delete_keys, redis_url, uvicorn_options
from tests.support.scripts import ENGLISH, fixture_script
from tests.support.servers import TOKEN, PollServer, need_shared_redis
from tests.web.conftest import World

ADDRESS = "203.0.113.77"
BROWSER = "Mozilla/5.0 (PrivacyMarker; Android 14) UA-MARKER-8c1f"
MARKERS = (ADDRESS, "UA-MARKER", "PrivacyMarker", "testclient")


def everything_in_sqlite(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return "\n".join(
            repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"')
        )
    finally:
        db.close()


def everything_in_redis(prefix: str) -> str:
    import redis

    client = redis.Redis.from_url(redis_url(), decode_responses=True)
    dump = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        kind = client.type(key)
        value: Any = {
            "string": client.get, "hash": client.hgetall, "set": client.smembers,
            "zset": lambda k: client.zrange(k, 0, -1, withscores=True),
            "list": lambda k: client.lrange(k, 0, -1), "stream": lambda k: client.xrange(k),
        }.get(kind, lambda k: None)(key)  # fmt: skip
        dump.append(f"{key} {value!r}")
    return "\n".join(dump)


def test_the_store_keeps_no_address_and_no_browser(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "aanvullende-vragen")
    headers = {"user-agent": BROWSER, "x-forwarded-for": ADDRESS, "x-real-ip": ADDRESS}
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}", headers=headers).text
        phone.get("/join", params={"code": "0000001"}, headers=headers)  # a failed lookup too
        token = page.split('name="token" value="', 1)[1].split('"', 1)[0]
        data = {"token": token, "question_id": "aanvullende-vragen", "submission_id": "s1",
                "text": "mijn vraag"}  # fmt: skip
        assert phone.post(f"/r/{code}", data=data, headers=headers).status_code == 200
        with phone.websocket_connect(f"/ws/participant/{code}", headers=headers) as ws:
            ws.receive_json()
            ws.send_json({"type": "vote", "question_id": "aanvullende-vragen",
                          "submission_id": "s2", "answer": {"text": "nog een"}})  # fmt: skip
            while ws.receive_json()["type"] != "ack":
                pass
    if world.kind == "sqlite":
        stored = everything_in_sqlite(world.sessions.parent / "poll.db")
    else:
        prefix = world.app.state.poll.store.prefix
        stored = everything_in_redis(prefix)
    assert "mijn vraag" in stored and "nog een" in stored  # we did look at the right data
    for marker in MARKERS:
        assert marker not in stored, f"{marker!r} is stored"


def test_serve_writes_no_access_log_by_default_and_no_addresses_with_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import logging

    from poll.web.logs import PrivateAccessFilter

    assert uvicorn_options(monkeypatch, tmp_path)["access_log"] is False
    assert uvicorn_options(monkeypatch, tmp_path, "--log-level", "debug")["access_log"] is False
    seen = uvicorn_options(monkeypatch, tmp_path, "--access-log")
    assert seen["access_log"] is True
    handler = seen["log_config"]["handlers"]["access"]
    assert handler["filters"] == ["private"]
    # uvicorn's access record: (address, method, path with query, HTTP version, status).
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        (f"{ADDRESS}:51234", "GET", "/console?token=SECRET", "1.1", 200), None,
    )  # fmt: skip
    assert PrivateAccessFilter().filter(record)
    line = record.getMessage()
    assert ADDRESS not in line and "SECRET" not in line and "/console" in line


def test_a_real_server_logs_requests_without_addresses_or_tokens(tmp_path: Path) -> None:
    # uvicorn's own log level (info), so that its access lines are written at all.
    server = PollServer(
        tmp_path, f"sqlite:///{tmp_path}/poll.db", name="serve", log_level=None,
        extra=("--access-log",),
    ).start()  # fmt: skip
    try:
        url = server.url
        httpx.get(f"{url}/console?token={TOKEN}", headers={"user-agent": BROWSER})
        httpx.get(f"{url}/r/0000000")
    finally:
        server.stop()
    text = server.log.read_text()
    requests = [line for line in text.splitlines() if '"GET ' in line]
    assert any("/console" in line for line in requests), text
    assert not any("127.0.0.1" in line or TOKEN in line or "UA-MARKER" in line
                   for line in requests), requests  # fmt: skip


async def _runs_for_purge(store: Store) -> tuple[str, str, str]:
    """Three runs: one ended (with answers), one ended but kept, one still running."""
    script = fixture_script()
    rooms = Rooms(store, lambda: script)
    old = await rooms.create(ENGLISH)
    await old.next()
    await old.vote("anna-id", "on-track", "s1", {"choice": "yes"})
    await old.end()
    recent = await rooms.create(ENGLISH)
    await recent.end()
    running = await rooms.create(ENGLISH)
    return old.id, recent.id, running.id


async def _purge_on(store: Store) -> tuple[str, str, str]:
    await store.open()
    try:
        old, recent, running = await _runs_for_purge(store)
        # "Ended more than a day ago", seen from a day and a bit later, for `old` only:
        # `recent` ended at the same moment, so a cutoff between them is not possible;
        # instead: nothing is older than one day now, everything ended is older than 0.
        assert await purge_runs(store, 1, yes=True, now=datetime.now(UTC)) == 0
        assert {r.id for r in await store.rooms()} >= {old, recent, running}
        later = datetime.now(UTC) + timedelta(days=2)
        assert await purge_runs(store, 1, yes=True, now=later) == 0
        left = {r.id for r in await store.rooms()}
        assert old not in left and recent not in left and running in left
        assert [r async for r in store.responses(running)] == []
        return old, recent, running
    finally:
        await store.close()


def test_purge_deletes_ended_runs_and_their_answers_on_sqlite(tmp_path: Path) -> None:
    asyncio.run(_purge_on(SqliteStore(tmp_path / "poll.db")))


@pytest.mark.redis
def test_purge_deletes_ended_runs_and_their_answers_on_redis() -> None:
    need_shared_redis(redis_url())
    prefix = f"pollpurge-{uuid.uuid4().hex[:12]}"
    try:
        old, recent, running = asyncio.run(_purge_on(RedisStore(redis_url(), prefix=prefix)))
        left = everything_in_redis(prefix)
        assert old not in left and recent not in left and running in left  # no key, no index
    finally:
        delete_keys(redis_url(), prefix)


def test_poll_purge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    async def setup() -> tuple[str, str, str]:
        store = SqliteStore(tmp_path / "poll.db")
        await store.open()
        try:
            return await _runs_for_purge(store)
        finally:
            await store.close()

    old, recent, running = asyncio.run(setup())
    store = f"sqlite:///{tmp_path}/poll.db"
    assert main(["purge", "--older-than", "30", "--store", store, "--yes"]) == 0
    assert "nothing to delete" in capsys.readouterr().out
    # Without --yes and without a terminal to ask on: nothing deleted, and why.
    assert main(["purge", "--older-than", "0", "--store", store]) == 1
    assert "add --yes" in capsys.readouterr().err
    assert main(["purge", "--older-than", "0", "--store", store, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 run(s)" in out and old in out and recent in out and running not in out
    assert main(["purge", "--older-than", "-1", "--store", store, "--yes"]) == 1
