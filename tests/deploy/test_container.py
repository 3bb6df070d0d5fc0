"""The Dockerfile and compose.yaml: what they promise, read from the files everywhere,
and — where a container engine runs — built and started: poll answers, a phone's
vote is stored in Redis's append-only file and is still there after both containers
are recreated.

Without a working engine (no daemon, no compose plugin, or no base images to be had)
the run skips with the reason; POLL_REQUIRE_DEPLOY=1 does not force it, as a CI
machine need not run containers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml

from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, phones_for
from tests.support.processes import free_port
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


# What the files promise (no engine needed) -------------------------------------------


def test_redis_keeps_an_append_only_file_in_a_volume_and_is_not_published() -> None:
    redis = compose()["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "always"
    assert "ports" not in redis, "Redis must not be reachable from outside the host"
    assert "redis-data:/data" in redis["volumes"]
    assert redis["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert compose()["networks"]["backend"]["internal"] is True
    assert redis["networks"] == ["backend"]


def test_poll_runs_as_a_user_of_its_own_with_its_data_in_a_volume() -> None:
    poll = compose()["services"]["poll"]
    assert poll["user"] == "10001:10001"
    assert "USER 10001:10001" in DOCKERFILE.read_text(encoding="utf-8")
    assert poll["read_only"] is True and poll["cap_drop"] == ["ALL"]
    assert "poll-data:/data" in poll["volumes"]
    assert poll["environment"]["POLL_STORE"] == "redis://redis:6379/0"
    assert poll["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(poll["healthcheck"]["test"])
    # Published on loopback unless told otherwise (a proxy on the host in front).
    assert poll["ports"] == ["${POLL_BIND:-127.0.0.1}:${POLL_HOST_PORT:-8000}:8000"]


def test_the_image_is_built_from_files_that_exist_with_pip_from_the_given_index() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            *sources, _target = line.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
    assert "ARG PIP_INDEX_URL" in text
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8")
    for needed in ("pyproject.toml", "README.md", "poll/", "templates/", "static/", "locale/"):
        assert f"!{needed}" in ignored


# Built and started, where an engine runs ----------------------------------------------


def engine_or_skip() -> str:
    """The docker binary when its engine and compose plugin answer, else skip with why."""
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no container engine: the docker command is not installed")
    info = subprocess.run(
        [docker, "info", "--format", "{{.ServerVersion}}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if info.returncode != 0:
        lines = (info.stderr or info.stdout).strip().splitlines() or ["nothing"]
        pytest.skip(f"no container engine runs here: `docker info` says: {lines[-1]}")
    plugin = subprocess.run(
        [docker, "compose", "version"], capture_output=True, text=True, timeout=60
    )
    if plugin.returncode != 0:
        pytest.skip(f"docker runs but has no compose plugin: {plugin.stderr.strip()}")
    for image in ("python:3.11-slim-bookworm", "redis:7-bookworm"):
        have = subprocess.run([docker, "image", "inspect", image], capture_output=True, timeout=60)
        if have.returncode != 0:
            pulled = subprocess.run(
                [docker, "pull", image], capture_output=True, text=True, timeout=600
            )
            if pulled.returncode != 0:
                pytest.skip(f"the base image {image} is not here and cannot be pulled")
    return docker


Compose = Callable[..., str]


@pytest.fixture
def stack() -> Iterator[tuple[Compose, str]]:
    """`docker compose ARGS…` for a project of this test's own, and poll's URL; the
    project, its containers and its volumes are removed after."""
    docker = engine_or_skip()
    project = f"polltest{uuid.uuid4().hex[:10]}"
    port = free_port()
    env = {
        **os.environ,
        "POLL_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "POLL_HOST_PORT": str(port),
        "POLL_SESSIONS_FILE": str(ROOT / "tests" / "fixtures" / "sessions.yaml"),
    }
    base = [docker, "compose", "-f", str(COMPOSE), "-p", project]

    def run(*args: str, timeout: float = 900) -> str:
        done = subprocess.run(
            [*base, *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
        )
        assert done.returncode == 0, f"docker compose {' '.join(args)}:\n{done.stderr[-3000:]}"
        return done.stdout

    try:
        run("build")
        run("up", "-d", "--wait")
        yield run, f"http://127.0.0.1:{port}"
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans"], env=env, timeout=300, cwd=ROOT)


async def test_compose_runs_poll_on_redis_and_keeps_the_votes(
    stack: tuple[Compose, str],
) -> None:
    compose_run, url = stack
    assert compose_run("exec", "-T", "poll", "id", "-u").strip() == "10001"
    token = compose_run("exec", "-T", "poll", "cat", "/data/facilitator-token").strip()
    assert re.fullmatch(r"[\w-]{20,}", token)

    facilitator = Facilitator(url)
    try:
        reply = await facilitator.client.get(f"/console?token={token}")
        assert reply.status_code == 303
        await facilitator.start_run("drill")
        await facilitator.go_to("ideas")
        tally = Tally()
        [phone] = await phones_for(1, [url], facilitator.code, tally)
        await phone.vote("ideas", {"text": "kept across a restart"}, "container-1")
        await phone.close()
        assert list(tally.acked.values()) == ["kept across a restart"]

        # Both containers recreated: the vote comes back from Redis's append-only file.
        compose_run("up", "-d", "--wait", "--force-recreate")

        async def healthy() -> bool:
            try:
                return (await facilitator.client.get("/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await eventually(healthy, "poll answers after the restart", within=120)
        rows = await facilitator.csv_rows()
        assert [row["answer"] for row in rows] == ["kept across a restart"]
    finally:
        await facilitator.aclose()
