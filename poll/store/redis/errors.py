"""What a Redis failure means to the caller: a StoreError that names the server, not the password.

redis-py reports a server that is away in several ways (its own connection
and timeout errors, OSError, and uvloop's RuntimeError on a closed transport);
all of them become "cannot reach Redis at URL: reason", which may be retried.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from poll.store.base import StoreError


def plain_reason(error: BaseException) -> str:
    """ "connection refused" rather than redis-py's "Error 111 connecting to …" text."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused"
        if isinstance(seen, socket.gaierror):
            return f"unknown host ({seen})"
        seen = seen.__cause__ or seen.__context__
    text = str(error)
    if "Connect call failed" in text or "Connection refused" in text:
        return "connection refused"
    return text or type(error).__name__


def safe_url(url: str) -> str:
    """The URL without its password, for messages and health reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + host))


def transport_closed(error: BaseException) -> bool:
    """uvloop's way of saying the connection is gone, which redis-py passes on as is.

    Writing to a socket that Redis has just closed (CLIENT KILL, a restart) can
    raise `RuntimeError: unable to perform operation on <TCPTransport closed=True
    …>; the handler is closed` from inside redis-py's reconnection.
    """
    return isinstance(error, RuntimeError) and "handler is closed" in str(error)


def unreachable(url: str, error: BaseException) -> StoreError:
    return StoreError(
        f"cannot reach Redis at {safe_url(url)}: {plain_reason(error)}"
        " (is the server running, and is the URL right?)"
    )


@contextlib.contextmanager
def store_errors(url: str) -> Iterator[None]:
    """Turn what redis-py raises into StoreError; a bug of ours passes through."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        raise unreachable(url, error) from error
    except RuntimeError as error:
        if not transport_closed(error):
            raise
        raise unreachable(url, error) from error
    except RedisError as error:
        raise StoreError(f"Redis at {safe_url(url)} refused: {error}") from error
