"""deploy/poll@.service passes `systemd-analyze verify` without a single warning (an
unknown key or a bad value is only a warning there, so any output fails the test),
holds the hardening docs/deploy.md promises, and scores as well exposed as "OK"."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.support.nginx import REQUIRE

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "poll@.service"
INSTALLED_AT = "/opt/poll/venv/bin/poll"


def analyze() -> str:
    found = shutil.which("systemd-analyze")
    if found is None:
        require_or_skip("systemd-analyze not found (apt-get install systemd)", REQUIRE)
    return str(found)


def instance(tmp_path: Path) -> Path:
    """The unit as `poll@8001`, its ExecStart pointed at an executable that exists here
    (verify checks that it does; poll is not installed at /opt on a test machine)."""
    fake = tmp_path / "bin" / "poll"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    text = UNIT.read_text(encoding="utf-8")
    assert text.count(INSTALLED_AT) == 1
    (tmp_path / "poll@.service").write_text(text.replace(INSTALLED_AT, str(fake)))
    link = tmp_path / "poll@8001.service"
    link.symlink_to("poll@.service")
    return link


def test_the_unit_verifies_cleanly(tmp_path: Path) -> None:
    done = subprocess.run(
        [analyze(), "verify", str(instance(tmp_path))], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_the_unit_is_hardened(tmp_path: Path) -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service.get("User") == "poll" or service.get("DynamicUser") == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["NoNewPrivileges"] == "yes"
    assert service["Restart"] == "on-failure"
    assert int(service["LimitNOFILE"]) >= 4096, "1,000 phones need more than 1,024 files"
    assert service["StateDirectory"] == "poll"
    assert "--data-dir /var/lib/poll" in service["ExecStart"]

    done = subprocess.run(
        [analyze(), "security", "--offline=true", str(instance(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if "--offline" in done.stderr and "unrecognized" in done.stderr:
        pytest.skip(f"this systemd-analyze has no offline security check: {done.stderr.strip()}")
    score = re.search(r"Overall exposure level for poll@8001\.service: ([\d.]+) (\w+)", done.stdout)
    assert score, done.stdout[-2000:] + done.stderr
    assert float(score.group(1)) <= 2.0, f"exposure {score.group(1)} {score.group(2)}"
