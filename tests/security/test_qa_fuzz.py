"""Hostile input for a Q&A board: any raw answer, any form a phone posts, any vote over
the websocket, any mark the console sends. Never a crash or a traceback; a refusal
changes nothing in the store; what is stored is clean text within its limits, and the
upvote counts always equal a recount of the stored upvotes."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from poll.questions.base import AnswerRefused
from poll.questions.qa import NAME_MAX_LENGTH, REF, QandA, split_text
from poll.text import clean_text
from tests.security.conftest import PROFILE, World, count, examples, store_dump
from tests.security.strategies import json_values, submission_ids, texts
from tests.security.test_form_fuzz import form_text, no_crash
from tests.security.test_ws_fuzz import PARTICIPANT_REPLIES, check_frame, drain_first
from tests.web.conftest import csrf_of, token_of

pytestmark = pytest.mark.usefixtures("generous_limits")

SESSION = "qa"
#: Refs a phone might send: the board's own (small numbers), and anything else.
refs = st.one_of(st.integers(0, 40).map(str), texts, json_values)
qa_answers = st.one_of(
    st.fixed_dictionaries(
        {}, optional={"text": st.one_of(texts, json_values), "name": st.one_of(texts, json_values)}
    ),
    st.fixed_dictionaries({"up": refs}, optional={"text": texts}),
    json_values,
)


@settings(settings.get_profile(PROFILE), max_examples=examples())
@given(raw=qa_answers)
def test_any_raw_answer_is_a_clean_question_an_upvote_or_a_refusal(raw: Any) -> None:
    question = QandA(id="ask", title="Ask", max_length=280)
    try:
        answer = question.validate(raw)
    except AnswerRefused as refused:
        assert str(refused)
        count("attacks refused: malformed Q&A answers")
        return
    finally:
        count("hypothesis examples: Q&A answers")
    if answer.keys:
        (key,) = answer.keys
        assert key.startswith("up:") and REF.fullmatch(key[3:]) and answer.text is None
        assert question.mode_for(answer) == "toggle"
        return
    assert isinstance(raw, dict) and answer.text is not None
    text, name = split_text(answer.text)
    assert text == clean_text(str(raw["text"])) and 0 < len(text) <= 280
    assert name is None or (name == clean_text(name) and 0 < len(name) <= NAME_MAX_LENGTH)
    assert question.mode_for(answer) == "append"


def board_is_consistent(world: World, room: str) -> None:
    """Stored texts are clean and short; every upvote count equals a recount of the entries."""
    dump = store_dump(world, room)[room]
    stored: Counter[str] = Counter()
    for question_id, _participant, _ref, answer, _hidden in dump["responses"]:
        if question_id not in ("ask", "panel"):
            continue
        stored.update(key for key in answer["keys"] if key.startswith("up:"))
        if answer["text"] is not None:
            text, name = split_text(answer["text"])
            assert text == clean_text(text) and 0 < len(text) <= 280
            assert name is None or (name == clean_text(name) and len(name) <= NAME_MAX_LENGTH)
    counted: Counter[str] = Counter()
    for question_id, (_respondents, counts, _texts) in dump["aggregates"].items():
        if question_id in ("ask", "panel"):
            counted.update({k: n for k, n in counts.items() if k.startswith("up:") and n})
    assert counted == stored


#: Forms a real phone could post: the right token and question, a question or an upvote.
plausible_forms = st.fixed_dictionaries(
    {
        "token": st.just("VALID"),
        "question_id": st.just("ask"),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    },
    optional={"text": form_text, "name": form_text, "up": st.sampled_from(["1", "2", "3"])},
)
vote_forms = plausible_forms | st.fixed_dictionaries(
    {},
    optional={
        "token": st.just("VALID") | form_text,
        "question_id": st.sampled_from(["ask", "panel", "herkennen", ""]) | form_text,
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | form_text,
        "text": form_text,
        "name": form_text,
        "up": st.integers(0, 12).map(str) | form_text,
    },
)


def test_a_phone_posting_any_form_to_a_board_changes_nothing_unless_saved(world: World) -> None:
    room, code = world.start_run(SESSION)
    world.go_to(room, "ask")
    with world.as_("asker") as asker:  # questions to upvote
        form = {"token": token_of(asker.get(f"/r/{code}").text), "question_id": "ask"}
        for n in range(2):
            asker.post(f"/r/{code}", data={**form, "submission_id": f"a{n}", "text": f"Q{n}?"})
    saved: list[dict[str, Any]] = []
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
        phone.get(f"/r/{code}")  # with her cookie back: she has joined (a change of its own)

        @settings(settings.get_profile(PROFILE), max_examples=examples())
        @given(form=vote_forms)
        def one(form: dict[str, Any]) -> None:
            before = store_dump(world, room)
            if form.get("token") == "VALID":
                form["token"] = token
            response = phone.post(f"/r/{code}", data=form, follow_redirects=False)
            no_crash(response)
            page = phone.get(f"/r/{code}")
            no_crash(page)
            if store_dump(world, room) != before:
                assert 'class="vote-status saved"' in page.text
                count("votes acknowledged during fuzzing")
                saved.append(form)
            else:
                count("attacks refused: malformed or refused Q&A form posts")
            board_is_consistent(world, room)
            count("hypothesis examples: Q&A vote form")

        one()
    assert saved, "no generated form was a vote the board takes: the fuzzing missed the path"


qa_votes = st.fixed_dictionaries(
    {
        "type": st.just("vote"),
        "question_id": st.just("ask"),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        "answer": st.one_of(
            st.fixed_dictionaries({"up": st.sampled_from(["1", "2"])}),
            st.fixed_dictionaries({"text": texts}, optional={"name": texts}),
        ),
    }
) | st.fixed_dictionaries(
    {"type": st.just("vote")},
    optional={
        "question_id": st.sampled_from(["ask", "panel", "nope"]) | json_values,
        "submission_id": submission_ids,
        "answer": qa_answers,
    },
)


def test_a_phone_sending_any_vote_to_a_board_changes_nothing_it_was_refused(
    world: World,
) -> None:
    room, code = world.start_run(SESSION)
    world.go_to(room, "ask")
    with world.as_("asker") as asker:
        form = {"token": token_of(asker.get(f"/r/{code}").text), "question_id": "ask"}
        asker.post(f"/r/{code}", data={**form, "submission_id": "a0", "text": "Why?"})
    acks: list[dict[str, Any]] = []
    with world.as_("phone") as phone:
        phone.get(f"/r/{code}")
        with phone.websocket_connect(f"/ws/participant/{code}") as ws:
            drain_first(ws)

            @settings(settings.get_profile(PROFILE), max_examples=examples())
            @given(message=qa_votes)
            def one(message: dict[str, Any]) -> None:
                frame = ("text", json.dumps(message))
                replies = check_frame(world, ws, (room,), frame, PARTICIPANT_REPLIES, "Q&A phone")
                acks.extend(r for r in replies if r["type"] == "ack")
                for ack in (r for r in replies if r["type"] == "ack"):
                    stored = [
                        {**answer, "ref": ref}
                        for question, _p, ref, answer, _h in store_dump(world, room)[room][
                            "responses"
                        ]
                        if question == ack["question_id"]
                    ]
                    count("votes acknowledged during fuzzing")
                    # Her answers as acknowledged, refs and all, are what the store holds.
                    assert all(mine in stored for mine in ack["mine"]), (ack, stored)
                board_is_consistent(world, room)

            one()
    assert acks, "no generated vote was one the board takes: the fuzzing missed the path"


mark_forms = st.fixed_dictionaries(
    {
        "action": st.just("mark"),
        "csrf": st.just("VALID"),
        "question_id": st.just("panel"),
        "key": st.sampled_from(["pinned", "state:1"]),
        "value": st.sampled_from(["approved", "answered", "1", ""]),
    }
) | st.fixed_dictionaries(
    {"action": st.just("mark")},
    optional={
        "csrf": st.just("VALID") | form_text,
        "question_id": st.sampled_from(["ask", "panel", "herkennen"]) | form_text,
        "key": st.sampled_from(["pinned", "state:1", "state:2", "state:", "up:1"]) | form_text,
        "value": st.sampled_from(["approved", "answered", "hidden", "1", "", "1 2"]) | form_text,
    },
)


def test_console_marks_with_any_fields_answer_clearly(world: World) -> None:
    room, code = world.start_run(SESSION)
    world.go_to(room, "panel")
    with world.as_("asker") as asker:
        form = {"token": token_of(asker.get(f"/r/{code}").text), "question_id": "panel"}
        asker.post(f"/r/{code}", data={**form, "submission_id": "a0", "text": "Why?"})
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    allowed = QandA(id="panel", title="P", moderation="before")
    taken: list[dict[str, Any]] = []

    @settings(settings.get_profile(PROFILE), max_examples=examples(0.5))
    @given(form=mark_forms)
    def one(form: dict[str, Any]) -> None:
        before = store_dump(world, room)
        valid_csrf = form.get("csrf") == "VALID"
        if valid_csrf:
            form["csrf"] = csrf
        response = world.client.post(f"/console/room/{room}", data=form, follow_redirects=False)
        no_crash(response)
        value = form.get("value") or None
        takes = form.get("question_id") in ("ask", "panel") and allowed.mark_allowed(
            str(form.get("key") or ""), value
        )
        if valid_csrf and takes:
            assert response.status_code == 303
            taken.append(form)
        else:
            assert response.status_code in (303, 400, 403, 409)
            assert store_dump(world, room) == before
            count("attacks refused: malformed or refused console marks")
        count("hypothesis examples: console marks")

    one()
    assert taken, "no generated mark was one the board takes: the fuzzing missed the path"
