"""The participant cookie: itsdangerous's own format, made cheaply, the same header, and
remembered once good (never when forged, never past its age)."""

from __future__ import annotations

import time

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from poll.web import auth as auth_module
from poll.web.auth import PARTICIPANT_COOKIE, PARTICIPANT_MAX_AGE, Auth


def _request(scheme: str) -> Request:
    return Request({"type": "http", "scheme": scheme, "path": "/r/1", "headers": []})


def test_a_participant_id_reads_back_with_the_general_serializer_and_the_other_way() -> None:
    auth = Auth("a-token-long-enough-for-the-test")
    general = URLSafeTimedSerializer(auth._key, salt="participant")
    for participant in ("abcdefghijklmnopqrstuv", "x" * 200, "é-ü"):
        made = auth._participant.dumps(participant)
        assert general.loads(made) == participant
        assert auth._participant.loads(general.dumps(participant)) == participant
    # Another salt's value (a console cookie) is no participant id.
    with pytest.raises(BadSignature):
        auth._participant.loads(auth._console.dumps("abcdefghijklmnopqrstuv"))


@pytest.mark.parametrize(("scheme", "secure"), [("http", False), ("https", True), ("wss", True)])
def test_the_cookie_header_is_the_one_starlette_writes(scheme: str, secure: bool) -> None:
    auth = Auth("a-token-long-enough-for-the-test")
    ours = Response()
    auth.set_participant(ours, _request(scheme), "abcdefghijklmnopqrstuv")
    value = ours.headers["set-cookie"].split(";")[0].split("=", 1)[1]
    theirs = Response()
    theirs.set_cookie(
        PARTICIPANT_COOKIE,
        value,
        max_age=PARTICIPANT_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    assert ours.headers.getlist("set-cookie") == theirs.headers.getlist("set-cookie")


def _with_cookie(value: str) -> Request:
    cookie = f"{PARTICIPANT_COOKIE}={value}".encode("latin-1")
    return Request(
        {"type": "http", "scheme": "http", "path": "/ws", "headers": [(b"cookie", cookie)]}
    )


class CountingLoads:
    """Counts the signature checks of an `Auth`'s participant serializer."""

    def __init__(self, auth: Auth, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        loads = auth._participant.loads

        def counted(*args: object, **kwargs: object) -> object:
            self.calls += 1
            return loads(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(auth._participant, "loads", counted)


def _cookie_of(auth: Auth, participant: str) -> str:
    response = Response()
    auth.set_participant(response, _request("http"), participant)
    return response.headers["set-cookie"].split(";")[0].split("=", 1)[1]


def test_a_cookie_signed_or_checked_once_is_not_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = Auth("a-token-long-enough-for-the-test")
    checks = CountingLoads(auth, monkeypatch)
    mine = _cookie_of(auth, "p-signed-here")
    assert auth.participant(_with_cookie(mine)) == "p-signed-here"
    assert checks.calls == 0
    # Signed by another worker (same token): checked once, then remembered.
    other = _cookie_of(Auth("a-token-long-enough-for-the-test"), "p-signed-there")
    for _ in range(3):
        assert auth.participant(_with_cookie(other)) == "p-signed-there"
    assert checks.calls == 1


def test_a_forged_cookie_is_refused_beside_a_remembered_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    auth = Auth("a-token-long-enough-for-the-test")
    good = _cookie_of(auth, "p-good")
    payload, stamp, _signature = good.split(".")
    forged = f"{payload}.{stamp}.{'A' * 27}"
    stranger = _cookie_of(Auth("another-token-long-enough-for-it"), "p-good")
    for _ in range(2):
        assert auth.participant(_with_cookie(forged)) is None
        assert auth.participant(_with_cookie(stranger)) is None
    assert auth.participant(_with_cookie(good)) == "p-good"
    assert forged not in auth._known and stranger not in auth._known


def test_a_remembered_cookie_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    auth = Auth("a-token-long-enough-for-the-test")
    cookie = _cookie_of(auth, "p-old")
    assert auth.participant(_with_cookie(cookie)) == "p-old"
    later = time.time() + PARTICIPANT_MAX_AGE + 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert auth.participant(_with_cookie(cookie)) is None


def test_the_process_remembers_a_bounded_number_of_cookies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth_module, "KNOWN_PARTICIPANTS", 3)
    auth = Auth("a-token-long-enough-for-the-test")
    cookies = [_cookie_of(auth, f"p{i}") for i in range(5)]
    assert list(auth._known) == cookies[2:]
    # The forgotten ones are still good: checked again, and remembered again.
    assert auth.participant(_with_cookie(cookies[0])) == "p0"
    assert list(auth._known) == [*cookies[3:], cookies[0]]
