"""The facilitator's console, projector and their websockets (both stores)."""

from __future__ import annotations

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.support.scripts import DUTCH, index_of, item_count
from tests.web.conftest import TOKEN, World, csrf_of


def test_console_needs_the_token(world: World) -> None:
    with world.as_("stranger") as stranger:
        page = stranger.get("/console")
        assert page.status_code == 403 and 'name="token"' in page.text
        wrong = stranger.get("/console?token=nope")
        assert wrong.status_code == 403 and "not right" in wrong.text
        assert stranger.get("/projector/whatever").status_code == 403
        link = stranger.get(f"/console?token={TOKEN}", follow_redirects=False)
        assert link.status_code == 303 and link.headers["location"] == "/console"
        cookie = link.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert stranger.get("/console").status_code == 200


def test_login_form_and_logout(world: World) -> None:
    with world.as_("other") as other:
        signed = other.post("/console/login", data={"token": TOKEN}, follow_redirects=False)
        assert signed.status_code == 303
        csrf = csrf_of(other.get("/console").text)
        other.post("/console/logout", data={"csrf": csrf})
        assert other.get("/console").status_code == 403


def test_console_forms_need_csrf(world: World) -> None:
    world.sign_in()
    response = world.client.post("/console/rooms", data={"session_id": DUTCH})
    assert response.status_code == 400


def test_console_language_follows_the_browser(world: World) -> None:
    world.sign_in()
    assert "Sessies" in world.client.get("/console", headers={"accept-language": "nl"}).text
    assert "Sessions" in world.client.get("/console", headers={"accept-language": "de"}).text


def test_console_steps_through_a_run(world: World) -> None:
    room, _code = world.start_run()
    world.act(room, "next")
    page = world.client.get(f"/console/room/{room}").text
    assert f"Item 2 of {item_count()}" in page
    world.go_to(room, "herkennen")
    world.act(room, "close", question_id="herkennen")
    page = world.client.get(f"/console/room/{room}").text
    assert "Open voting" in page and "closed" in page
    world.act(room, "end")
    assert "This run has ended." in world.client.get(f"/console/room/{room}").text
    runs = world.client.get("/console").text
    assert f"/console/room/{room}/results.csv" in runs and "ended" in runs


def test_projector_page_and_qr(world: World) -> None:
    room, code = world.start_run()
    world.sign_in()
    page = world.client.get(f"/projector/{room}")
    assert page.status_code == 200
    assert f"{code[:3]} {code[3:]}" in page.text
    svg = world.client.get(f"/projector/{room}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<path" in svg.text


def test_console_socket_actions(world: World) -> None:
    room, _code = world.start_run()
    with world.client.websocket_connect(f"/ws/console/{room}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["audience"] == "console"
        assert len(first["items"]) == item_count()
        herkennen = index_of("herkennen")
        ws.send_json({"type": "action", "action": "go", "index": herkennen, "request_id": "r1"})
        done = receive(ws, "done")
        assert done["request_id"] == "r1"
        ws.send_json({"type": "action", "action": "fly", "request_id": "r2"})
        assert receive(ws, "error")["request_id"] == "r2"
        for _ in range(20):
            message = ws.receive_json()
            if message["type"] == "snapshot" and message["index"] == herkennen:
                assert message["status"] == "open"
                break
        else:
            raise AssertionError("no snapshot after the action")


def receive(ws: object, kind: str) -> dict[str, object]:
    for _ in range(20):
        message = ws.receive_json()  # type: ignore[attr-defined]
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind!r} message")


def test_projector_socket_is_for_the_facilitator_only(world: World) -> None:
    room, _code = world.start_run()
    with (
        world.as_("stranger") as stranger,
        pytest.raises(WebSocketDisconnect),
        stranger.websocket_connect(f"/ws/projector/{room}") as ws,
    ):
        ws.receive_json()


def test_broken_script_edit_is_reported_not_fatal(world: World) -> None:
    world.sign_in()
    good = world.sessions.read_text(encoding="utf-8")
    world.sessions.write_text(good.replace("type: yesno", "type: yesnoo", 1), encoding="utf-8")
    page = world.client.get("/console").text
    assert "The sessions file has errors" in page and "yesnoo" in page
    assert "Start a new run" in page  # the last good script stays in use
    world.sessions.write_text(good.replace("Team retrospective", "Team retro 2"), encoding="utf-8")
    page = world.client.get("/console").text
    assert "has errors" not in page and "Team retro 2" in page


def test_healthz_and_headers(world: World) -> None:
    # A stranger (a load balancer, a scanner) learns that the server is up, and nothing
    # about the host: no name, no PID, no store path.
    with world.as_("stranger") as stranger:
        health = stranger.get("/healthz")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}
    assert health.headers["cache-control"] == "no-store"
    world.sign_in()
    body = world.client.get("/healthz").json()
    assert body["status"] == "ok" and body["ok"] is True
    assert body["store"]["kind"] == world.kind and body["process"]
    for path in ("/", "/console", "/static/poll.css"):
        headers = world.client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_a_console_socket_reopened_at_once_starts_where_the_room_is(world: World) -> None:
    room, _code = world.start_run()
    with world.client.websocket_connect(f"/ws/console/{room}") as ws:
        assert ws.receive_json()["index"] == 0
    world.act(room, "next")
    world.act(room, "next")
    with world.client.websocket_connect(f"/ws/console/{room}") as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and first["index"] == 2
