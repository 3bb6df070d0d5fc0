"""Hostile answers to a quiz question: any frame on the websocket and any form post,
with any nickname (taken, empty, invisible, too long, not a text, a formula). The
server answers clearly, never shows a traceback, and neither the answers nor the
room's nicknames change unless the vote was acknowledged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.security.conftest import PROFILE, World, count, examples, store_dump
from tests.security.strategies import anything_like, frames, json_values, submission_ids, texts
from tests.security.test_form_fuzz import form_text, no_crash
from tests.security.test_ws_fuzz import PARTICIPANT_REPLIES, check_frame, drain_first
from tests.web.conftest import token_of

pytestmark = pytest.mark.usefixtures("generous_limits")

QUIZ_IDS = ["capital", "giants", "half-time", "quiz-welcome", "herkennen", ""]
QUIZ_OPTIONS = ["paris", "london", "rome", "madrid", "jupiter", "_other", "", "PARIS"]
#: Nicknames that must be refused, or cleaned, or found taken ("Anna" plays already).
NICKNAMES = [
    "Anna",
    "ANNA",
    "anna\u200b",
    "Anna\u200d",
    " ",
    "\u200b",
    "x" * 25,
    "=cmd|' /C calc'!A0",
    "<script>alert(1)</script>",
    "Zoë",
    "Zoe\u0308",
]

nicknames = st.one_of(st.sampled_from(NICKNAMES), texts, json_values)
quiz_answers = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"choice": anything_like(QUIZ_OPTIONS), "nickname": nicknames}
    ),
    json_values,
)
quiz_votes = st.fixed_dictionaries(
    {"type": st.just("vote")},
    optional={
        "question_id": anything_like(QUIZ_IDS),
        "submission_id": submission_ids,
        "answer": quiz_answers,
    },
)
#: Votes a real phone could send: the open question, a real option, some nickname.
plausible_quiz_votes = st.fixed_dictionaries(
    {
        "type": st.just("vote"),
        "question_id": st.just("capital"),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        "answer": st.fixed_dictionaries(
            {
                "choice": st.sampled_from(QUIZ_OPTIONS[:4]),
                "nickname": st.sampled_from([*NICKNAMES, "Ben", "Cleo"]) | nicknames,
            }
        ),
    }
)
quiz_frames = st.one_of(
    plausible_quiz_votes.map(lambda m: ("text", json.dumps(m))),
    quiz_votes.map(lambda m: ("text", json.dumps(m))),
    quiz_votes.map(lambda m: ("text", json.dumps(m))),
    frames,
)


def names_of(world: World, room: str) -> dict[str, str]:
    portal = world.client.portal
    assert portal is not None
    names: dict[str, str] = portal.call(world.app.state.poll.store.names, room)
    return names


def start_quiz(world: World) -> tuple[str, str]:
    """A quiz run at its first question, where "Anna" plays already."""
    room, code = world.start_run("quiz")
    world.go_to(room, "capital")
    with world.as_("anna") as phone:
        page = phone.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "capital", "choice": "rome"}
        phone.post(f"/r/{code}", data={**form, "submission_id": "a1", "nickname": "Anna"})
    assert list(names_of(world, room).values()) == ["Anna"]
    return room, code


def test_a_phone_sending_anything_to_a_quiz_changes_nothing_it_was_refused(
    world: World,
) -> None:
    room, code = start_quiz(world)
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            drain_first(ws)

            @settings(settings.get_profile(PROFILE), max_examples=examples())
            @given(frame=quiz_frames)
            def one(frame: Any) -> None:
                names = names_of(world, room)
                replies = check_frame(world, ws, (room,), frame, PARTICIPANT_REPLIES, "quiz")
                acked = any(reply["type"] == "ack" for reply in replies)
                after = names_of(world, room)
                if not acked:
                    assert after == names, f"a refused frame changed the nicknames: {frame!r:.300}"
                for reply in replies:
                    if reply.get("reason") == "nickname_taken":
                        count("attacks refused: nicknames already taken")
                    if reply["type"] == "ack":
                        count("votes acknowledged during fuzzing")
                assert list(after.values()).count("Anna") == 1
                # Whatever was sent, a nickname on record is a clean, short text.
                assert all(0 < len(name) <= 24 and name == name.strip() for name in after.values())

            one()
    stored = store_dump(world, room)[room]["responses"]
    assert len({participant for _q, participant, *_ in stored}) <= 2  # Anna, this phone


plausible_quiz_forms = st.fixed_dictionaries(
    {
        "token": st.just("VALID"),
        "question_id": st.just("capital"),
        "choice": st.sampled_from(QUIZ_OPTIONS[:4]),
    },
    optional={"nickname": st.sampled_from(NICKNAMES) | form_text},
)
any_quiz_forms = st.fixed_dictionaries(
    {},
    optional={
        "token": st.just("VALID") | form_text,
        "question_id": st.sampled_from(QUIZ_IDS) | form_text,
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | form_text,
        "choice": st.sampled_from(QUIZ_OPTIONS) | form_text,
        "nickname": st.sampled_from(NICKNAMES) | form_text,
    },
)
quiz_forms = plausible_quiz_forms | any_quiz_forms


def test_a_phone_posting_any_quiz_form_changes_nothing_unless_saved(world: World) -> None:
    room, code = start_quiz(world)
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
        phone.get(f"/r/{code}")  # with her cookie back: she has joined (a change of its own)

        @settings(settings.get_profile(PROFILE), max_examples=examples())
        @given(form=quiz_forms)
        def one(form: dict[str, Any]) -> None:
            before, names = store_dump(world, room), names_of(world, room)
            if form.get("token") == "VALID":
                form["token"] = token
            response = phone.post(f"/r/{code}", data=form, follow_redirects=False)
            no_crash(response)
            page = phone.get(f"/r/{code}")
            no_crash(page)
            if store_dump(world, room) != before:
                assert 'class="vote-status saved"' in page.text
                count("votes acknowledged during fuzzing")
            else:
                assert names_of(world, room) == names
                count("attacks refused: malformed or refused form posts")
            count("hypothesis examples: quiz vote form")

        one()
