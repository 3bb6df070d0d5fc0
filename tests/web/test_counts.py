"""What the screens count: people who joined (with or without JavaScript) and people
connected now, each person once however many sockets she opens (both stores)."""

from __future__ import annotations

import html
import re
import time
from contextlib import ExitStack

from poll.web.live_ws import SOCKETS_PER_PARTICIPANT
from tests.web.conftest import World, token_of

#: Sockets one phone opens (tabs, reconnects, or a script inflating the count): as
#: many as one participant id may hold (more are refused, tests/security/test_limits.py).
SOCKETS = SOCKETS_PER_PARTICIPANT


def people_line(world: World, room: str) -> str:
    page = world.client.get(f"/console/room/{room}").text
    found = re.search(r'<span id="people-count">(.*?)</span>', page)
    assert found, "the console shows no count of people"
    return html.unescape(found.group(1))


def wait_for_line(world: World, room: str, expected: str, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    line = ""
    while time.monotonic() < deadline:
        line = people_line(world, room)
        if line == expected:
            return
        time.sleep(0.2)
    raise AssertionError(f"console says {line!r}, expected {expected!r}")


def test_many_sockets_on_one_cookie_count_one_person(world: World) -> None:
    room, code = world.start_run()
    world.sign_in()
    wait_for_line(world, room, "0 people joined · 0 connected now")
    with world.as_("phone") as phone, ExitStack() as stack:
        phone.get(f"/r/{code}")  # the cookie
        sockets = [
            stack.enter_context(phone.websocket_connect(f"/ws/participant/{code}"))
            for _ in range(SOCKETS)
        ]
        for ws in sockets:
            assert ws.receive_json()["type"] == "snapshot"
        with world.as_("facilitator"):
            wait_for_line(world, room, "1 person joined · 1 connected now")
    wait_for_line(world, room, "1 person joined · 0 connected now")  # joined stays


def test_a_phone_without_javascript_counts_as_joined(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("no-js phone") as phone:
        page = phone.get(f"/r/{code}")  # gets her cookie
        phone.get(f"/r/{code}")  # the waiting page's refresh, or the vote's redirect
        form = {"token": token_of(page.text), "question_id": "herkennen", "submission_id": "s1"}
        phone.post(f"/r/{code}", data={**form, "choice": "yes"})
        for _ in range(5):
            phone.get(f"/r/{code}")  # reloads count once
    with world.as_("cookieless browser") as stranger:
        for _ in range(3):
            stranger.get(f"/r/{code}")
            stranger.cookies.clear()  # refuses cookies: not a person we can count
    wait_for_line(world, room, "1 person joined · 0 connected now")
    page = world.client.get(f"/console/room/{room}").text
    assert "1 person answered" in page
    projector = world.client.get(f"/projector/{room}").text
    assert re.search(r'id="footer-count">1 persoon heeft geantwoord<', projector), projector
    assert 'id="joined-count" role="status">1 persoon doet mee<' in projector
