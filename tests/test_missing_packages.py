"""A missing package skips what needs it, naming it, unless CI requires it (tests/conftest.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ABSENT = "no_such_package_for_poll_tests"


def pytest_in(folder: Path, *, required: bool) -> subprocess.CompletedProcess[str]:
    """pytest over `folder` with this project's conftest as a plugin."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("POLL_REQUIRE_PACKAGES", None)
    if required:
        env["POLL_REQUIRE_PACKAGES"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "tests.conftest",
            "-p",
            "no:cacheprovider",
            str(folder),
        ],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "test_module.py").write_text(f"import {ABSENT}\n\ndef test_a():\n    pass\n")
    needs = tmp_path / "needs"
    needs.mkdir()
    (needs / "conftest.py").write_text(f"from {ABSENT}.sub import thing\n")
    (needs / "test_inside.py").write_text("def test_b():\n    pass\n")
    (tmp_path / "test_body.py").write_text(
        f"def test_c():\n    import {ABSENT}\n\ndef test_d():\n    pass\n"
    )
    return tmp_path


def test_what_needs_a_missing_package_is_skipped_with_its_name(folder: Path) -> None:
    done = pytest_in(folder, required=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert done.stdout.count(f"{ABSENT} is not installed") == 3, done.stdout
    assert "1 passed, 3 skipped" in done.stdout


def test_ci_makes_a_missing_package_an_error(folder: Path) -> None:
    done = pytest_in(folder, required=True)
    assert done.returncode == 2, done.stdout[-2000:]
    assert "is not installed" not in done.stdout


def test_a_missing_module_of_the_project_itself_stays_an_error(tmp_path: Path) -> None:
    (tmp_path / "test_own.py").write_text("import poll.no_such_module\n")
    done = pytest_in(tmp_path, required=False)
    assert done.returncode == 2, done.stdout[-2000:]
    assert "No module named 'poll.no_such_module'" in done.stdout
