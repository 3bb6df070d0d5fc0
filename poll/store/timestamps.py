"""Times as both stores keep them: integer milliseconds since the epoch, in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)


def from_ms(value: int | str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone: pass an aware UTC datetime")
    return int(value.timestamp() * 1000)
