"""Helpers shared by every test folder: where the test services are, and what to do without them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pytest


def redis_url() -> str:
    """The Redis the tests use; database 15 is reserved for tests."""
    return os.environ.get("POLL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_or_skip(reason: str, env_var: str = "POLL_REQUIRE_REDIS") -> NoReturn:
    """Skip a test whose outside service is missing, or fail when `env_var`=1 demands it (CI)."""
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} ({env_var}=1 makes a missing service a failure)", pytrace=False)
    pytest.skip(f"{reason} (set {env_var}=1 to fail instead of skipping)")


def delete_keys(url: str, prefix: str) -> None:
    """Remove only the keys one test made (all under its own prefix): the database is shared.

    Synchronous on purpose: browser tests run inside Playwright's event loop, and
    async fixtures call it through `asyncio.to_thread`.
    """
    from redis import Redis

    client = Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
    finally:
        client.close()


def uvicorn_options(monkeypatch: pytest.MonkeyPatch, data: Path, *flags: str) -> dict[str, Any]:
    """What `poll serve [flags]` hands to uvicorn.run, without starting a server."""
    import uvicorn

    from poll.cli import main
    from poll.settings import ENV

    # `poll serve` writes its settings into os.environ for uvicorn's workers: have
    # monkeypatch restore them all, so no option leaks into the next test.
    # (delenv of an absent variable records nothing to restore; setenv first does.)
    for name in ENV.values():
        before = os.environ.get(name)
        monkeypatch.setenv(name, before or "")
        if before is None:
            monkeypatch.delenv(name)
    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **options: seen.update(options))
    monkeypatch.setenv("POLL_FACILITATOR_TOKEN", "uvicorn-options-token-3f9a2c7d")
    serve = [
        "serve",
        "--port",
        "0",
        "--store",
        f"sqlite:///{data}/poll.db",
        "--data-dir",
        str(data),
    ]
    assert main([*serve, *flags]) == 0
    return seen


STORE_TESTS = Path(__file__).resolve().parent / "store"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test on a store (`backend`, `store`) runs on SQLite and on Redis; the store
    contract suite (tests/store) also on a Redis Cluster of three masters, where what
    differs is the store alone, which that suite covers."""
    if "backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):
        if "backend" in str(marker.args[0]):
            return  # the test names its stores itself
    stores = ["sqlite", "redis"]
    if Path(metafunc.definition.path).resolve().is_relative_to(STORE_TESTS):
        stores.append("redis-cluster")
    metafunc.parametrize("backend", stores, indirect=True)
