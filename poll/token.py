"""The facilitator's secret token: given in the environment, or kept in a file.

`poll serve` prints the console link with it before the server starts, and the
app checks sign-ins against it; both read it here, so that the command line
needs nothing of the web layer to find it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

TOKEN_FILE = "facilitator-token"


class TokenError(Exception):
    """The token file cannot be read or written; the message says where and why."""


def load_or_create_token(data_dir: Path, given: str | None = None) -> str:
    """The facilitator token: `given` (POLL_FACILITATOR_TOKEN), else the one kept in
    `data_dir`, else a new one written there readable by its owner only (0600)."""
    if given:
        return given
    path = data_dir / TOKEN_FILE
    try:
        return _read_token(path)
    except FileNotFoundError:
        pass
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = secrets.token_urlsafe(24)
        # O_EXCL: when several workers start at once, exactly one writes the file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_token(path)
    except OSError as exc:
        raise TokenError(f"cannot create {path}: {exc.strerror}; check --data-dir") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return token


def _read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TokenError(f"cannot read {path}: {exc.strerror}") from None
    if not token:
        raise TokenError(f"{path} is empty: delete it to get a new token")
    return token
