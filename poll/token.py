"""The facilitator's secret token: given in the environment, or kept in a file.

`poll serve` prints the console link with it before the server starts, and the
app checks sign-ins against it; both read it here, so that the command line
needs nothing of the web layer to find it. `poll token --rotate` writes a new
one in place; running servers read the file again when it changes.

A token must be hard to guess even for someone who may try it for days: at
least `MIN_TOKEN_BITS` bits, estimated from its length and the kinds of
characters it uses (`token_bits`), so 32 hex digits or 22 characters of
base64url (`secrets.token_urlsafe`) at least.
"""

from __future__ import annotations

import math
import os
import secrets
import string
from pathlib import Path

TOKEN_FILE = "facilitator-token"
_BASE64URL = frozenset(string.ascii_letters + string.digits + "-_")
MIN_TOKEN_BITS = 128
#: Fewer different characters than this is a pattern, not a secret, whatever its length.
MIN_DISTINCT = 8
#: What `load_or_create_token` and `rotate_token` make: 32 characters, 192 bits.
NEW_TOKEN_BYTES = 24


class TokenError(Exception):
    """The token cannot be used, read or written; the message says where, why, and what to do."""


def new_token() -> str:
    return secrets.token_urlsafe(NEW_TOKEN_BYTES)


def token_bits(token: str) -> float:
    """How many bits a token has at most, judged by its length and alphabet: the
    smallest usual alphabet holding all its characters: hex digits, base64url
    (both cases), else the classes it mixes (lower case, upper case, digits,
    everything else)."""
    if not token:
        return 0.0
    lower = any(c in string.ascii_lowercase for c in token)
    upper = any(c in string.ascii_uppercase for c in token)
    digits = any(c in string.digits for c in token)
    if all(c in string.hexdigits for c in token) and not (lower and upper):
        pool = 16
    elif all(c in _BASE64URL for c in token) and lower and upper:
        # Random base64url lacks a digit or '-'/'_' now and then; it is still base64url.
        pool = 64
    else:
        other = any(c not in string.ascii_letters + string.digits for c in token)
        pool = 26 * lower + 26 * upper + 10 * digits + 33 * other
    return len(token) * math.log2(pool)


def check_token(token: str, where: str) -> str:
    """`token` if it is strong enough; else TokenError saying why and what to do."""
    advice = (
        f"use at least {MIN_TOKEN_BITS} random bits, e.g. the output of"
        " `python3 -c 'import secrets; print(secrets.token_urlsafe(24))'`"
        " (22 or more characters of base64url, or 32 hex digits)"
    )
    bits = token_bits(token)
    if bits < MIN_TOKEN_BITS:
        raise TokenError(
            f"the facilitator token from {where} is too easy to guess"
            f" ({len(token)} characters, about {int(bits)} bits); {advice}"
        )
    if len(set(token)) < MIN_DISTINCT:
        raise TokenError(f"the facilitator token from {where} repeats itself; {advice}")
    return token


def load_or_create_token(data_dir: Path, given: str | None = None) -> str:
    """The facilitator token: `given` (POLL_FACILITATOR_TOKEN), else the one kept in
    `data_dir`, else a new one written there readable by its owner only (0600).
    Raises TokenError when the token is too weak or its file cannot be used."""
    if given is not None and given.strip():
        return check_token(given.strip(), "POLL_FACILITATOR_TOKEN")
    path = token_path(data_dir)
    try:
        return read_token(path)
    except FileNotFoundError:
        pass
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        token = new_token()
        # O_EXCL: when several workers start at once, exactly one writes the file.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return read_token(path)
    except OSError as exc:
        raise TokenError(f"cannot create {path}: {exc.strerror}; check --data-dir") from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token + "\n")
    return token


def token_path(data_dir: Path) -> Path:
    return data_dir / TOKEN_FILE


def rotate_token(data_dir: Path) -> str:
    """Write a new token in place of the old one (atomically, mode 0600); the new token."""
    path = token_path(data_dir)
    token = new_token()
    temporary = path.with_name(f".{TOKEN_FILE}.{secrets.token_hex(4)}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(token + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise TokenError(f"cannot write {path}: {exc.strerror}; check --data-dir") from None
    return token


def read_token(path: Path) -> str:
    """The token kept in `path`; FileNotFoundError when there is none."""
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise TokenError(f"cannot read {path}: {exc.strerror}") from None
    if not token:
        raise TokenError(f"{path} is empty: delete it to get a new token")
    return check_token(token, str(path))
