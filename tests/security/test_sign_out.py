"""Signing out signs out: a kept console cookie is void after a sign-out or a new
token, on every process; the token must be strong; wrong tokens are throttled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from poll import protocol
from poll.settings import Settings
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from poll.token import MIN_TOKEN_BITS, TokenError, load_or_create_token, token_bits
from poll.web.app import create_app
from poll.web.auth import CONSOLE_COOKIE
from poll.web.wrong_tokens import WRONG_TOKENS_PER_MINUTE
from tests.conftest import delete_keys, redis_url
from tests.support.scripts import SCRIPT
from tests.support.servers import need_shared_redis
from tests.web.conftest import TOKEN, World, csrf_of

ROOT = Path(__file__).resolve().parents[2]


def _sign_out(client: TestClient) -> None:
    csrf = csrf_of(client.get("/console").text)
    response = client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303


def test_a_cookie_kept_after_signing_out_opens_nothing(world: World) -> None:
    room, _code = world.start_run()
    kept = world.client.cookies[CONSOLE_COOKIE]
    assert world.client.get(f"/console/room/{room}/results.csv").status_code == 200
    _sign_out(world.client)
    assert CONSOLE_COOKIE not in world.client.cookies
    world.client.cookies.set(CONSOLE_COOKIE, kept)
    assert world.client.get("/console").status_code == 403
    assert world.client.get(f"/console/room/{room}/results.csv").status_code == 403
    assert world.client.get(f"/console/room/{room}").status_code == 403
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        world.client.websocket_connect(f"/ws/console/{room}") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == protocol.CLOSE_FORBIDDEN
    # Signing in again works, with a new cookie.
    world.sign_in()
    assert world.client.get(f"/console/room/{room}/results.csv").status_code == 200


def test_signing_out_signs_out_every_console_and_stops_an_open_socket(world: World) -> None:
    room, _code = world.start_run()
    with world.as_("laptop") as laptop:
        laptop.get(f"/console?token={TOKEN}")
        assert laptop.get("/console").status_code == 200
    with world.client.websocket_connect(f"/ws/console/{room}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        with world.as_("laptop") as laptop:
            _sign_out(laptop)
        ws.send_json({"type": "action", "action": "next", "request_id": "r1"})
        with pytest.raises(WebSocketDisconnect) as closed:
            for _ in range(20):
                assert ws.receive_json().get("type") != "done", "a signed-out socket acted"
        assert closed.value.code == protocol.CLOSE_FORBIDDEN
    assert world.client.get("/console").status_code == 403


@pytest.fixture
def two_processes(tmp_path: Path) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one Redis prefix, as two `poll serve` processes."""
    url = redis_url()
    need_shared_redis(url)
    prefix = f"pollsignout-{uuid.uuid4().hex[:12]}"
    shutil.copy(SCRIPT, tmp_path / "sessions.yaml")

    def app() -> Starlette:
        settings = Settings(
            sessions=tmp_path / "sessions.yaml", data_dir=tmp_path / "data", token=TOKEN
        )
        return create_app(settings, store_factory=lambda: RedisStore(url, prefix=prefix))

    try:
        with TestClient(app()) as one, TestClient(app()) as two:
            yield one, two
    finally:
        delete_keys(url, prefix)


def test_a_sign_out_on_one_process_reaches_the_others(
    two_processes: tuple[TestClient, TestClient],
) -> None:
    one, two = two_processes
    one.get(f"/console?token={TOKEN}")
    kept = one.cookies[CONSOLE_COOKIE]
    two.cookies.set(CONSOLE_COOKIE, kept)
    assert two.get("/console").status_code == 200, "a cookie is good on every process"
    _sign_out(two)
    assert one.get("/console").status_code == 403


def _app_with_token_file(tmp_path: Path) -> Starlette:
    shutil.copy(SCRIPT, tmp_path / "sessions.yaml")
    settings = Settings(sessions=tmp_path / "sessions.yaml", data_dir=tmp_path / "data")
    return create_app(settings, store_factory=lambda: SqliteStore(tmp_path / "poll.db"))


def _poll(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLL_")}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "poll.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_poll_token_rotate_makes_a_new_token_and_signs_every_console_out(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with TestClient(_app_with_token_file(tmp_path)) as client:
        old = load_or_create_token(data)
        assert _poll("token", "--data-dir", str(data)).stdout.strip() == old
        client.get(f"/console?token={old}")
        assert client.get("/console").status_code == 200

        rotated = _poll(
            "token", "--rotate", "--data-dir", str(data), "--store", f"sqlite:///{tmp_path}/poll.db"
        )
        assert rotated.returncode == 0, rotated.stderr
        new = rotated.stdout.strip()
        assert new != old and token_bits(new) >= MIN_TOKEN_BITS
        assert (data / "facilitator-token").read_text().strip() == new
        assert (data / "facilitator-token").stat().st_mode & 0o777 == 0o600
        assert "signed out" in rotated.stderr

        assert client.get("/console").status_code == 403, "the old cookie is void"
        assert client.get(f"/console?token={old}").status_code == 403, "the old token too"
        assert client.get(f"/console?token={new}").status_code == 200


def test_poll_token_rotate_refuses_a_token_from_the_environment(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLL_")}
    env |= {"PYTHONPATH": str(ROOT), "POLL_FACILITATOR_TOKEN": TOKEN}
    result = subprocess.run(
        [sys.executable, "-m", "poll.cli", "token", "--rotate", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert "POLL_FACILITATOR_TOKEN" in result.stderr and "restart" in result.stderr
    assert not (tmp_path / "facilitator-token").exists()


@pytest.mark.parametrize(
    "weak",
    [
        "t",
        "secret",
        "correct-horse",
        "0123456789abcdef",  # 64 bits of hex
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "abababababababababababababababababab",
        "Zz0-" * 10,
    ],
)
def test_a_weak_token_stops_the_server_with_advice(tmp_path: Path, weak: str) -> None:
    with pytest.raises(TokenError, match=r"POLL_FACILITATOR_TOKEN .*token_urlsafe"):
        load_or_create_token(tmp_path, weak)
    result = _poll_serve_with(tmp_path, weak)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "facilitator token" in result.stderr and "128" in result.stderr


def _poll_serve_with(tmp_path: Path, token: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLL_")}
    env |= {"PYTHONPATH": str(ROOT), "POLL_FACILITATOR_TOKEN": token}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "poll.cli",
            "serve",
            "--port",
            "0",
            "--sessions",
            str(SCRIPT),
            "--data-dir",
            str(tmp_path),
            "--store",
            f"sqlite:///{tmp_path}/poll.db",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    "strong",
    [
        "3f9a2c7d1e4b5a6978c0d1e2f3a4b5c6",  # 32 hex digits
        "Jx4_kPq9-Lm2Rt7Vw3Yz8A",  # 22 of base64url
        TOKEN,
    ],
)
def test_a_strong_token_is_taken(tmp_path: Path, strong: str) -> None:
    assert load_or_create_token(tmp_path, strong) == strong


def test_a_weak_token_file_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "facilitator-token").write_text("hunter2\n")
    with pytest.raises(TokenError, match="facilitator-token is too easy to guess"):
        load_or_create_token(tmp_path)


def test_a_generated_token_is_strong(tmp_path: Path) -> None:
    assert token_bits(load_or_create_token(tmp_path)) >= 192


def test_wrong_tokens_are_throttled_per_address(tmp_path: Path) -> None:
    app = _app_with_token_file(tmp_path)
    with TestClient(app, client=("198.51.100.7", 40000)) as guesser:
        token = load_or_create_token(tmp_path / "data")
        for n in range(WRONG_TOKENS_PER_MINUTE):
            assert guesser.get("/console", params={"token": f"guess-{n}"}).status_code == 403
        refused = guesser.get("/console", params={"token": "guess-again"})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert "Too many wrong tokens" in refused.text
        # Even the right token: the answer must not tell a guesser she found it.
        assert guesser.get("/console", params={"token": token}).status_code == 429
        assert guesser.post("/console/login", data={"token": token}).status_code == 429
    with TestClient(app, client=("198.51.100.8", 40000)) as facilitator:
        assert facilitator.get("/console", params={"token": token}).status_code == 200
