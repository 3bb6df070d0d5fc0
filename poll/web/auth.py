"""Who may do what: the facilitator's secret token and cookies, CSRF tokens, participant ids.

The facilitator proves herself once with the token from `poll serve`'s console
link (or by typing it; `poll.token` keeps the token file); from then on a
signed, HttpOnly cookie says so. The cookie carries the generation of sign-ins
it was made under (`Store.console_epoch`, read for each request that carries
one, see `guard.ConsoleEpoch`): signing out, or `poll token --rotate`, moves
the generation on and voids every console cookie on every process at once.
The cookie is SameSite=Lax, not Strict: with Strict, following the console
link from a chat or e-mail would arrive without the cookie. Console forms carry
a CSRF token bound to the cookie's nonce, so another site cannot post them.

Participants get an anonymous random id in a signed cookie: no name, IP
address or user agent is kept anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, Signer, URLSafeTimedSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.serializer import Serializer
from starlette.requests import HTTPConnection
from starlette.responses import Response

from poll.bounded import Bounded
from poll.token import TokenError, read_token

log = logging.getLogger("poll.web")

CONSOLE_COOKIE = "poll_console"
PARTICIPANT_COOKIE = "poll_pid"
FLASH_COOKIE = "poll_flash"
CONSOLE_MAX_AGE = 7 * 24 * 3600
PARTICIPANT_MAX_AGE = 30 * 24 * 3600
#: Where `guard.ConsoleEpoch` leaves the current generation of sign-ins for
#: `console_nonce` (absent: the store could not say, and no cookie is honoured).
EPOCH_SCOPE_KEY = "poll.console_epoch"


class ParticipantIds(URLSafeTimedSerializer):
    """The participant cookie's signed, timed id, in itsdangerous's own format.

    Every phone of an audience gets one and sends it back with its websocket,
    so two costs of the general serializer are left out here: a signer made
    for each value (one serves them all), and trying zlib on the payload (a
    compressor set up per cookie). zlib never makes the ids poll issues (22
    random characters) shorter, so for them the values are the same bytes the
    general serializer makes; any value reads back with either.
    """

    def __init__(self, key: bytes) -> None:
        super().__init__(key, salt="participant")
        self._signer = super().make_signer(self.salt)

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        if salt is None or salt == self.salt:
            return self._signer
        return super().make_signer(salt)

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


#: Participant cookies a process remembers as good (`Auth.participant`): more
#: than the phones one process serves, at about 200 bytes each.
KNOWN_PARTICIPANTS = 32_768


class Auth:
    """Signs and checks the cookies and CSRF tokens of one server (all its workers)."""

    def __init__(
        self, token: str, *, secure_cookies: bool = False, token_file: Path | None = None
    ) -> None:
        self._token = token
        # The file the token came from, read again when it changes (`poll token
        # --rotate` while the server runs); None when it came from the environment.
        self._token_file = token_file
        self._token_stamp = self._stamp()
        # Derived from the token the server started with, so that every worker
        # agrees without sharing a file. A rotated token does not change it:
        # phones keep their ids until the server restarts; console cookies are
        # voided by the generation of sign-ins instead.
        self._key = hmac.new(token.encode(), b"poll cookie key v1", hashlib.sha256).digest()
        self._console = URLSafeTimedSerializer(self._key, salt="console")
        self._participant = ParticipantIds(self._key)
        self._flash = URLSafeTimedSerializer(self._key, salt="flash")
        # Participant cookies this process signed or checked, with the time each
        # was signed: a phone sends hers with the websocket right after the page
        # that set it, and again with every reconnect, and checking the signature
        # took 18 µs each time. Only a value that was signed here or passed the
        # check is ever a key, so a forged cookie is still checked (and refused).
        self._known: Bounded[str, tuple[str, int]] = Bounded(KNOWN_PARTICIPANTS)
        self.secure_cookies = secure_cookies

    # Facilitator -----------------------------------------------------------

    def token_matches(self, given: str) -> bool:
        return hmac.compare_digest(given.strip().encode(), self.current_token().encode())

    def current_token(self) -> str:
        """The token sign-ins are checked against: the token file's, read again
        when it changed (a rotated one), else the one the server started with."""
        stamp = self._stamp()
        if self._token_file is not None and stamp != self._token_stamp:
            try:
                self._token = read_token(self._token_file)
                self._token_stamp = stamp
            except (OSError, TokenError) as exc:
                # Half-written or removed: keep the last good one, say so once per change.
                self._token_stamp = stamp
                log.warning("facilitator token file not used: %s", exc)
        return self._token

    def _stamp(self) -> tuple[int, int, int] | None:
        if self._token_file is None:
            return None
        try:
            info = os.stat(self._token_file)
        except OSError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def console_nonce(self, conn: HTTPConnection) -> str | None:
        """The facilitator cookie's nonce, or None when the visitor is not the
        facilitator: no cookie, a forged or expired one, or one made before the
        last sign-out or token rotation."""
        raw = conn.cookies.get(CONSOLE_COOKIE)
        if not raw:
            return None
        try:
            value = self._console.loads(raw, max_age=CONSOLE_MAX_AGE)
        except BadSignature:
            return None
        current = conn.scope.get(EPOCH_SCOPE_KEY)
        if not isinstance(value, list) or len(value) != 2 or current is None:
            return None
        nonce, epoch = value
        if not isinstance(nonce, str) or epoch != current:
            return None
        return nonce

    def sign_in(self, response: Response, conn: HTTPConnection, epoch: int) -> None:
        """Set the console cookie, made under the current generation of sign-ins."""
        nonce = secrets.token_urlsafe(16)
        value = self._console.dumps([nonce, epoch])
        self._set(response, conn, CONSOLE_COOKIE, value, CONSOLE_MAX_AGE)

    def sign_out(self, response: Response) -> None:
        response.delete_cookie(CONSOLE_COOKIE, path="/")

    def csrf_token(self, nonce: str) -> str:
        return hmac.new(self._key, b"csrf:" + nonce.encode(), hashlib.sha256).hexdigest()[:40]

    def csrf_ok(self, nonce: str, given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(
            given.encode(), self.csrf_token(nonce).encode()
        )

    # Participants ----------------------------------------------------------

    def participant(self, conn: HTTPConnection) -> str | None:
        raw = conn.cookies.get(PARTICIPANT_COOKIE)
        if not raw:
            return None
        known = self._known.get(raw)
        if known is not None and time.time() - known[1] <= PARTICIPANT_MAX_AGE:
            return known[0]
        try:
            value, signed = self._participant.loads(
                raw, max_age=PARTICIPANT_MAX_AGE, return_timestamp=True
            )
        except BadSignature:
            return None
        if not isinstance(value, str):
            return None
        self._known[raw] = (value, int(signed.timestamp()))
        return value

    def set_participant(self, response: Response, conn: HTTPConnection, participant: str) -> None:
        value = self._participant.dumps(participant)
        self._known[value] = (participant, int(time.time()))
        self._set(response, conn, PARTICIPANT_COOKIE, value, PARTICIPANT_MAX_AGE)

    def vote_token(self, participant: str) -> str:
        """The participant form's CSRF token (double submit, bound to her id)."""
        return hmac.new(self._key, b"vote:" + participant.encode(), hashlib.sha256).hexdigest()[:32]

    def vote_token_ok(self, participant: str, given: object) -> bool:
        return isinstance(given, str) and hmac.compare_digest(
            given.encode(), self.vote_token(participant).encode()
        )

    # Results links ---------------------------------------------------------

    def results_token(self, room_id: str, nonce: str) -> str:
        """The token of a run's read-only results link: 256 bits, made from the link's
        stored nonce with this server's key, so every worker makes the same one and
        the store (which keeps only its digest) cannot."""
        mac = hmac.new(self._key, f"results:{room_id}:{nonce}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")

    # One-shot messages after a redirect (PRG) ------------------------------

    def set_flash(self, response: Response, conn: HTTPConnection, data: dict[str, object]) -> None:
        self._set(response, conn, FLASH_COOKIE, self._flash.dumps(data), 60)

    def read_flash(self, conn: HTTPConnection) -> dict[str, object] | None:
        """The message left by the previous redirect; clear it with `clear_flash`."""
        raw = conn.cookies.get(FLASH_COOKIE)
        if not raw:
            return None
        try:
            value = self._flash.loads(raw, max_age=120)
        except BadSignature:
            return None
        return value if isinstance(value, dict) else None

    def clear_flash(self, response: Response) -> None:
        response.delete_cookie(FLASH_COOKIE, path="/")

    def _set(
        self, response: Response, conn: HTTPConnection, name: str, value: str, max_age: int
    ) -> None:
        # The scheme, not `conn.url`: building the URL for it alone took 11 µs a page.
        secure = self.secure_cookies or conn.scope.get("scheme") in ("https", "wss")
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
