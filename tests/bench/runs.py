"""The bench's commands as the tests run them: `python -m bench …` in the project's folder."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m bench ARGS`, which must succeed (its stderr's end says why not)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", done.stderr)
    if done.returncode != 0 and missing is not None:
        # Raised here, the conftest's MissingPackages skips the test (or fails it in CI).
        raise ModuleNotFoundError(f"the bench needs {missing[1]}", name=missing[1])
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def run_load(tmp_path: Path, phones: int, *args: str, timeout: float = 120) -> dict[str, Any]:
    """`bench load` with `phones` phones in one client process, without the baseline:
    poll's summary."""
    out = tmp_path / "load.json"
    run_bench(
        *("load", "--participants", str(phones), "--no-baseline", "--clients", "1"),
        *("--json", str(out), *args),
        timeout=timeout,
    )
    result: dict[str, Any] = json.loads(out.read_text())["poll"]
    return result
