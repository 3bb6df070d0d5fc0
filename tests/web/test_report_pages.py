"""The results report in the console and behind a shared results link (both stores):
who may see it, what it shows, and that a link is unguessable, revocable and expires."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from poll.web import results_link
from tests.web.conftest import World, csrf_of
from tests.web.test_export import vote

HIDDEN = "Dit mag niemand lezen"
VISIBLE = "Hoe betrekken we bewoners?"


def played(world: World) -> tuple[str, str]:
    """A run with two open answers, one of them hidden by the facilitator."""
    room, code = world.start_run()
    world.go_to(room, "aanvullende-vragen")
    vote(world, code, "anna", "aanvullende-vragen", text=VISIBLE)
    vote(world, code, "bram", "aanvullende-vragen", text=HIDDEN)
    page = world.client.get(f"/console/room/{room}").text
    hidden_ref = re.search(
        r'name="ref" value="([^"]+)"(?:(?!</form>).)*?' + re.escape(HIDDEN), page, re.S
    )
    refs = re.findall(r'name="ref" value="([^"]+)"', page)
    ref = hidden_ref.group(1) if hidden_ref else refs[-1]
    world.act(room, "moderate", question_id="aanvullende-vragen", ref=ref, hidden="1")
    return room, code


def change_link(world: World, room: str, action: str, **fields: str) -> None:
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    response = world.client.post(
        f"/console/room/{room}/results-link",
        data={"csrf": csrf, "link_action": action, **fields},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def link_of(world: World, room: str) -> str:
    page = world.client.get(f"/console/room/{room}").text
    found = re.search(r'id="results-link-url" class="mono" readonly value="([^"]+)"', page)
    assert found, "the console shows no results link"
    return urlsplit(found.group(1)).path  # the server's own address, which phones reach


def test_the_console_report_is_the_facilitators(world: World) -> None:
    room, _code = played(world)
    with world.as_("stranger") as stranger:
        assert stranger.get(f"/console/room/{room}/report").status_code == 403
        assert stranger.get(f"/console/room/{room}/report.html").status_code == 403
    page = world.client.get(f"/console/room/{room}/report")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    assert "<script" not in page.text.lower()
    assert VISIBLE in page.text and HIDDEN not in page.text
    own = world.client.get(f"/console/room/{room}/report?hidden=1")
    assert HIDDEN in own.text
    download = world.client.get(f"/console/room/{room}/report.html")
    assert download.headers["content-disposition"].startswith('attachment; filename="poll-wijken-')
    # The console links to it next to the CSV files.
    assert f"/console/room/{room}/report" in world.client.get(f"/console/room/{room}").text


def test_a_shared_link_shows_the_report_and_nothing_else(world: World) -> None:
    room, _code = played(world)
    change_link(world, room, "create", expiry="7")
    url = link_of(world, room)
    token = url.rsplit("/", 1)[1]
    assert re.fullmatch(r"/results/[A-Za-z0-9_-]{43}", url)

    with world.as_("participant") as visitor:
        page = visitor.get(url)
        assert page.status_code == 200
        assert page.headers["x-robots-tag"] == "noindex, nofollow"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["content-security-policy"].startswith("default-src 'none'")
        assert VISIBLE in page.text
        # No hidden text, no link anywhere (console, CSV, projector), no participant id.
        assert HIDDEN not in page.text
        assert "<a " not in page.text and "href=" not in page.text
        for part in ("/console", ".csv", "/projector", room, "anna", "bram"):
            assert part not in page.text
        assert not re.search(r"\bp-[0-9a-f]{8}\b", page.text)
        # The link opens nothing else of the room.
        for other in (
            f"/console/room/{room}",
            f"/console/room/{room}/report",
            f"/console/room/{room}/results.csv",
            f"/projector/{room}",
            f"/results/{token}/results.csv",
            f"/results/{token}?hidden=1",
        ):
            response = visitor.get(other, follow_redirects=False)
            assert response.status_code in (403, 404) or HIDDEN not in response.text, other
        assert HIDDEN not in visitor.get(f"/results/{token}?hidden=1").text


def test_guessed_and_mangled_tokens_find_nothing(world: World) -> None:
    room, _code = played(world)
    change_link(world, room, "create", expiry="never")
    token = link_of(world, room).rsplit("/", 1)[1]
    with world.as_("guesser") as guesser:
        for _ in range(20):
            guessed = guesser.get(f"/results/{secrets.token_urlsafe(32)}")
            assert guessed.status_code == 404
            assert guessed.headers["x-robots-tag"] == "noindex, nofollow"
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        for wrong in (flipped, token[:-1], token + "x", token.upper(), "x" * 43, "", room):
            assert guesser.get(f"/results/{wrong}").status_code == 404, wrong
        assert guesser.get(f"/results/{token}").status_code == 200


def test_a_revoked_or_replaced_link_stops_working(world: World) -> None:
    room, _code = played(world)
    change_link(world, room, "create", expiry="30")
    first = link_of(world, room)
    change_link(world, room, "create", expiry="30")
    second = link_of(world, room)
    assert first != second
    with world.as_("participant") as visitor:
        assert visitor.get(first).status_code == 404
        assert visitor.get(second).status_code == 200
    change_link(world, room, "revoke")
    with world.as_("participant") as visitor:
        gone = visitor.get(second)
        assert gone.status_code == 404
        assert "This results link does not work." in gone.text or "werkt niet" in gone.text
    assert 'id="results-link-url"' not in world.client.get(f"/console/room/{room}").text


def test_an_expired_link_stops_working(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    room, _code = played(world)
    change_link(world, room, "create", expiry="1")
    url = link_of(world, room)
    with world.as_("participant") as visitor:
        assert visitor.get(url).status_code == 200
        later = datetime.now(UTC) + timedelta(days=1, minutes=1)
        monkeypatch.setattr(results_link, "now", lambda: later)
        assert visitor.get(url).status_code == 404
    assert "This link has expired" in world.client.get(f"/console/room/{room}").text or (
        "verlopen" in world.client.get(f"/console/room/{room}").text
    )


def test_the_link_forms_need_the_facilitator_and_a_csrf_token(world: World) -> None:
    room, _code = played(world)
    target = f"/console/room/{room}/results-link"
    with world.as_("stranger") as stranger:
        assert stranger.post(target, data={"link_action": "create"}).status_code == 403
    no_token = world.client.post(target, data={"link_action": "create"}, follow_redirects=False)
    assert no_token.status_code == 400
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    other_site = world.client.post(
        target,
        data={"csrf": csrf, "link_action": "create"},
        headers={"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
        follow_redirects=False,
    )
    assert other_site.status_code == 403
    assert 'id="results-link-url"' not in world.client.get(f"/console/room/{room}").text
    bad = world.client.post(target, data={"csrf": csrf, "link_action": "create", "expiry": "9999"})
    assert bad.status_code == 400


def test_the_room_sees_the_link_once_the_run_ends(world: World) -> None:
    room, code = played(world)
    change_link(world, room, "create", expiry="7")
    url = link_of(world, room)
    phone_link = f"/results/room/{room}"
    with world.as_("anna") as phone:
        assert phone.get(phone_link, follow_redirects=False).status_code == 404
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            with world.as_("facilitator"):
                # Shown in the room only once the run has ended.
                world.act(room, "end")
                assert 'value="show"' in world.client.get(f"/console/room/{room}").text
                change_link(world, room, "show")
            for _ in range(30):
                message = ws.receive_json()
                if message["type"] == "snapshot" and message["room"].get("results_link"):
                    # The phones' end screen: a "See the results" link.
                    assert f'href="{phone_link}"' in message["html"]
                    break
            else:
                raise AssertionError("no snapshot with the results link")
        moved = phone.get(phone_link, follow_redirects=False)
        assert moved.status_code == 303 and moved.headers["location"].endswith(url)
        assert phone.get(f"/projector/{room}/results-qr.svg").status_code == 403
    qr = world.client.get(f"/projector/{room}/results-qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert f"/projector/{room}/results-qr.svg" in world.client.get(f"/projector/{room}").text
    change_link(world, room, "hide")
    with world.as_("anna") as phone:
        assert phone.get(phone_link, follow_redirects=False).status_code == 404
    assert f"/projector/{room}/results-qr.svg" not in world.client.get(f"/projector/{room}").text
    # Hidden from the room, the link itself still works.
    with world.as_("participant") as visitor:
        assert visitor.get(url).status_code == 200
