"""Helpers shared by every test folder: where the test services are, and what to do without them."""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any, NoReturn

import pytest

#: The project's own packages: an import of theirs that fails is a bug, never "not installed".
OWN_PACKAGES = frozenset({"poll", "tests", "bench"})
#: Set (CI) to make a test package that is not installed a collection error, not a skip.
REQUIRE_PACKAGES = "POLL_REQUIRE_PACKAGES"


def redis_url() -> str:
    """The Redis the tests use; database 15 is reserved for tests."""
    return os.environ.get("POLL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_or_skip(reason: str, env_var: str = "POLL_REQUIRE_REDIS") -> NoReturn:
    """Skip a test whose outside service is missing, or fail when `env_var`=1 demands it (CI)."""
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} ({env_var}=1 makes a missing service a failure)", pytrace=False)
    pytest.skip(f"{reason} (set {env_var}=1 to fail instead of skipping)")


class MissingPackages:
    """A test folder, module or test that needs a package not installed here (the test
    extras, a store's client) is skipped, naming the package, instead of stopping the
    whole collection with an error or failing; with POLL_REQUIRE_PACKAGES=1 (CI) it
    stays an error.

    A plugin of its own, not hooks of this conftest: pytest leaves the conftests out
    of the hooks that report a folder whose own conftest failed to import.
    """

    @pytest.hookimpl(wrapper=True)
    def pytest_make_collect_report(
        self, collector: pytest.Collector
    ) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
        report = yield
        call = getattr(report, "call", None)  # pytest keeps the collection's CallInfo there
        reason = _skip_reason(call.excinfo if report.failed and call is not None else None)
        if reason is None:
            return report
        where = (str(collector.path), 0, reason)
        return pytest.CollectReport(collector.nodeid, "skipped", where, [])

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        reason = _skip_reason(call.excinfo if report.failed else None)
        if reason is not None:
            report.outcome = "skipped"
            report.longrepr = (str(item.path), item.location[1] or 0, reason)
        return report


def _skip_reason(excinfo: pytest.ExceptionInfo[BaseException] | None) -> str | None:
    """Why to skip rather than fail: the package whose absence caused the error."""
    package = missing_package(excinfo.value) if excinfo is not None else None
    if package is None or os.environ.get(REQUIRE_PACKAGES) == "1":
        return None
    return (
        f"Skipped: {package} is not installed (pip install -e '.[test]';"
        f" set {REQUIRE_PACKAGES}=1 to fail instead of skipping)"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(MissingPackages(), "poll-missing-packages")


def missing_package(error: BaseException | None) -> str | None:
    """The package whose absence caused `error`: the first missing one along its chain
    of causes (a conftest's failure, a library's RuntimeError over a dependency it
    tried in turn), unless it is one of the project's own."""
    missing = None
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ModuleNotFoundError) and error.name:
            missing = error.name.split(".")[0]
        error = error.__cause__ or error.__context__
    return None if missing is None or missing in OWN_PACKAGES else missing


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
