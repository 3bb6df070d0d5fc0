"""The connection caps' arithmetic (the drills in tests/fault/test_connection_flood.py
run them against a real server)."""

from __future__ import annotations

import logging

import pytest

from poll.web import connections
from poll.web.connections import Limits, Registry, reserved


def test_an_address_past_its_cap_gets_only_the_reserve_then_nothing() -> None:
    registry = Registry(Limits(files=100, per_address=3, phones=5, ceiling=20))
    assert [registry.admit("a") for _ in range(3)] == ["normal"] * 3
    reserve = [registry.admit("a") for _ in range(connections.RESERVE_PER_ADDRESS)]
    assert reserve == ["reserve"] * connections.RESERVE_PER_ADDRESS
    assert registry.admit("a") is None, "past its reserve an address is closed at once"
    assert registry.admit("b") == "reserve", "the phones' share (5) is taken"
    registry.release("a", "normal")
    registry.release("a", "reserve")
    assert registry.admit("a") == "reserve", "still at the phones' share"
    for kind in ["normal"] * 2 + ["reserve"] * connections.RESERVE_PER_ADDRESS:
        registry.release("a", kind)
    assert registry.open == 1 and "a" not in registry.per_address
    assert registry.admit("b") == "normal", "room again once the others left"


def test_past_the_ceiling_everything_is_closed_at_once() -> None:
    registry = Registry(Limits(files=100, per_address=50, phones=2, ceiling=4))
    kinds = [registry.admit(f"address-{n}") for n in range(5)]
    assert kinds == ["normal", "normal", "reserve", "reserve", None]
    assert registry.open == 4


def test_the_reserve_is_for_the_facilitator_projector_and_health_checks() -> None:
    for path in ("/healthz", "/console", "/console/room/r1", "/projector/r1", "/metrics",
                 "/static/poll.css", "/ws/console/r1", "/ws/projector/r1"):  # fmt: skip
        assert reserved(path), path
    for path in ("/", "/join", "/r/1234567", "/j/1234567", "/ws/participant/1234567"):
        assert not reserved(path), path


def test_the_per_address_cap_fits_the_open_file_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connections.resource, "getrlimit", lambda _kind: (1024, 1024))
    limits = Limits.for_this_process()
    assert limits.ceiling == 1024 - connections.SPARE
    assert limits.phones == limits.ceiling - connections.RESERVE
    assert limits.per_address == limits.phones * 3 // 4  # 5,000 would take every descriptor
    monkeypatch.setattr(connections.resource, "getrlimit", lambda _kind: (20_000, 20_000))
    assert Limits.for_this_process().per_address == connections.PER_ADDRESS
    monkeypatch.setenv(connections.PER_ADDRESS_ENV, "12000")
    assert Limits.for_this_process().per_address == 12_000


async def test_refusals_are_reported_at_most_every_few_seconds_without_addresses(
    caplog: pytest.LogCaptureFixture,
) -> None:
    registry = Registry(Limits(files=100, per_address=1, phones=1, ceiling=2))
    with caplog.at_level(logging.WARNING, logger="poll.web.connections"):
        registry.admit("198.51.100.7")
        registry.admit("198.51.100.7")
        for _ in range(50):
            registry.admit("198.51.100.7")
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1, lines
    assert "refused (server full)" in lines[0] and "198.51.100.7" not in lines[0]
    assert registry.refused["refused (server full)"] == 49, "the rest waits for the next line"
