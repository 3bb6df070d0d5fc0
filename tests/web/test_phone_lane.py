"""A new phone's room page goes to its handler before the layers made for the console,
and gets the same page, headers and refusals as through them (both stores)."""

from __future__ import annotations

from typing import Any

import pytest

from poll.web import phone_lane
from poll.web.csp import HEADERS
from poll.web.phone_lane import PhonePagesFirst
from tests.web.conftest import World


async def _nothing() -> dict[str, Any]:
    return {}


async def _ignore(message: dict[str, Any]) -> None:
    pass


@pytest.mark.parametrize(
    ("kind", "method", "path", "root", "cookie", "early"),
    [
        ("http", "GET", "/r/1234567", "", None, True),
        ("http", "GET", "/poll/r/1234567", "/poll", None, True),
        ("http", "GET", "/r/1234567", "", b"poll_pid=abc", True),
        ("http", "GET", "/r/1234567", "", b"poll_pid=abc; poll_console=xyz", False),
        ("http", "GET", "/r/1234567", "", b"poll_console=xyz", False),
        ("http", "POST", "/r/1234567", "", None, False),
        ("http", "HEAD", "/r/1234567", "", None, False),
        ("http", "GET", "/r/", "", None, False),
        ("http", "GET", "/r/1234567/vote", "", None, False),
        ("http", "GET", "/j/1234567", "", None, False),
        ("http", "GET", "/console", "", None, False),
        ("websocket", "GET", "/r/1234567", "", None, False),
    ],
)
async def test_only_a_phones_page_without_the_facilitators_cookie_is_taken_early(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    method: str,
    path: str,
    root: str,
    cookie: bytes | None,
    early: bool,
) -> None:
    handled: list[dict[str, Any]] = []
    passed_on: list[str] = []

    async def room_page(request: Any) -> Any:
        handled.append(dict(request.path_params))

        async def response(scope: Any, receive: Any, send: Any) -> None:
            pass

        return response

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed_on.append(scope["path"])

    monkeypatch.setattr(phone_lane.participant, "room_page", room_page)
    headers = [] if cookie is None else [(b"cookie", cookie)]
    scope = {"type": kind, "method": method, "path": path, "root_path": root, "headers": headers}
    await PhonePagesFirst(app)(scope, _nothing, _ignore)
    if early:
        assert handled == [{"code": "1234567"}] and passed_on == []
    else:
        assert handled == [] and passed_on == [path]


def test_a_new_phones_page_has_the_headers_of_every_page(world: World) -> None:
    _room, code = world.start_run()
    with world.as_("phone") as phone:
        landing = phone.get("/")
        page = phone.get(f"/r/{code}")
        assert page.status_code == 200 and "poll_pid" in phone.cookies
        for name in HEADERS:
            assert page.headers[name] == landing.headers[name], name
        assert page.headers["cache-control"] == "no-store"
        cookie = page.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        # Her next page (the cookie sent back) takes the same lane.
        again = phone.get(f"/r/{code}")
        assert again.status_code == 200 and "set-cookie" not in again.headers
        assert again.headers["content-security-policy"] == HEADERS["content-security-policy"]


def test_an_unknown_code_gets_the_refusal_page_with_its_headers(world: World) -> None:
    world.start_run()
    with world.as_("phone") as phone:
        page = phone.get("/r/0000000", headers={"accept-language": "nl"})
        assert page.status_code == 404
        assert "0000000" in page.text and "<html" in page.text
        assert page.headers["content-security-policy"] == HEADERS["content-security-policy"]
        assert "poll_pid" in phone.cookies  # her typos count against her alone


def test_over_https_the_lane_adds_strict_transport_security(world: World) -> None:
    _room, code = world.start_run()
    with world.as_("phone") as phone:
        page = phone.get(f"https://testserver/r/{code}")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "Secure" in page.headers["set-cookie"]
