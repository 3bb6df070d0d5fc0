"""The Redis store's URL options: `prefix` and `cluster`, read by poll, not by redis-py."""

from __future__ import annotations

import pytest

from poll.store import StoreError, open_store
from poll.store.redis import RedisStore
from poll.store.redis.client import split_options


def test_cluster_and_prefix_are_taken_off_the_url() -> None:
    url, prefix, cluster = split_options(
        "redis://:secret@10.0.0.5:7000/0?cluster=1&prefix=team-a&ssl_cert_reqs=none"
    )
    assert (url, prefix, cluster) == (
        "redis://:secret@10.0.0.5:7000/0?ssl_cert_reqs=none",
        "team-a",
        True,
    )


def test_a_plain_url_is_no_cluster() -> None:
    assert split_options("redis://127.0.0.1:6379/15") == ("redis://127.0.0.1:6379/15", None, False)
    assert split_options("redis://127.0.0.1:6379/15?cluster=0")[2] is False


def test_open_store_makes_a_cluster_store() -> None:
    store = open_store("rediss://node-1:7000?cluster=yes&prefix=p")
    assert isinstance(store, RedisStore)
    assert store.cluster and store.prefix == "p" and store.url == "rediss://node-1:7000"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h:7000/3?cluster=1", "has only database 0"),
        ("unix:///run/redis.sock?cluster=1", "redis:// or rediss://"),
        ("redis://h:7000/0?cluster=maybe", "use cluster=1"),
        ("redis://h:7000/0?prefix=a%20b", "bad prefix"),
    ],
)
def test_bad_cluster_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        open_store(url)
