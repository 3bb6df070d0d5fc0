"""Ports and processes, without pytest: shared by the tests and the load generator (bench/).

Every process started here runs in a process group of its own, so that killing the
group also ends what it started (uvicorn's worker processes).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import subprocess
import sys
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_command(
    port: int,
    store: str,
    sessions: Path,
    data_dir: Path,
    *,
    workers: int = 1,
    log_level: str | None = "warning",
    extra: tuple[str, ...] = (),
) -> list[str]:
    """The command line of `poll serve` on loopback, run by this very interpreter."""
    command = [
        sys.executable, "-m", "poll.cli", "serve",
        "--host", "127.0.0.1", "--port", str(port),
        "--store", store, "--sessions", str(sessions),
        "--data-dir", str(data_dir), "--workers", str(workers),
    ]  # fmt: skip
    if log_level is not None:
        command += ["--log-level", log_level]
    return [*command, *extra]


def spawn(
    command: list[str], log: Path, cwd: Path, env: dict[str, str], *, open_files: int | None = None
) -> subprocess.Popen[bytes]:
    """Start `command` in a new process group, its output appended to `log`; with
    `open_files`, under that open-file limit, soft and hard (as `ulimit -n` would)."""

    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    with log.open("ab") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env,
            start_new_session=True, preexec_fn=limit if open_files is not None else None,
        )  # fmt: skip


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal the process's whole group (uvicorn workers too), then reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(15)
    if process.poll() is None:  # SIGTERM ignored: no leftovers
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(15)


class Reaper:
    """Every process a test started; killed (whole group) at teardown, whatever happened."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def track(self, process: subprocess.Popen[bytes]) -> None:
        self.processes.append(process)

    def reap(self) -> None:
        for process in self.processes:
            kill_group(process)
