"""Limits: message size and rate per socket, failed join codes per address, open texts."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from poll.web import live_ws, throttle
from poll.web.throttle import FailedLookups
from tests.conftest import uvicorn_options
from tests.security.conftest import World, count, store_dump
from tests.security.helpers import vote_by_form


def until(ws: Any, kind: str) -> dict[str, Any]:
    for _ in range(100):
        message: dict[str, Any] = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind}")


def test_a_phone_message_over_4_kib_is_refused_and_the_socket_stays(world: World) -> None:
    assert live_ws.LIMITS["participant"].max_message == 4096
    room, code = world.start_run()
    world.go_to(room, "aanvullende-vragen")  # an open question, 280 characters at most
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            big = {"type": "vote", "question_id": "aanvullende-vragen", "submission_id": "s1",
                   "answer": {"text": "x" * 5000}}  # fmt: skip
            ws.send_text(json.dumps(big))
            error = until(ws, "error")
            assert error["reason"] == "too_large" and "4096" in error["message"]
            long = {**big, "answer": {"text": "y" * 281}}
            ws.send_text(json.dumps(long))
            refused = until(ws, "refused")
            assert refused["reason"] == "invalid_answer" and "280" in refused["message"]
            ws.send_json({"type": "ping", "t": 1})
            assert until(ws, "pong")["t"] == 1
    assert store_dump(world, room)[room]["responses"] == []
    count("attacks refused: oversized or too long messages", 2)


def test_open_texts_are_limited_in_number(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "aanvullende-vragen")  # max_answers: 3
    with world.as_("phone") as phone:
        for n in range(3):
            vote_by_form(phone, code, "aanvullende-vragen", text=f"vraag {n}")
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            ws.send_json({"type": "vote", "question_id": "aanvullende-vragen",
                          "submission_id": "fourth", "answer": {"text": "nog een"}})  # fmt: skip
            assert until(ws, "refused")["reason"] == "too_many_answers"
    assert len(store_dump(world, room)[room]["responses"]) == 3
    count("attacks refused: answers over the limit")


def test_a_flooding_phone_is_slowed_then_closed_and_no_honest_vote_is_lost(
    world: World,
) -> None:
    room, code = world.start_run()
    world.go_to(room, "herkennen")
    limits = live_ws.LIMITS["participant"]
    with world.as_("attacker") as attacker:
        attacker.get(f"/r/{code}")
        with attacker.websocket_connect(f"/ws/participant/{code}") as ws:
            until(ws, "snapshot")
            for n in range(limits.burst + limits.strikes + 5):
                vote = {"type": "vote", "question_id": "herkennen", "submission_id": f"flood{n}"}
                ws.send_json({**vote, "answer": {"choice": "yes"}})
            kinds: list[str] = []
            refusals = []
            with pytest.raises(WebSocketDisconnect) as closed:
                for _ in range(500):
                    message = ws.receive_json()
                    kinds.append(message["type"])
                    if message["type"] == "refused":
                        refusals.append(message)
            assert closed.value.code == 1008
            rate_limited = [r for r in refusals if r["reason"] == "rate_limited"]
            assert rate_limited and all(r["retry"] for r in rate_limited)
            count("attacks refused: messages over the rate limit", len(rate_limited))
    # Meanwhile honest phones vote as usual: every acknowledged vote is stored.
    for n in range(5):
        with world.as_(f"phone{n}") as phone:
            vote_by_form(phone, code, "herkennen", choice="no" if n % 2 else "yes")
    aggregates = store_dump(world, room)[room]["aggregates"]["herkennen"]
    assert aggregates[0] == 6  # the attacker once (its id is one person) + five phones
    count("votes lost", 0)


def test_wrong_codes_lock_the_guesser_not_the_venue(world: World) -> None:
    """Every client in the world comes from one address ("testclient"), like phones
    behind a venue's NAT: the guesser's cookie is locked, the other phones are not."""
    _room, code = world.start_run()
    wrong = "0000000" if code != "0000000" else "1111111"
    with world.as_("neighbour") as neighbour:
        assert neighbour.get(f"/r/{code}").status_code == 200  # her cookie, before the guessing
    with world.as_("guesser") as guesser:
        guesser.get(f"/r/{code}")  # a participant cookie, as any phone has
        for n in range(20):
            response = guesser.get("/join", params={"code": f"{int(wrong) + n:07d}"[-7:]})
            assert response.status_code in (404, 303)
        blocked = guesser.get("/join", params={"code": code}, headers={"accept-language": "nl"})
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
        assert "Te veel verkeerde codes" in blocked.text
        # Blocked everywhere a code is looked up, right codes included (no oracle).
        assert guesser.get(f"/r/{code}").status_code == 429
        assert guesser.post(f"/r/{code}", data={}).status_code == 429
        with guesser.websocket_connect(f"/ws/participant/{code}") as ws:
            message = ws.receive_json()
            assert message["reason"] == "too_many_attempts"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4429
    count("attacks refused: join-code guesses over the limit", 4)
    # The other phones at the same address: her cookie, and a phone arriving now.
    with world.as_("neighbour") as neighbour:
        assert neighbour.get(f"/r/{code}").status_code == 200
        with neighbour.websocket_connect(f"/ws/participant/{code}") as ws:
            assert ws.receive_json()["type"] == "snapshot"
    with world.as_("newcomer") as newcomer:
        assert newcomer.get("/join", params={"code": code}).status_code == 200
        assert "poll_pid" in newcomer.cookies
    # Clients are kept in memory only (see the privacy tests for the store).
    assert len(world.app.state.poll.lookups) == 1


def test_a_cookie_less_brute_force_is_stopped_at_the_address(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script that drops its cookies gets a fresh id per lookup, but only so many a
    minute per address; then its lookups share one client, locked after 20 failures.
    A phone of the venue that keeps its cookie (and has not guessed) still joins."""
    monkeypatch.setattr(throttle, "NEW_IDS_PER_MINUTE", 30)
    monkeypatch.setattr(throttle, "ADDRESS_FAILURES_PER_MINUTE", 40)
    _room, code = world.start_run()
    with world.as_("phone") as phone:
        assert phone.get(f"/r/{code}").status_code == 200
    guesses = 0
    with world.as_("script") as script:
        for n in range(200):
            script.cookies.clear()
            reply = script.get("/join", params={"code": f"{9000000 + n:07d}"})
            if reply.status_code == 429:
                break
            assert reply.status_code == 404
            guesses += 1
        assert reply.status_code == 429, "the brute force was never stopped"
        script.cookies.clear()
        assert script.get(f"/r/{code}").status_code == 429  # right codes too: no oracle
    # 30 fresh ids with one guess each, then the shared cookie-less client's 20; the
    # ceiling of 40 is passed meanwhile, which refuses the shared client at once.
    assert guesses <= 30 + 20, guesses
    with world.as_("phone") as phone:
        assert phone.get(f"/r/{code}").status_code == 200
    count("attacks refused: join-code guesses over the limit", 2)


def test_the_join_limit_forgets_after_a_minute_and_counts_per_client() -> None:
    now = [1000.0]
    lookups = FailedLookups(clock=lambda: now[0])
    for _ in range(20):
        lookups.failed("198.51.100.1", "guesser")
    assert lookups.blocked("198.51.100.1", "guesser")
    assert not lookups.blocked("198.51.100.1", "phone")
    assert not lookups.blocked("198.51.100.1", None)
    assert not lookups.blocked("198.51.100.2", "guesser")
    now[0] += 61
    assert not lookups.blocked("198.51.100.1", "guesser") and len(lookups) == 0


def test_past_the_address_ceiling_only_clients_without_failures_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(throttle, "ADDRESS_FAILURES_PER_MINUTE", 100)
    lookups = FailedLookups(clock=lambda: 1000.0)
    for cookie in range(50):  # a guesser with fifty cookies, two guesses each
        lookups.failed("198.51.100.1", f"c{cookie}")
        lookups.failed("198.51.100.1", f"c{cookie}")
    assert lookups.blocked("198.51.100.1", "c0"), "a cookie that guessed is refused"
    assert lookups.blocked("198.51.100.1", None), "so is a cookie-less lookup"
    assert not lookups.blocked("198.51.100.1", "phone"), "a phone that did not guess is not"
    assert not lookups.blocked("198.51.100.2", "c0"), "nor is another address"
    # Fresh ids for cookie-less lookups run out per address.
    monkeypatch.setattr(throttle, "NEW_IDS_PER_MINUTE", 3)
    assert [lookups.may_issue("198.51.100.1") for _ in range(4)] == [True, True, True, False]
    assert lookups.may_issue("198.51.100.2")


def test_poll_serve_caps_websocket_frames_and_keeps_access_logs_off(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = uvicorn_options(monkeypatch, tmp_path)
    assert seen["ws_max_size"] <= 64 * 1024
    assert seen["access_log"] is False


def test_one_participant_cookie_holds_only_a_handful_of_sockets(world: World) -> None:
    """998 idle sockets on one cookie once held the server's descriptors; now the
    ninth is refused, and another phone (another cookie) is not affected."""
    _room, code = world.start_run()
    cap = live_ws.SOCKETS_PER_PARTICIPANT
    with world.as_("phone") as phone, contextlib.ExitStack() as tabs:
        phone.get(f"/r/{code}")
        for _ in range(cap):
            ws = tabs.enter_context(phone.websocket_connect(f"/ws/participant/{code}"))
            assert ws.receive_json()["type"] == "snapshot"
        with (
            pytest.raises(WebSocketDisconnect) as refused,
            phone.websocket_connect(f"/ws/participant/{code}") as extra,
        ):
            extra.receive_json()
        assert refused.value.code == 1008
        count("attacks refused: sockets over the limit of one participant", 1)
        with world.as_("other") as other:
            other.get(f"/r/{code}")
            with other.websocket_connect(f"/ws/participant/{code}") as ws:
                assert ws.receive_json()["type"] == "snapshot"
        tabs.close()  # the tabs are closed: the cookie may connect again
    with world.as_("phone") as phone, phone.websocket_connect(f"/ws/participant/{code}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
    assert not world.app.state.poll.participant_sockets
