"""Shared by the security tests: the web `world`, hypothesis profiles, store dumps, figures.

The figures (inputs tried, payloads tried, attacks refused, votes lost) are
counted while the tests run, printed at the end of the run and written to
tests/artifacts/security-figures.json, so docs/security.md can quote them.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from poll.store.base import Store
from tests.support.artifacts import artifacts
from tests.support.browser import browser  # noqa: F401 - the fixture, re-exported
from tests.web.conftest import World, world  # noqa: F401 - the fixture, re-exported

# "security" (default) keeps the whole set within a couple of minutes on two
# cores; "thorough" is for a nightly or a pre-release run.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}
settings.register_profile("security", max_examples=120, **_COMMON)
settings.register_profile("thorough", max_examples=2000, **_COMMON)
PROFILE = os.environ.get("POLL_SECURITY_PROFILE", "security")


def examples(share: float = 1.0) -> int:
    """This test's share of the profile's examples."""
    base: int = settings.get_profile(PROFILE).max_examples
    return max(10, int(base * share))


#: What the security tests tried and what came of it (see the module docstring).
FIGURES: Counter[str] = Counter()


def count(kind: str, n: int = 1) -> None:
    FIGURES[kind] += n


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FIGURES:
        return
    terminalreporter.section("security figures")
    for kind, n in sorted(FIGURES.items()):
        terminalreporter.write_line(f"{kind}: {n}")
    (artifacts() / "security-figures.json").write_text(
        json.dumps(dict(sorted(FIGURES.items())), indent=2) + "\n", encoding="utf-8"
    )


async def _dump(store: Store, room_ids: tuple[str, ...]) -> dict[str, Any]:
    dump: dict[str, Any] = {}
    for room_id in room_ids:
        state = await store.room(room_id)
        responses = [
            # The ref is its own column: the answer as a phone is acknowledged it.
            (r.question_id, r.participant, r.ref, replace(r.answer, ref=None).to_json(), r.hidden)
            async for r in store.responses(room_id)
        ]
        aggregates = {
            qid: (a.respondents, dict(a.counts), [(t.ref, t.text, t.hidden) for t in a.texts])
            for qid, a in (await store.aggregates(room_id)).items()
        }
        dump[room_id] = {
            "state": (
                state.current,
                state.current_question,
                dict(state.questions),
                sorted(state.shown),
                state.version,
                state.ended_at,
            ),
            "responses": responses,
            "aggregates": aggregates,
        }
    return dump


def store_dump(place: World, *room_ids: str) -> dict[str, Any]:
    """Everything the store holds about these rooms, read on the app's own event loop."""
    portal = place.client.portal
    assert portal is not None, "the TestClient is not running"
    store = place.app.state.poll.store
    result: dict[str, Any] = portal.call(_dump, store, room_ids)
    return result


@pytest.fixture
def generous_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the per-connection message rate and the join-code throttle, so that a fuzz
    test's thousands of messages reach the code under test instead of the limiter
    (the limits themselves are tested in test_limits.py)."""
    from poll.web import live_ws, throttle

    for audience, limits in list(live_ws.LIMITS.items()):
        monkeypatch.setitem(live_ws.LIMITS, audience, limits._replace(rate=1e9, burst=10**9))
    monkeypatch.setattr(throttle, "FAILED_LOOKUPS_PER_MINUTE", 10**9)
    monkeypatch.setattr(throttle, "ADDRESS_FAILURES_PER_MINUTE", 10**9)
