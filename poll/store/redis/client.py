"""The connection: one Redis server, or a Redis Cluster (`?cluster=1` on the URL).

On a cluster every key of a room carries the room's hash tag (`keys.py`), so
each script and each MULTI touches one hash slot and runs unchanged on the
node that owns it; the global keys (room index, join codes, sign-in epoch)
are only ever used one at a time. Changes are announced with sharded pub/sub
(SPUBLISH/SSUBSCRIBE, Redis 7.0 and later) on a cluster: a message then stays
on the shard that owns the room instead of being copied to every node.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import AskError, ClusterDownError, ExecAbortError, MovedError

from poll.store.base import StoreError


class GatedCluster(RedisCluster):
    """A cluster client whose callers wait for a free connection rather than fail.

    redis-py's cluster pools raise "too many connections" at their limit
    instead of waiting (the single-server store uses a blocking pool): a
    thousand phones joining at once would see errors. At most `gate`
    commands are in flight at once; the per-node pools are sized above it,
    leaving room for pipelines and the pub/sub connections.
    """

    def __init__(self, *args: Any, gate: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate = asyncio.Semaphore(gate)

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        async with self._gate:
            return await super().execute_command(*args, **kwargs)


#: Either kind of client: both have the commands the store uses.
Client = Redis | RedisCluster

_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off", ""}


def split_options(url: str) -> tuple[str, str | None, bool]:
    """The URL without poll's own query options, its `prefix`, and whether `cluster` is on.

    Raises StoreError naming the URL when an option is malformed.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix: str | None = None
    cluster = False
    rest = []
    for key, value in query:
        if key == "prefix":
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", value):
                raise StoreError(
                    f"bad prefix {value!r} in {url!r}: use letters, digits, '.', '_', '-'",
                    retry=False,
                )
            prefix = value
        elif key == "cluster":
            if value.lower() not in _YES | _NO:
                raise StoreError(
                    f"bad cluster={value!r} in {url!r}: use cluster=1 for a Redis Cluster",
                    retry=False,
                )
            cluster = value.lower() in _YES
        else:
            rest.append((key, value))
    if cluster:
        if parts.scheme not in ("redis", "rediss"):
            raise StoreError(
                f"{url!r}: a Redis Cluster is reached over redis:// or rediss://, not {parts.scheme}://",
                retry=False,
            )
        if parts.path.strip("/") not in ("", "0"):
            raise StoreError(
                f"{url!r}: a Redis Cluster has only database 0; drop {parts.path!r} from the URL",
                retry=False,
            )
    return urlunsplit(parts._replace(query=urlencode(rest))), prefix, cluster


def connect(url: str, *, cluster: bool, max_connections: int, client_name: str | None) -> Client:
    """A client (not yet connected) with the store's timeouts and retries."""
    if not cluster:
        return single(url, max_connections=max_connections, client_name=client_name)
    # One pool per node, each up to max_connections; a node that moves or
    # fails over is found again from the cluster's own slot map.
    return GatedCluster.from_url(
        url,
        gate=max_connections,
        max_connections=2 * max_connections + 16,
        **_options(client_name),
    )


def single(url: str, *, max_connections: int, client_name: str | None) -> Redis:
    """A client of one Redis server."""
    pool = BlockingConnectionPool.from_url(
        url,
        # A burst of votes waits for a free connection instead of failing
        # with "Too many connections" (what the plain pool does at its limit).
        max_connections=max_connections,
        timeout=10,
        **_options(client_name),
    )
    return Redis(connection_pool=pool)


def _options(client_name: str | None) -> dict[str, Any]:
    """What both kinds of client share: timeouts, retries, a name."""
    return {
        "decode_responses": True,
        "socket_connect_timeout": 2,
        "socket_keepalive": True,
        "health_check_interval": 30,
        # Names this process's connections in CLIENT LIST (operators, fault tests).
        "client_name": client_name,
        # Few, quick retries: open() must fail fast when Redis is down, and a
        # retried vote is safe because its submission id makes it idempotent.
        "retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
    }


def sharded_source(source: str) -> str:
    """A script that announces its change with SPUBLISH: on a cluster, to the room's shard.

    The channel carries the room's hash tag, so it lies in the slot of the
    script's keys, as Redis requires of a script's sharded channel.
    """
    return source.replace("redis.call('PUBLISH',", "redis.call('SPUBLISH',")


#: How often a transaction is sent again after its slot moved to another node.
MOVED_ATTEMPTS = 3


class Transactions:
    """MULTI/EXEC on the node that owns a key's slot.

    A Redis Cluster runs a transaction whose keys share one slot, but redis-py's
    cluster pipelines queue each command of a transaction through a thread of
    its own (far too slow for the reads every snapshot makes) and refuse
    EVALSHA (the votes' pipelines). So a cluster's transactions and vote
    pipelines go through a plain client per node, the slot's owner taken from
    the cluster client's map (asked again when Redis says it moved).
    """

    def __init__(
        self, url: str, client: Client, *, max_connections: int, client_name: str | None
    ) -> None:
        self._url = url
        self._client = client
        self._max_connections = max_connections
        self._client_name = client_name
        self._nodes: dict[str, Redis] = {}

    async def run(self, key: str, queue: Callable[[Any], object]) -> list[Any]:
        """Queue commands with `queue(pipe)` (all on `key`'s slot) and run them as one MULTI."""
        for attempt in range(MOVED_ATTEMPTS):
            target = self.target(key)
            async with target.pipeline(transaction=True) as pipe:
                queue(pipe)
                try:
                    replies: list[Any] = await pipe.execute()
                    return replies
                except (MovedError, AskError, ExecAbortError):
                    cluster = self._client
                    if not isinstance(cluster, RedisCluster) or attempt == MOVED_ATTEMPTS - 1:
                        raise
            await cluster.nodes_manager.initialize()
        raise AssertionError("unreachable")  # pragma: no cover

    async def refresh(self) -> None:
        """Read the cluster's slot map again (after Redis answered MOVED or ASK)."""
        if isinstance(self._client, RedisCluster):
            await self._client.nodes_manager.initialize()

    def target(self, key: str) -> Redis:
        """The plain client of the node owning `key`'s slot (the client itself off a cluster)."""
        if isinstance(self._client, Redis):
            return self._client
        node = self._client.get_node_from_key(key)
        if node is None:
            raise ClusterDownError(f"no node of the cluster serves the slot of {key!r}")
        client = self._nodes.get(node.name)
        if client is None:
            parts = urlsplit(self._url)
            user = parts.netloc.rpartition("@")[0]
            netloc = f"{user}@{node.host}:{node.port}" if user else f"{node.host}:{node.port}"
            client = single(
                urlunsplit(parts._replace(netloc=netloc)),
                max_connections=self._max_connections,
                client_name=self._client_name,
            )
            self._nodes[node.name] = client
        return client

    async def close(self) -> None:
        nodes, self._nodes = self._nodes, {}
        for client in nodes.values():
            await client.aclose(close_connection_pool=True)
