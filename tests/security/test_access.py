"""No one in where they don't belong: every facilitator route and socket refuses
strangers, forged cookies and participants; the token is compared in constant
time; cookies carry the right flags; console forms refuse cross-site posts."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from poll.web.auth import CONSOLE_COOKIE, Auth
from tests.security.conftest import World, count, store_dump
from tests.security.strategies import ACTIONS
from tests.web.conftest import TOKEN, csrf_of

#: Routes anybody may use: the participant's way in, health, static files.
PUBLIC = {"healthz", "landing", "join", "short_link", "room", "vote", "static", "ws_participant"}
# Named by their content (a SHA-256, or a theme's colours): public like static files,
# and only what a room's pages show (docs/security.md).
PUBLIC |= {"media_file", "pdf_page", "theme_css"}
# A run's shared results link (its own tests: tests/web/test_report_pages.py).
PUBLIC |= {"shared_report", "results_phone_link"}
FOREIGN_ORIGINS = [
    "http://evil.example",
    "https://testserver.evil.example",
    "http://evil.example@testserver",
    "null",
    "http://testserver:8080",
    "file://",
]


def every_route(world: World) -> list[Any]:
    return list(world.app.routes)


def fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m.group(1)], path)


def protected_requests(world: World, room: str, code: str) -> list[tuple[str, str]]:
    params = {
        "room_id": room,
        "code": code,
        "kind": "responses",
        "session_id": world.runs[room],
        "format": "xlsx",
    }
    found = []
    for route in every_route(world):
        if route.name in PUBLIC:
            continue
        if isinstance(route, Route):
            for method in sorted((route.methods or {"GET"}) - {"HEAD"}):
                found.append((method, fill(route.path, params)))
        elif isinstance(route, WebSocketRoute):
            found.append(("WS", fill(route.path, params)))
        else:
            raise AssertionError(f"a new kind of route: {route!r}; decide who may use it")
    assert len(found) >= 12, found  # console, projector, export and two sockets at least
    return found


def refused(client: TestClient, method: str, path: str, secret: str) -> None:
    if method == "WS":
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(path) as ws:
            ws.receive_text()
        assert closed.value.code == 4403, (path, closed.value.code)
    else:
        response = client.request(method, path, data={"csrf": "x", "action": "end"})
        assert response.status_code == 403, (method, path, response.status_code)
        assert secret not in response.text, f"{method} {path} shows the room to a stranger"
    count("attacks refused: facilitator routes without the facilitator")


def test_every_facilitator_route_refuses_a_stranger(world: World) -> None:
    room, code = world.start_run()
    before = store_dump(world, room)
    requests = protected_requests(world, room, code)
    with world.as_("stranger") as stranger:
        for method, path in requests:
            refused(stranger, method, path, code)
    assert store_dump(world, room) == before


def test_every_facilitator_route_refuses_a_participant_and_a_forged_cookie(world: World) -> None:
    room, code = world.start_run()
    before = store_dump(world, room)
    requests = protected_requests(world, room, code)
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        for method, path in requests:
            refused(phone, method, path, code)
    # A cookie signed with another server's token (or an old token) is worth nothing.
    forged = Auth("another-servers-token")._console.dumps("nonce")
    with world.as_("forger") as forger:
        for value in (forged, "", "x" * 4000, forged[:-2] + "AA"):
            forger.cookies.set(CONSOLE_COOKIE, value)
            for method, path in requests:
                refused(forger, method, path, code)
    assert store_dump(world, room) == before


def test_every_route_is_either_public_or_checked_here(world: World) -> None:
    names = {route.name for route in every_route(world)}
    assert {"static"} <= names
    for route in every_route(world):
        assert isinstance(route, Route | WebSocketRoute | Mount), route
    # The public set names only routes that exist (a renamed route is noticed).
    assert names >= PUBLIC, PUBLIC - names


def test_a_participant_socket_cannot_send_facilitator_actions(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            # Taken once she has joined (which counts her, and so changes the room):
            # the server reads her messages only then, so its answer to a ping says so.
            ws.send_json({"type": "ping", "t": "counted"})
            while ws.receive_json() != {"type": "pong", "t": "counted"}:
                pass
            before = store_dump(world, room)
            for action in ACTIONS:
                ws.send_json({"type": "action", "action": action, "index": 0, "request_id": "r"})
                for _ in range(20):
                    reply = ws.receive_json()
                    if reply["type"] == "error":
                        break
                assert reply["reason"] == "unknown_type", reply
                count("attacks refused: facilitator actions from a phone")
    assert store_dump(world, room) == before


def test_the_token_is_compared_in_constant_time(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hmac

    real = hmac.compare_digest
    calls: list[tuple[Any, Any]] = []

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with world.as_("stranger") as stranger:
        assert stranger.get("/console", params={"token": "guess"}).status_code == 403
        assert (b"guess", TOKEN.encode()) in calls
        calls.clear()
        assert stranger.post("/console/login", data={"token": "guess2"}).status_code == 403
        assert (b"guess2", TOKEN.encode()) in calls
    count("attacks refused: wrong facilitator tokens", 2)


def cookie_header(response: Any, name: str) -> str:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return str(header).lower()
    raise AssertionError(f"no {name} cookie set")


def test_cookies_are_httponly_and_samesite_and_secure_behind_https(world: World) -> None:
    _room, code = world.start_run()
    with world.as_("stranger") as stranger:
        signed_in = stranger.get(f"/console?token={TOKEN}", follow_redirects=False)
        phone = stranger.get(f"/r/{code}")
    for header in (cookie_header(signed_in, "poll_console"), cookie_header(phone, "poll_pid")):
        assert "httponly" in header and "samesite=lax" in header and "path=/" in header
        # Plain http on a LAN: a Secure cookie would never come back.
        assert "secure" not in header


def own_app(tmp_path: Any, public_url: str | None = None) -> Any:
    """An app of its own on SQLite, for tests that wrap or configure it differently."""
    import shutil

    from poll.settings import Settings
    from poll.store.sqlite import SqliteStore
    from poll.web.app import create_app
    from tests.support.scripts import SCRIPT

    shutil.copy(SCRIPT, tmp_path / "sessions.yaml")
    settings = Settings(
        sessions=tmp_path / "sessions.yaml", data_dir=tmp_path, token=TOKEN, public_url=public_url
    )
    return create_app(settings, store_factory=lambda: SqliteStore(tmp_path / "poll.db"))


def test_behind_an_https_proxy_cookies_are_secure(tmp_path: Any) -> None:
    """A TLS proxy sets X-Forwarded-Proto; uvicorn (proxy_headers, trusted proxies)
    turns it into the scheme, and the cookies become Secure."""
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    app = ProxyHeadersMiddleware(own_app(tmp_path), trusted_hosts="*")
    with TestClient(app) as client:  # type: ignore[arg-type]
        https = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.9"}
        response = client.get(f"/console?token={TOKEN}", headers=https, follow_redirects=False)
        header = cookie_header(response, "poll_console")
        assert "secure" in header and "httponly" in header and "samesite=lax" in header


def test_an_https_public_url_makes_cookies_secure(tmp_path: Any) -> None:
    with TestClient(own_app(tmp_path, "https://poll.gemeente.example")) as client:
        response = client.get(f"/console?token={TOKEN}", follow_redirects=False)
        assert "secure" in cookie_header(response, "poll_console")


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://evil.example", "sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site", "origin": "http://sub.testserver"},
    ],
    ids=["origin", "origin+fetch-site", "fetch-site", "same-site"],
)
def test_console_forms_refuse_cross_site_posts(world: World, headers: dict[str, str]) -> None:
    room, _code = world.start_run()
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    before = store_dump(world, room)
    for data in ({"action": "end"}, {"action": "end", "csrf": "wrong"}):
        response = world.client.post(f"/console/room/{room}", data=data, follow_redirects=False)
        assert response.status_code == 400
        count("attacks refused: console forms without a valid CSRF token")
    # Even with the right token (as if stolen), a post from another site is refused.
    data = {"action": "end", "csrf": csrf}
    response = world.client.post(
        f"/console/room/{room}", data=data, headers=headers, follow_redirects=False
    )
    assert response.status_code == 403
    assert store_dump(world, room) == before
    count("attacks refused: cross-site console posts")
    # The same post from the console's own page works (Origin: null under no-referrer too).
    for own in (
        {"origin": "http://testserver", "sec-fetch-site": "same-origin"},
        {"origin": "null"},
    ):
        response = world.client.post(
            f"/console/room/{room}", data={"action": "next", "csrf": csrf}, headers=own,
            follow_redirects=False,
        )  # fmt: skip
        assert response.status_code == 303


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_websockets_from_another_origin_are_refused(world: World, origin: str) -> None:
    """Cross-site websocket hijacking: a page elsewhere opening our sockets with the
    victim's cookies."""
    room, code = world.start_run()
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
    phone_cookies = world.cookies["phone"]
    for path in (f"/ws/participant/{code}", f"/ws/projector/{room}", f"/ws/console/{room}"):
        world.client.cookies.update(phone_cookies)  # the facilitator's and a phone's cookies
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            world.client.websocket_connect(path, headers={"origin": origin}) as ws,
        ):
            ws.receive_text()
        assert closed.value.code == 4403
        count("attacks refused: cross-site websocket handshakes")
    # The same sockets from our own origin open.
    with world.client.websocket_connect(
        f"/ws/console/{room}", headers={"origin": "http://testserver"}
    ) as ws:
        assert ws.receive_json()["type"] == "snapshot"
