"""The participant cookie: itsdangerous's own format, made cheaply, and the same header."""

from __future__ import annotations

import pytest
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

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
