"""A phone's socket and a new phone's room page go to their handlers before the layers
made for the console; the page gets the same headers and refusals as through them
(both stores)."""

from __future__ import annotations

from typing import Any

import pytest

from poll.web import live_ws, phone_lane
from poll.web.csp import HEADERS
from poll.web.phone_lane import PhoneLane
from tests.web.conftest import World


async def _nothing() -> dict[str, Any]:
    return {}


async def _ignore(message: dict[str, Any]) -> None:
    pass


@pytest.mark.parametrize(
    ("kind", "method", "path", "root", "cookie", "early"),
    [
        # The phone's socket, whatever its cookies.
        ("websocket", "GET", "/ws/participant/1234567", "", None, "socket"),
        ("websocket", "GET", "/poll/ws/participant/1234567", "/poll", None, "socket"),
        ("websocket", "GET", "/ws/participant/1234567", "", b"poll_console=xyz", "socket"),
        ("websocket", "GET", "/ws/participant/", "", None, None),
        ("websocket", "GET", "/ws/participant/1234567/more", "", None, None),
        ("websocket", "GET", "/ws/projector/room", "", None, None),
        ("websocket", "GET", "/ws/console/room", "", None, None),
        ("websocket", "GET", "/r/1234567", "", None, None),
        ("http", "GET", "/ws/participant/1234567", "", None, None),
        # The phone's page, unless the facilitator asks for it.
        ("http", "GET", "/r/1234567", "", None, "page"),
        ("http", "GET", "/poll/r/1234567", "/poll", None, "page"),
        ("http", "GET", "/r/1234567", "", b"poll_pid=abc", "page"),
        ("http", "GET", "/r/1234567", "", b"poll_pid=abc; poll_console=xyz", None),
        ("http", "GET", "/r/1234567", "", b"poll_console=xyz", None),
        ("http", "POST", "/r/1234567", "", None, None),
        ("http", "HEAD", "/r/1234567", "", None, None),
        ("http", "GET", "/r/", "", None, None),
        ("http", "GET", "/r/1234567/vote", "", None, None),
        ("http", "GET", "/j/1234567", "", None, None),
        ("http", "GET", "/console", "", None, None),
    ],
)
async def test_only_a_phones_socket_and_page_are_taken_early(
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    method: str,
    path: str,
    root: str,
    cookie: bytes | None,
    early: str | None,
) -> None:
    handled: list[tuple[str, dict[str, Any]]] = []
    passed_on: list[str] = []

    async def room_page(request: Any) -> Any:
        handled.append(("page", dict(request.path_params)))

        async def response(scope: Any, receive: Any, send: Any) -> None:
            pass

        return response

    async def participant_socket(websocket: Any) -> None:
        handled.append(("socket", dict(websocket.path_params)))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed_on.append(scope["path"])

    monkeypatch.setattr(phone_lane.participant, "room_page", room_page)
    monkeypatch.setattr(live_ws, "participant_socket", participant_socket)
    headers = [] if cookie is None else [(b"cookie", cookie)]
    scope = {"type": kind, "method": method, "path": path, "root_path": root, "headers": headers}
    await PhoneLane(app)(scope, _nothing, _ignore)
    if early:
        assert handled == [(early, {"code": "1234567"})] and passed_on == []
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
