"""A private Redis Cluster of three masters on loopback, without pytest: for the store
tests and the load generator (bench/).

Each node is a redis-server with `--cluster-enabled yes` and `--appendonly yes`
on a free port, in a folder of its own; `redis-cli --cluster create` shares the
16,384 slots among them. Everything is stopped (and its folder left to the
caller) when the context ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.support.processes import free_port, kill_group, spawn

REDIS_SERVER = os.environ.get("POLL_REDIS_SERVER", "/usr/bin/redis-server")
REDIS_CLI = os.environ.get("POLL_REDIS_CLI", str(Path(REDIS_SERVER).with_name("redis-cli")))
#: Masters of the test cluster.
NODES = 3
#: How long the cluster may take to agree on its slots (seconds).
READY_WITHIN = 60.0


class ClusterUnavailable(RuntimeError):
    """redis-server or redis-cli is missing, or the cluster did not come up."""


def cluster_tools_missing() -> str | None:
    """Why no cluster can be started here, or None when it can."""
    for tool in (REDIS_SERVER, REDIS_CLI):
        if not shutil.which(tool):
            return f"{tool} not found (set POLL_REDIS_SERVER to the redis-server binary)"
    return None


@contextlib.contextmanager
def redis_cluster(folder: Path) -> Iterator[str]:
    """Start the cluster; yield its store URL (`redis://127.0.0.1:P/0?cluster=1`)."""
    missing = cluster_tools_missing()
    if missing:
        raise ClusterUnavailable(missing)
    folder.mkdir(parents=True, exist_ok=True)
    ports = _ports(NODES)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:
            node = folder / f"node-{port}"
            node.mkdir(exist_ok=True)
            command = [
                REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                "--cluster-enabled", "yes",
                "--cluster-config-file", str(node / f"nodes-{port}.conf"),
                "--appendonly", "yes", "--save", "", "--dir", str(node),
                "--daemonize", "no", "--logfile", "",
            ]  # fmt: skip
            processes.append(spawn(command, folder / f"redis-{port}.log", node, dict(os.environ)))
        for port, process in zip(ports, processes, strict=True):
            log = folder / f"redis-{port}.log"
            _wait(
                lambda port=port: _cli(port, "PING") == "PONG",
                f"node {port} answers PING",
                process,
                log,
            )
        create = [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports)]
        done = subprocess.run(
            [*create, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=READY_WITHIN,
            check=False,
        )
        if done.returncode != 0:
            failure = f"{done.stdout}{done.stderr}"
            raise ClusterUnavailable(f"redis-cli --cluster create failed: {failure}")
        for port in ports:
            _wait(lambda port=port: "cluster_state:ok" in _cli(port, "CLUSTER", "INFO"), "state ok")
        yield f"redis://127.0.0.1:{ports[0]}/0?cluster=1"
    finally:
        for process in processes:
            kill_group(process, signal.SIGTERM)  # waits, then SIGKILLs what still runs


def _ports(count: int) -> list[int]:
    """Free ports whose cluster bus ports (port + 10000) are free too."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port + 10000 < 65536 and port not in ports and _free(port + 10000):
            ports.append(port)
    return ports


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _cli(port: int, *args: str) -> str:
    done = subprocess.run(
        [REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=5,
        check=False,
    )
    return done.stdout.strip()


def _wait(
    ready: Callable[[], bool],
    what: str,
    process: subprocess.Popen[bytes] | None = None,
    log: Path | None = None,
) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            said = log.read_text(errors="replace")[-1000:] if log and log.exists() else ""
            raise ClusterUnavailable(
                f"the test Redis Cluster: redis-server exited with {process.returncode}"
                f" before {what}: {said}"
            )
        with contextlib.suppress(subprocess.TimeoutExpired, OSError):
            if ready():
                return
        time.sleep(0.1)
    raise ClusterUnavailable(f"the test Redis Cluster: waited {READY_WITHIN:.0f} s for {what}")
