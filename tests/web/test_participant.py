"""A participant's way in and her votes, with and without JavaScript (both stores)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

import pytest
from starlette.websockets import WebSocketDisconnect

from poll import protocol
from poll.rooms import Rooms
from poll.web.phone_pages import KEEP_SECONDS, PhonePages
from tests.web.conftest import World, token_of


def test_code_entry_leads_into_the_room(world: World) -> None:
    _room, code = world.start_run()
    with world.as_("phone") as phone:
        landing = phone.get("/", headers={"accept-language": "nl-NL,nl;q=0.9"})
        assert 'name="code"' in landing.text and "Doe mee aan een sessie" in landing.text
        typed = f"{code[:3]} {code[3:]}"
        response = phone.get("/join", params={"code": typed}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/r/{code}"
        assert phone.get(f"/j/{code}", follow_redirects=False).headers["location"] == f"/r/{code}"
        page = phone.get(f"/r/{code}")
        assert page.status_code == 200
        assert "Wachten op de volgende vraag" in page.text  # the session's language
        assert "poll_pid" in phone.cookies


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/j/123%234567", "/r/123%234567"),
        ("/j/123%3F4567", "/r/123%3F4567"),
        ("/j/%25zz", "/r/%25zz"),
        ("/j/%3Cscript%3Ealert(1)%3C%2Fscript%3E", None),  # a slash ends the route
        ("/j/%3Cb%3Ex%3C%5Cb%3E", "/r/%3Cb%3Ex%3C%5Cb%3E"),
        ("/j/123%20%204567", "/r/1234567"),
    ],
)
def test_a_short_link_escapes_the_code_it_echoes(
    world: World, path: str, location: str | None
) -> None:
    with world.as_("phone") as phone:
        response = phone.get(path, follow_redirects=False)
        if location is None:
            assert response.status_code == 404
            return
        assert response.status_code == 303 and response.headers["location"] == location
        page = phone.get(location)
        assert "<b>" not in page.text and "<script>" not in page.text


def test_a_short_link_with_a_hash_reaches_the_unknown_code_page(world: World) -> None:
    with world.as_("phone") as phone:
        page = phone.get("/j/123%234567")
        assert page.status_code == 404
        assert "123#4567" in page.text


def test_unknown_code_says_what_to_do(world: World) -> None:
    with world.as_("phone") as phone:
        response = phone.get("/join", params={"code": "000 0000"})
        assert response.status_code == 404
        assert "There is no session with code 000 0000" in response.text
        bad = phone.get("/join", params={"code": "12"})
        assert bad.status_code == 400 and "7 digits" in bad.text


def test_a_phone_that_comes_back_after_the_end_is_thanked(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["room"]["ended"] is False
            with world.as_("facilitator"):
                world.act(room, "end")
            for _ in range(20):  # connected when it ends: the end screen
                message = ws.receive_json()
                if message["type"] == "snapshot" and message["room"]["ended"]:
                    assert "Deze sessie is afgelopen" in message["html"]
                    break
            else:
                raise AssertionError("no snapshot of the end")
        thanks = "Deze sessie is afgelopen. Bedankt voor het meedoen!"
        again = phone.get(f"/r/{code}")  # a reload
        assert again.status_code == 200 and thanks in again.text
        assert "no session" not in again.text and "geen sessie" not in again.text
        snapshot = phone.get(f"/r/{code}", headers={"accept": "application/json"}).json()
        assert snapshot["room"]["ended"] is True and thanks in snapshot["mine_html"]
        form = {"token": token_of(page.text), "question_id": "herkennen", "submission_id": "s"}
        late = phone.post(f"/r/{code}", data={**form, "choice": "yes"})
        assert thanks in late.text  # a vote from a page left open: refused, thanked
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:  # reconnects later
            assert ws.receive_json()["room"]["ended"] is True
    with world.as_("latecomer") as latecomer:
        typed = latecomer.get("/join", params={"code": f"{code[:3]} {code[3:]}"})
        assert typed.status_code == 200 and thanks in typed.text


def test_vote_without_javascript_post_redirect_get(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}")
        assert '<noscript><meta http-equiv="refresh"' not in page.text  # a form to fill in
        form = {"token": token_of(page.text), "question_id": "herkennen", "submission_id": "s1"}
        response = phone.post(f"/r/{code}", data={**form, "choice": "yes"}, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == f"/r/{code}"
        after = phone.get(f"/r/{code}")
        assert (
            'class="vote-status saved" role="status" aria-live="polite">Je antwoord is opgeslagen.'
            in after.text
        )
        assert 'aria-pressed="true">Ja' in after.text
        # Answered: the page now refreshes itself (no-JS path only, inside <noscript>).
        assert '<noscript><meta http-equiv="refresh"' in after.text
        # The flash is shown once.
        assert 'class="vote-status saved"' not in phone.get(f"/r/{code}").text


def test_refusal_is_translated(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
    world.act(room, "close", question_id="herkennen")
    with world.as_("phone") as phone:
        form = {"token": token, "question_id": "herkennen", "submission_id": "s1"}
        page = phone.post(f"/r/{code}", data={**form, "choice": "yes"}).text
        assert 'class="vote-status error"' in page
        assert "Het stemmen op deze vraag is gesloten." in page


def test_a_script_whose_websocket_is_down_posts_the_vote_and_gets_the_ack(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    json_reply = {"accept": "application/json"}
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
        form = {"token": token, "question_id": "herkennen", "submission_id": "fallback-1"}
        first = phone.post(f"/r/{code}", data={**form, "choice": "no"}, headers=json_reply)
        assert first.status_code == 200
        ack = first.json()
        # The phone's stage comes drawn for its answer: "Nee" is the chosen button.
        stage, html = ack.pop("stage"), ack.pop("html")
        assert ack == {
            "type": "ack",
            "submission_id": "fallback-1",
            "question_id": "herkennen",
            "status": "saved",
            "version": ack["version"],
            "mine": [{"keys": ["no"], "text": None}],
        }
        assert stage.startswith("herkennen|open|")
        assert 'value="no" class="answer big chosen" aria-pressed="true">Nee<' in html
        # The retry of the same submission (its first reply was lost) counts once.
        again = phone.post(f"/r/{code}", data={**form, "choice": "no"}, headers=json_reply)
        assert again.json()["status"] == "duplicate"
        forged = phone.post(
            f"/r/{code}", data={**form, "token": "x", "choice": "yes"}, headers=json_reply
        )
        assert forged.status_code == 403 and forged.json()["reason"] == "not_sent"
    world.act(room, "close", question_id="herkennen")
    with world.as_("phone") as phone:
        closed = phone.post(
            f"/r/{code}",
            data={**form, "submission_id": "fallback-2", "choice": "yes"},
            headers=json_reply,
        ).json()
        assert closed["type"] == "refused" and closed["reason"] == "voting_closed"
        assert closed["message"] == "Het stemmen op deze vraag is gesloten."
        gone = phone.post("/r/0000000", data=form, headers=json_reply)
        assert gone.status_code == 404 and gone.json()["reason"] == "unknown_room"
    assert "1 person answered<" in world.client.get(f"/console/room/{room}").text


def test_a_script_without_websocket_reads_the_snapshot_over_http(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        # A first visit gets the page (and the participant cookie), never JSON.
        first = phone.get(f"/r/{code}", headers={"accept": "application/json"})
        assert first.headers["content-type"].startswith("text/html")
        token = token_of(first.text)
        form = {"token": token, "question_id": "herkennen", "submission_id": "s1"}
        phone.post(f"/r/{code}", data={**form, "choice": "yes"})
        snapshot = phone.get(f"/r/{code}", headers={"accept": "application/json"}).json()
    assert snapshot["type"] == "snapshot" and snapshot["audience"] == "participant"
    assert snapshot["item"]["id"] == "herkennen" and snapshot["status"] == "open"
    assert snapshot["mine"] == [{"keys": ["yes"], "text": None}]
    assert snapshot["results"] is None  # not shown yet


def test_forged_vote_without_token_is_not_counted(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        data = {"question_id": "herkennen", "submission_id": "s1", "choice": "yes"}
        assert "Je antwoord is niet verstuurd." in phone.post(f"/r/{code}", data=data).text
    page = world.client.get(f"/console/room/{room}").text
    assert "0 answers" in page


def test_websocket_vote_ack_change_and_refusal(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            first = ws.receive_json()
            assert first["type"] == "snapshot" and first["item"]["id"] == "herkennen"
            assert first["results"] is None  # participants see tallies only when shown
            vote = {"type": "vote", "question_id": "herkennen", "submission_id": "sub-1"}
            ws.send_json({**vote, "answer": {"choice": "yes"}})
            ack = next_of(ws, "ack")
            assert ack["submission_id"] == "sub-1" and ack["status"] == "saved"
            assert ack["mine"] == [{"keys": ["yes"], "text": None}]
            # A retry with the same submission id is not counted twice.
            ws.send_json({**vote, "answer": {"choice": "yes"}})
            assert next_of(ws, "ack")["status"] == "duplicate"
            ws.send_json({**vote, "submission_id": "sub-2", "answer": {"choice": "no"}})
            assert next_of(ws, "ack")["mine"] == [{"keys": ["no"], "text": None}]
            ws.send_json({**vote, "submission_id": "sub-3", "answer": {"choice": "maybe"}})
            refused = next_of(ws, "refused")
            assert refused["submission_id"] == "sub-3" and refused["retry"] is False
            assert refused["message"] == "Kies ja of nee."
            ws.send_json({"type": "ping", "t": 1})
            assert next_of(ws, "pong")["t"] == 1


def next_of(ws: object, kind: str) -> dict[str, object]:
    for _ in range(20):
        message = ws.receive_json()  # type: ignore[attr-defined]
        if message["type"] == kind:
            return message  # type: ignore[no-any-return]
    raise AssertionError(f"no {kind!r} message")


def test_results_reach_phones_only_when_shown(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["results"] is None
            with world.as_("facilitator"):
                world.act(room, "show", question_id="herkennen")
            for _ in range(20):
                message = ws.receive_json()
                if message["type"] == "snapshot" and message["results_shown"]:
                    assert message["results"]["kind"] == "bars"
                    assert "texts" not in message["results"]
                    break
            else:
                raise AssertionError("no snapshot with results")


def test_websocket_from_another_origin_is_refused(world: World) -> None:
    _room, code = world.start_run()
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with (
            pytest.raises(WebSocketDisconnect),
            phone.websocket_connect(
                f"/ws/participant/{code}", headers={"origin": "http://evil.example"}
            ) as ws,
        ):
            ws.receive_json()


def test_websocket_without_participant_cookie_is_refused(world: World) -> None:
    _room, code = world.start_run()
    with (
        world.as_("stranger") as stranger,
        pytest.raises(WebSocketDisconnect) as refused,
        stranger.websocket_connect(f"/ws/participant/{code}") as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 4401


def test_an_oversized_post_is_refused_before_it_is_read(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
        form = {"token": token, "question_id": "herkennen", "submission_id": "big"}
        declared = phone.post(f"/r/{code}", data={**form, "choice": "yes", "pad": "x" * 70_000})
        assert declared.status_code == 413 and "at most 64 KiB" in declared.text
        assert declared.headers["x-content-type-options"] == "nosniff"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b"token=" + token.encode() + b"&question_id=herkennen&choice=yes&pad="
            for _ in range(100):
                yield b"x" * 1024

        chunked = phone.post(
            f"/r/{code}",
            content=chunks(),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert chunked.status_code == 413
    assert "0 answers" in world.client.get(f"/console/room/{room}").text


def test_without_javascript_an_open_answer_can_be_changed_while_open(world: World) -> None:
    room, code = world.start_run("one-idea")
    world.go_to(room, "idea")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}").text
        assert "></textarea>" in page and ">Send</button>" in page
        form = {"token": token_of(page), "question_id": "idea"}
        phone.post(f"/r/{code}", data={**form, "submission_id": "s1", "text": "More trees"})
        page = phone.get(f"/r/{code}").text
        # Her saved answer is in the field, to be changed.
        assert ">More trees</textarea>" in page and ">Change answer</button>" in page
        changed = {**form, "submission_id": "s2", "text": "More <b>benches</b>"}
        phone.post(f"/r/{code}", data=changed)
        page = phone.get(f"/r/{code}").text
        assert ">More &lt;b&gt;benches&lt;/b&gt;</textarea>" in page
    rows = world.client.get(f"/console/room/{room}/results.csv").text
    assert "More <b>benches</b>" in rows and "More trees" not in rows


def test_new_phones_share_one_render_of_the_page_but_not_their_token(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    now = [1000.0]
    pages = world.app.state.poll.phone_pages = PhonePages(clock=lambda: now[0])
    # With no phone of the room on a websocket, each page is drawn afresh: a room
    # followed without JavaScript sees every answer at once.
    for person in ("solo-a", "solo-b"):
        with world.as_(person) as phone:
            phone.get(f"/r/{code}")
    assert pages.hits == 0
    with contextlib.ExitStack() as live_phone:
        with world.as_("live") as live:
            live.get(f"/r/{code}")
            socket = live_phone.enter_context(live.websocket_connect(f"/ws/participant/{code}"))
            assert socket.receive_json()["type"] == "snapshot"
        texts: list[str] = []
        for person in ("phone-a", "phone-b", "phone-c"):
            with world.as_(person) as phone:
                page = phone.get(f"/r/{code}")
                texts.append(page.text)
                # Each phone's token is its own and works: its vote is saved.
                form = {"token": token_of(page.text), "question_id": "herkennen"}
                sent = phone.post(f"/r/{code}", data={**form, "choice": "yes"})
                assert 'class="vote-status saved"' in sent.text
        # Joins and votes move the room's version on but not its screen: one render.
        assert pages.hits == 3
        assert len({token_of(text) for text in texts}) == 3
        with world.as_("phone-d") as phone:
            first = phone.get(f"/r/{code}").text
        with world.as_("phone-e") as phone:
            second = phone.get(f"/r/{code}").text
        assert pages.hits == 5
        assert token_of(first) != token_of(second)
        assert first.replace(token_of(first), "") != second.replace(token_of(second), "")  # ids
        assert "poll-token-" not in second and "poll-submission-" not in second
        # A kept page serves for a second at most: its counts may lag no longer.
        now[0] += KEEP_SECONDS + 0.1
        with world.as_("phone-g") as phone:
            phone.get(f"/r/{code}")
        assert pages.hits == 5
        # The next item is on the page as soon as the room moves there.
        world.act(room, "next")
        with world.as_("phone-f") as f:
            moved = f.get(f"/r/{code}").text
        assert pages.hits == 5
        assert 'value="yes"' not in moved and moved != second


def test_a_phones_messages_are_read_only_once_she_is_counted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Her count runs beside her first snapshot, but nothing she sends is handled
    before it is stored: a client (or a test) that hears back knows she joined."""
    _room, code = world.start_run()
    events: list[str] = []
    released = threading.Event()
    arrive = Rooms.arrive

    async def slow_arrive(self: Rooms, room_id: str, participant: str) -> None:
        while not released.is_set():  # noqa: ASYNC110 - released from the test's thread
            await asyncio.sleep(0.01)
        await arrive(self, room_id, participant)
        events.append("counted")

    def pong(t: object) -> dict[str, object]:
        events.append("pong")
        return {"type": "pong", "t": t}

    monkeypatch.setattr(Rooms, "arrive", slow_arrive)
    monkeypatch.setattr(protocol, "pong", pong)
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")  # her first page does not count her: no cookie came back
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
            ws.send_json({"type": "ping", "t": "early"})
            time.sleep(0.3)
            assert events == []
            released.set()
            while ws.receive_json() != {"type": "pong", "t": "early"}:
                pass
    assert events == ["counted", "pong"]
