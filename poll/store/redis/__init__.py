"""The Redis store: several worker processes and hosts share one Redis.

Hashes, sets and sorted sets are the truth; pub/sub only says "room R changed,
version V".

    keys.py       where everything is kept: the key layout, one hash slot per room
    client.py     the connection: one Redis, or a Redis Cluster (`?cluster=1`)
    lua/          the scripts: each change to a room is one atomic step
    scripts.py    loads them
    pipeline.py   votes made at the same moment share one round trip
    listener.py   the pub/sub reader and the version check: changes made by
                  other processes reach this process's subscribers
    records.py    Redis replies read back as rooms and responses
    errors.py     redis-py's failures as StoreError, without the password
    store.py      RedisStore: the contract's methods
"""

from poll.store.redis.store import RedisStore

__all__ = ["RedisStore"]
