"""nginx from Debian as the TLS reverse proxy of docs/deploy.md, run by a test.

The site config is deploy/nginx.conf itself, with only what must differ on a test
machine changed: free loopback ports instead of 80/443, the two backends' ports,
and a self-signed certificate made here with `openssl req`. Each change must find
its text exactly once, so the test notices when the config it checks drifts.

nginx runs in the foreground (`daemon off`), unprivileged (as `nobody` when the
test runs as root), with every file it writes in a folder of its own.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.support.processes import Reaper, free_port, spawn

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx.conf"
NGINX = os.environ.get("POLL_NGINX", "/usr/sbin/nginx")
#: Set to 1 (as CI does) to fail instead of skipping when a deployment tool is missing.
REQUIRE = "POLL_REQUIRE_DEPLOY"

#: The main config around the site: the parts /etc/nginx/nginx.conf has on a server.
MAIN = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/poll.conf;
}}
"""


def need_nginx() -> None:
    """Skip (or fail, with POLL_REQUIRE_DEPLOY=1 as in CI) without nginx and openssl."""
    for binary in (NGINX, shutil.which("openssl") or "/usr/bin/openssl"):
        if not (Path(binary).exists() and os.access(binary, os.X_OK)):
            require_or_skip(f"{binary} not found (apt-get install nginx openssl)", REQUIRE)


def replace_once(text: str, old: str, new: str) -> str:
    count = text.count(old)
    assert count == 1, f"deploy/nginx.conf should hold {old!r} once, not {count} times"
    return text.replace(old, new)


def site_for_test(site: str, *, http: int, https: int, backends: list[int], cert: Path) -> str:
    """deploy/nginx.conf with the test machine's ports and certificate."""
    assert len(backends) == 2
    site = replace_once(site, "server 127.0.0.1:8001;", f"server 127.0.0.1:{backends[0]};")
    site = replace_once(site, "server 127.0.0.1:8002;", f"server 127.0.0.1:{backends[1]};")
    site = replace_once(site, "    listen 80;\n", f"    listen 127.0.0.1:{http};\n")
    site = replace_once(site, "    listen [::]:80;\n", "")
    site = replace_once(site, "    listen 443 ssl;\n", f"    listen 127.0.0.1:{https} ssl;\n")
    site = replace_once(site, "    listen [::]:443 ssl;\n", "")
    live = "/etc/letsencrypt/live/poll.example.org"
    site = replace_once(site, f"{live}/fullchain.pem", str(cert / "cert.pem"))
    return replace_once(site, f"{live}/privkey.pem", str(cert / "key.pem"))


def self_signed(folder: Path) -> None:
    """A certificate for 127.0.0.1, as a venue's test setup would make one."""
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip


@dataclass
class Nginx:
    """nginx in front of two backends on loopback; `start()` waits until TLS answers."""

    backends: list[int]
    reaper: Reaper
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="poll-nginx-")))

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def start(self) -> Nginx:
        need_nginx()
        for sub in ("tmp", "cert"):
            (self.folder / sub).mkdir()
        self_signed(self.folder / "cert")
        site = site_for_test(
            SITE.read_text(encoding="utf-8"),
            http=self.http_port,
            https=self.https_port,
            backends=self.backends,
            cert=self.folder / "cert",
        )
        (self.folder / "poll.conf").write_text(site, encoding="utf-8")
        conf = self.folder / "nginx.conf"
        conf.write_text(MAIN.format(dir=self.folder), encoding="utf-8")
        command = [NGINX, "-e", "stderr", "-p", str(self.folder), "-c", str(conf)]
        if os.geteuid() == 0:  # as root: hand everything to nobody and run as nobody
            nobody = pwd.getpwnam("nobody")
            for path in [self.folder, *self.folder.rglob("*")]:
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            command = [
                "setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                "--clear-groups", "--", *command,
            ]  # fmt: skip
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        assert checked.returncode == 0, f"nginx -t refused the config:\n{checked.stderr}"
        process = spawn(
            [*command, "-g", "daemon off;"],
            self.folder / "nginx.out",
            self.folder,
            dict(os.environ),
        )
        self.reaper.track(process)
        deadline = time.monotonic() + 30
        while not self._answers():
            if process.poll() is not None or time.monotonic() > deadline:
                out = (self.folder / "nginx.out").read_text(errors="replace")
                pytest.fail(f"nginx did not start:\n{out}\n{self.log}")
            time.sleep(0.1)
        return self

    def _answers(self) -> bool:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        try:
            with (
                socket.create_connection(("127.0.0.1", self.https_port), timeout=2) as raw,
                context.wrap_socket(raw),
            ):
                return True
        except OSError:
            return False

    def cleanup(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
