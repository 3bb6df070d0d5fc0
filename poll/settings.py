"""Server settings, from the command line or the POLL_* environment variables.

`poll serve` writes its options into the environment so that every uvicorn
worker process (started by import string) builds the same settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from poll.proxies import ProxyIpsError, parse_proxy_ips

DEFAULT_STORE = "sqlite:///./poll-data/poll.db"
DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8000

ENV = {
    "host": "POLL_HOST",
    "port": "POLL_PORT",
    "store": "POLL_STORE",
    "sessions": "POLL_SESSIONS",
    "public_url": "POLL_PUBLIC_URL",
    "workers": "POLL_WORKERS",
    "data_dir": "POLL_DATA_DIR",
    "token": "POLL_FACILITATOR_TOKEN",
    "proxy_ips": "POLL_PROXY_IPS",
}


class SettingsError(Exception):
    """A setting has a value poll cannot use; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    store: str = DEFAULT_STORE
    sessions: Path = Path("sessions.yaml")
    data_dir: Path = Path("poll-data")
    public_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    workers: int = 1
    token: str | None = None
    # Reverse proxies whose X-Forwarded-For/-Proto are believed (see poll/proxies.py).
    proxy_ips: tuple[str, ...] = ()
    # Extra origins allowed to open websockets (besides the page's own host).
    extra_origins: tuple[str, ...] = field(default=())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            value = env.get(ENV[name], "").strip()
            return value or None

        def integer(name: str, default: int) -> int:
            raw = get(name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                raise SettingsError(f"{ENV[name]}={raw!r} is not a whole number") from None

        public_url = get("public_url")
        if public_url is not None:
            public_url = public_url.rstrip("/")
            if not public_url.startswith(("http://", "https://")):
                raise SettingsError(
                    f"{ENV['public_url']}={public_url!r} must start with http:// or https://"
                )
        try:
            proxy_ips = parse_proxy_ips(get("proxy_ips") or "")
        except ProxyIpsError as exc:
            raise SettingsError(f"{ENV['proxy_ips']}: {exc}") from None
        return cls(
            store=get("store") or DEFAULT_STORE,
            sessions=Path(get("sessions") or "sessions.yaml"),
            data_dir=Path(get("data_dir") or "poll-data"),
            public_url=public_url,
            host=get("host") or DEFAULT_HOST,
            port=integer("port", DEFAULT_PORT),
            workers=integer("workers", 1),
            token=get("token"),
            proxy_ips=proxy_ips,
        )

    def to_env(self) -> dict[str, str]:
        env = {
            ENV["store"]: self.store,
            ENV["sessions"]: str(self.sessions),
            ENV["data_dir"]: str(self.data_dir),
            ENV["host"]: self.host,
            ENV["port"]: str(self.port),
            ENV["workers"]: str(self.workers),
        }
        if self.public_url:
            env[ENV["public_url"]] = self.public_url
        if self.token:
            env[ENV["token"]] = self.token
        if self.proxy_ips:
            env[ENV["proxy_ips"]] = ",".join(self.proxy_ips)
        return env
