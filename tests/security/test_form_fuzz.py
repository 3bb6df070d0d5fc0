"""Hostile form posts and query strings: the participant's vote form, the code entry,
the console's forms and the login. Never a 500 or a traceback; a refused post
leaves the store as it was."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from poll.store.base import Store
from tests.security.conftest import PROFILE, World, count, examples, store_dump
from tests.security.strategies import ACTIONS, OPTION_IDS, QUESTION_IDS, WORD_QUESTIONS
from tests.support.scripts import ENGLISH
from tests.web.conftest import csrf_of, token_of

pytestmark = pytest.mark.usefixtures("generous_limits")

# Form values are text; httpx cannot send lone surrogates, raw bodies cover bytes.
form_text = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1990, max_size=2100),
    st.sampled_from(["", "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "1e400", "-1"]),
)


def like(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), form_text)


vote_forms = st.fixed_dictionaries(
    {},
    optional={
        "token": st.just("VALID") | form_text,
        "question_id": like(QUESTION_IDS[:9]),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | form_text,
        "choice": like(OPTION_IDS),
        "choices": st.lists(like(OPTION_IDS), max_size=6),
        "other": form_text,
        "text": form_text,
    },
)
raw_bodies = st.tuples(
    st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/plain",
        ]
    ),
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            [
                b"text=%ff%fe&question_id=%ed%a0%80",
                b'--xyz\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xff\r\n--xyz--',
                b'--xyz\r\nContent-Disposition: form-data; name="text"; filename="a"\r\n'
                b"\r\nabc\r\n--xyz--\r\n",
                b"a=" + b"x" * 300_000,
            ]
        ),
    ),
)


def no_crash(response: Any) -> None:
    assert response.status_code < 500, response.text[:500]
    assert "Traceback" not in response.text


def test_a_phone_posting_any_form_changes_nothing_unless_saved(world: World) -> None:
    room, code = world.start_run()
    other, _ = world.start_run(ENGLISH)
    world.go_to(room, "manieren")
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)
        phone.get(f"/r/{code}")  # with her cookie back: she has joined (a change of its own)

        @settings(settings.get_profile(PROFILE), max_examples=examples())
        @given(form=vote_forms, raw=st.none() | raw_bodies)
        def one(form: dict[str, Any], raw: tuple[str, bytes] | None) -> None:
            before = store_dump(world, room, other)
            if raw is not None:
                kind, body = raw
                response = phone.post(
                    f"/r/{code}", content=body, headers={"content-type": kind},
                    follow_redirects=False,
                )  # fmt: skip
            else:
                if form.get("token") == "VALID":
                    form["token"] = token
                response = phone.post(f"/r/{code}", data=form, follow_redirects=False)
            no_crash(response)
            page = phone.get(f"/r/{code}")
            no_crash(page)
            after = store_dump(world, room, other)
            if after != before:
                assert 'class="vote-status saved"' in page.text
                count("votes acknowledged during fuzzing")
            else:
                count("attacks refused: malformed or refused form posts")
            count("hypothesis examples: participant vote form")

        one()


VALID_WORDS = {"token": "VALID", "question_id": "square-words", "words": ["Trees", "", "C#"]}
# Mostly well-formed, sometimes anything.
word_forms = st.fixed_dictionaries(
    {
        "token": st.one_of(st.just("VALID"), st.just("VALID"), form_text),
        "question_id": st.one_of(st.just("square-words"), like(WORD_QUESTIONS)),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True) | form_text,
        "words": st.one_of(
            st.lists(st.sampled_from(["", "Trees", "trees!", "C#", "Straße", "bänke"]), max_size=4),
            st.lists(like(["", "Trees", "trees!", "?!", "=1+1", "C#"]), max_size=12),
        ),
    },
    optional={"text": form_text},
)


def test_a_phone_posting_any_form_to_a_word_cloud_changes_nothing_unless_saved(
    world: World,
) -> None:
    room, code = world.start_run("words")
    other, _ = world.start_run(ENGLISH)
    world.go_to(room, "square-words")
    with world.as_("phone") as phone:
        token = token_of(phone.get(f"/r/{code}").text)

        saved = []

        # Besides what hypothesis makes up: a vote that is saved, and one that changes it.
        @settings(settings.get_profile(PROFILE), max_examples=examples(0.5))
        @given(form=word_forms)
        @example(form={**VALID_WORDS, "submission_id": "w1"})
        @example(form={**VALID_WORDS, "submission_id": "w2", "words": ["?!", "Trees"]})
        @example(form={**VALID_WORDS, "submission_id": "w3", "words": ["bänke", "", "=1+1"]})
        def one(form: dict[str, Any]) -> None:
            before = store_dump(world, room, other)
            if form.get("token") == "VALID":
                form["token"] = token
            response = phone.post(f"/r/{code}", data=form, follow_redirects=False)
            no_crash(response)
            page = phone.get(f"/r/{code}")
            no_crash(page)
            after = store_dump(world, room, other)
            if after != before:
                assert 'class="vote-status saved"' in page.text
                saved.append(form)
                count("votes acknowledged during fuzzing")
            else:
                count("attacks refused: malformed or refused form posts")
            count("hypothesis examples: participant vote form")

        one()
        assert saved, "no generated form was a vote that could be saved"


@settings(settings.get_profile(PROFILE), max_examples=examples())
@given(code=st.text(max_size=30) | st.from_regex(r"[0-9 -]{0,14}", fullmatch=True))
def _code_entry(world: World, code: str) -> None:
    for response in (
        world.client.get("/join", params={"code": code}, follow_redirects=False),
        world.client.get(f"/r/{quote(code, safe='')}"),
    ):
        no_crash(response)
        assert response.status_code in (200, 303, 400, 404, 429)
    count("hypothesis examples: code entry")


def test_code_entry_with_any_text_answers_clearly(world: World) -> None:
    world.start_run()
    with world.as_("phone"):
        _code_entry(world)


console_forms = st.fixed_dictionaries(
    {"action": like(ACTIONS[:-1])},  # "end" would end the fuzzing early; tested elsewhere
    optional={
        "csrf": st.just("VALID") | form_text,
        "index": st.integers(-(10**30), 10**30).map(str) | form_text,
        "question_id": like(QUESTION_IDS),
        "ref": st.from_regex(r"r[0-9]{1,2}", fullmatch=True) | form_text,
        "hidden": form_text,
        "anchor": form_text,
    },
)


def test_console_forms_with_any_fields_answer_clearly(world: World) -> None:
    room, code = world.start_run()
    other, _ = world.start_run(ENGLISH)
    world.go_to(room, "aanvullende-vragen")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "aanvullende-vragen", "text": "hallo"}
        phone.post(f"/r/{code}", data={**form, "submission_id": "s1"})
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)

    @settings(settings.get_profile(PROFILE), max_examples=examples())
    @given(form=console_forms, session_id=st.sampled_from(["", "nope", f"{ENGLISH} "]) | form_text)
    def one(form: dict[str, Any], session_id: str) -> None:
        before = store_dump(world, room, other)
        valid_csrf = form.get("csrf") == "VALID"
        if valid_csrf:
            form["csrf"] = csrf
        response = world.client.post(f"/console/room/{room}", data=form, follow_redirects=False)
        no_crash(response)
        if response.status_code != 303 or not valid_csrf:
            assert response.status_code in (400, 403, 409) or not valid_csrf
            assert store_dump(world, room, other) == before
            count("attacks refused: malformed or refused console forms")
        # Starting a run of a session that does not exist is refused, with nothing made.
        runs = world.client.post(
            "/console/rooms", data={"csrf": csrf, "session_id": session_id},
            follow_redirects=False,
        )  # fmt: skip
        no_crash(runs)
        assert runs.status_code == 400
        count("hypothesis examples: console forms")

    one()
    assert len(world.client.get("/console").text.split("/console/room/")) - 1 >= 2


@settings(settings.get_profile(PROFILE), max_examples=examples(0.5))
@given(token=form_text, raw=st.none() | raw_bodies)
def _login(world: World, token: str, raw: tuple[str, bytes] | None) -> None:
    if raw is not None:
        response = world.client.post(
            "/console/login", content=raw[1], headers={"content-type": raw[0]}
        )
    else:
        response = world.client.post("/console/login", data={"token": token})
    no_crash(response)
    # 400: a body that is not a form at all; 413: one over the body limit;
    # 429: ten wrong tokens a minute from this address already
    assert response.status_code in (400, 403, 413, 429)
    assert "poll_console" not in world.client.cookies
    count("hypothesis examples: login form")
    count("attacks refused: wrong facilitator tokens")


def test_login_with_any_token_is_refused_cleanly(world: World) -> None:
    with world.as_("stranger"):
        _login(world)


async def _marks(store: Store, room_id: str) -> dict[str, dict[str, str]]:
    return {qid: dict(a.marks) for qid, a in (await store.aggregates(room_id)).items()}


def marks_of(world: World, room_id: str) -> dict[str, dict[str, str]]:
    """The facilitator's marks on every question of the room, read on the app's loop."""
    portal = world.client.portal
    assert portal is not None, "the TestClient is not running"
    found: dict[str, dict[str, str]] = portal.call(_marks, world.app.state.poll.store, room_id)
    return found


VALID_MARK = {"action": "mark", "csrf": "VALID", "question_id": "square-words", "key": "hide:trees"}
# Mostly the console's own form, sometimes anything.
mark_forms = st.fixed_dictionaries(
    {
        "action": st.just("mark"),
        "csrf": st.one_of(st.just("VALID"), st.just("VALID"), form_text),
        "question_id": st.one_of(st.just("square-words"), like([*WORD_QUESTIONS, "herkennen"])),
        "key": st.one_of(
            st.sampled_from(["hide:trees", "hide:b"]),
            like(
                ["hide:Trees", "hide:trees!", "hide:", "pin:trees", "hide:" + "x" * 300,
                 "hide:open space", "hide:straße", "hide:strasse"]
            ),
        ),
        "value": st.one_of(st.sampled_from(["1", ""]), like(["0", "yes"])),
    },
)  # fmt: skip


def test_console_marks_on_a_word_cloud_hide_only_counted_words(world: World) -> None:
    room, code = world.start_run("words")
    world.go_to(room, "square-words")
    with world.as_("phone") as phone:
        page = phone.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "square-words"}
        phone.post(f"/r/{code}", data={**form, "submission_id": "s1", "words": ["Trees", "b"]})
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)

    accepted = []

    # Besides what hypothesis makes up: hiding a counted word, and showing it again.
    @settings(settings.get_profile(PROFILE), max_examples=examples(0.5))
    @given(form=mark_forms)
    @example(form={**VALID_MARK, "value": "1"})
    @example(form={**VALID_MARK, "value": ""})
    @example(form={**VALID_MARK, "key": "hide:Trees", "value": "1"})
    def one(form: dict[str, Any]) -> None:
        before = marks_of(world, room)
        valid_csrf = form.get("csrf") == "VALID"
        if valid_csrf:
            form["csrf"] = csrf
        response = world.client.post(f"/console/room/{room}", data=form, follow_redirects=False)
        no_crash(response)
        after = marks_of(world, room)
        if response.status_code == 303 and valid_csrf:
            # Only a counted word's hide mark, set to "1" or cleared, on a word cloud.
            for question, marks in after.items():
                assert question in WORD_QUESTIONS, after
                for key, value in marks.items():
                    assert value == "1" and key.startswith("hide:"), after
                    word = key.removeprefix("hide:")
                    assert word and word == word.casefold() and len(word) <= 80, after
            accepted.append(form)
            count("console marks set")
        else:
            assert response.status_code in (400, 403, 409) or not valid_csrf
            assert after == before
            count("attacks refused: malformed or refused console forms")
        count("hypothesis examples: console forms")

    one()
    assert accepted, "no generated form was a mark the console could set"
