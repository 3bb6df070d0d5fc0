"""Helpers shared by every test folder: where the test services are, and what to do without them."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def redis_url() -> str:
    """The Redis the tests use; database 15 is reserved for tests."""
    return os.environ.get("POLL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_or_skip(reason: str, env_var: str = "POLL_REQUIRE_REDIS") -> NoReturn:
    """Skip a test whose outside service is missing, or fail when `env_var`=1 demands it (CI)."""
    if os.environ.get(env_var) == "1":
        pytest.fail(f"{reason} ({env_var}=1 makes a missing service a failure)", pytrace=False)
    pytest.skip(f"{reason} (set {env_var}=1 to fail instead of skipping)")
