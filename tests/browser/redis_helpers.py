"""Redis from the browser tests: Playwright's sync API keeps an event loop running
in the test thread, so these use the synchronous client."""

from __future__ import annotations

from redis import Redis
from redis.exceptions import RedisError

from tests.conftest import require_or_skip


def redis_available(url: str) -> None:
    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as error:
        require_or_skip(f"Redis is not reachable at {url} for the browser tests: {error}")
    finally:
        client.close()
