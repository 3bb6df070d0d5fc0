"""The Q&A question: its script keys, questions and upvotes, who may upvote what, the
board each audience sees (moderated or not), its CSV, its run on both stores with
2,000 phones, its screens and its forms without JavaScript."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
from collections import Counter

import pytest

from poll.answers import Aggregate, Answer, TextEntry
from poll.questions import REGISTRY, AnswerRefused
from poll.questions.qa import NAME_MAX_LENGTH, QandA, split_text, stored_text
from poll.rooms import (
    InvalidAnswer,
    InvalidMark,
    Room,
    Rooms,
    StoreUnavailable,
    TooManyAnswers,
    VoteReceipt,
)
from poll.script import parse_script
from poll.store.base import Store
from poll.web.screens import Screens
from tests.questions.items import one_item, one_item_problems, refusal
from tests.web.conftest import World, csrf_of, token_of
from tests.web.conftest import world as world  # the fixture, for the forms' round trip


def board(moderation: str = "none", **fields: int) -> QandA:
    return QandA(id="ask", title="Ask the alderman", moderation=moderation, **fields)  # type: ignore[arg-type]


def script(item: str) -> str:
    return one_item("qa", item)


def problems(item: str) -> list[str]:
    return one_item_problems("qa", item)


# The script ------------------------------------------------------------------------


def test_a_board_reads_its_keys_and_defaults() -> None:
    parsed = parse_script(
        script("""
        id: ask
        prompt: Ask the alderman
        moderation: before
        max_length: 140
        max_questions: 2
        """)
    )
    question = parsed.sessions["s"].questions["ask"]
    assert isinstance(question, QandA) and REGISTRY["qa"] is QandA
    assert (question.moderation, question.max_length, question.max_questions) == ("before", 140, 2)
    assert question.answer_mode == "append" and question.max_entries == 2
    plain = parse_script(script("prompt: Anything?")).sessions["s"].items[0]
    assert isinstance(plain, QandA)
    assert (plain.moderation, plain.max_length, plain.max_questions) == ("none", 280, 3)
    # The run's own copy reads back into an equal question.
    again = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - "
        + repr(question.to_spec()).replace("'", '"')
        + "\n"
    )
    assert again.sessions["s"].questions["ask"] == question


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (
            "prompt: P\nmoderation: after",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none (questions appear "
            "at once) or before (you approve each first), not 'after'",
        ),
        (
            "prompt: P\nmoderation: no",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none (questions appear "
            "at once) or before (you approve each first), not false; YAML reads no/off/yes/on "
            "as true/false",
        ),
        (
            "prompt: P\nmoderation: [before]",
            "sessions.yaml:8:21: sessions.s.items[0].moderation: must be none",
        ),
        (
            "prompt: P\nmax_length: 0",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be between 1 and 2000, not 0",
        ),
        (
            "prompt: P\nmax_length: 1.5",
            "sessions.yaml:8:21: sessions.s.items[0].max_length: must be a whole number, not 1.5",
        ),
        (
            "prompt: P\nmax_questions: 21",
            "sessions.yaml:8:24: sessions.s.items[0].max_questions: must be between 1 and 20, "
            "not 21",
        ),
        (
            "prompt: P\nmax_questions: three",
            "sessions.yaml:8:24: sessions.s.items[0].max_questions: must be a whole number, "
            "not 'three'",
        ),
        (
            "max_questions: 2",
            "sessions.yaml:6:9: sessions.s.items[0]: missing required key 'prompt' (a text)",
        ),
        ("prompt: ''", "sessions.yaml:7:17: sessions.s.items[0].prompt: must not be empty"),
        (
            "prompt: P\nmoderate: before",
            "sessions.yaml:8:9: sessions.s.items[0]: unknown key 'moderate' (did you mean "
            "'moderation'?)",
        ),
    ],
)
def test_poll_check_names_file_line_column_and_key(item: str, expected: str) -> None:
    found = problems(item)
    assert any(p.startswith(expected) for p in found), found


def test_every_wrong_key_is_reported_at_once() -> None:
    found = problems("prompt: P\nmoderation: later\nmax_length: -1\nmax_questions: 0")
    assert [p.split(": ")[1] for p in found] == [
        "sessions.s.items[0].moderation",
        "sessions.s.items[0].max_length",
        "sessions.s.items[0].max_questions",
    ]


# Questions and upvotes --------------------------------------------------------------


def test_a_question_is_cleaned_text_with_the_name_after_a_newline() -> None:
    question = board()
    assert question.validate({"text": "  Why\tnot\u200b   now? "}) == Answer(text="Why not now?")
    signed = question.validate({"text": "Who pays?", "name": " Ann\nde Vries "})
    # Newlines a participant types become spaces: the first one left is the separator.
    assert signed == Answer(text="Who pays?\nAnn de Vries")
    assert split_text(signed.text or "") == ("Who pays?", "Ann de Vries")
    assert split_text("Who pays?") == ("Who pays?", None)
    assert stored_text("Q", None) == "Q" and stored_text("Q", "") == "Q"
    # An empty or blank name is anonymous.
    assert question.validate({"text": "Q?", "name": " \u200b "}) == Answer(text="Q?")
    assert question.mode_for(signed) == "append"


def test_an_upvote_is_one_toggled_key() -> None:
    question = board()
    upvote = question.validate({"up": "17"})
    assert upvote == Answer(keys=("up:17",))
    assert question.mode_for(upvote) == "toggle"
    # An upvote wins over a text sent along (the page script reads the whole form).
    assert question.validate({"up": "17", "text": "draft", "name": "x"}) == upvote


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({}, "Write your question first."),
        ({"text": ""}, "Write your question first."),
        ({"text": " \u200b\ufeff "}, "Write your question first."),
        ({"text": "x" * 281}, "Your question is 281 characters long; at most 280 fit."),
        (
            {"text": "Q", "name": "n" * (NAME_MAX_LENGTH + 1)},
            f"Your name is {NAME_MAX_LENGTH + 1} characters long; at most {NAME_MAX_LENGTH} fit.",
        ),
        ({"text": 5}, "not in a form"),
        ({"text": ["Q"]}, "not in a form"),
        ({"text": "Q", "name": 7}, "not in a form"),
        ({"up": 17}, "not in a form"),
        ({"up": "17 OR 1=1"}, "not in a form"),
        ({"up": "x" * 41}, "not in a form"),
        ("Why?", "not in a form"),
        (None, "not in a form"),
    ],
)
def test_refusals_say_what_is_wrong(raw: object, message: str) -> None:
    assert message in refusal(board(), raw)


def test_max_length_is_the_scripts() -> None:
    assert board(max_length=10).validate({"text": "x" * 10}) == Answer(text="x" * 10)
    assert "11 characters long; at most 10" in refusal(board(max_length=10), {"text": "x" * 11})


def test_the_form_without_javascript_reads_into_the_same_shape() -> None:
    question = board()
    fields = {"text": ["Why?"], "name": ["Ann"], "token": ["x"], "question_id": ["ask"]}
    assert question.answer_from_form(fields) == {"text": "Why?", "name": "Ann", "up": ""}
    assert question.validate(question.answer_from_form(fields)) == Answer(text="Why?\nAnn")
    upvote = question.answer_from_form({"up": ["3"], "token": ["x"]})
    assert question.validate(upvote) == Answer(keys=("up:3",))


def test_the_console_may_set_only_the_boards_marks() -> None:
    question = board("before")
    assert question.mark_allowed("state:12", "approved")
    assert question.mark_allowed("state:12", "answered")
    assert question.mark_allowed("state:12", None)
    assert question.mark_allowed("pinned", "12") and question.mark_allowed("pinned", None)
    assert not question.mark_allowed("state:12", "hidden")  # hiding is moderation
    assert not question.mark_allowed("state:12", "")
    assert not question.mark_allowed("state:", "approved")
    assert not question.mark_allowed("state:1 2", "approved")
    assert not question.mark_allowed("pinned", "a b")
    assert not question.mark_allowed("pinned", "")
    assert not question.mark_allowed("up:12", "1")
    assert not question.mark_allowed("colour", "red")


# Who may upvote what ------------------------------------------------------------------


def entries(*texts: str, hidden: tuple[str, ...] = ()) -> tuple[TextEntry, ...]:
    """Text entries with refs "1", "2", … in the order given."""
    return tuple(
        TextEntry(str(n), text, hidden=str(n) in hidden) for n, text in enumerate(texts, 1)
    )


def admit_refusal(question: QandA, raw: object, mine: list[Answer], aggregate: Aggregate) -> str:
    with pytest.raises(AnswerRefused) as caught:
        question.admit(question.validate(raw), mine, aggregate)
    return str(caught.value)


def test_upvoting_needs_a_question_on_the_board_that_is_not_hers() -> None:
    question = board()
    aggregate = Aggregate(respondents=2, texts=entries("Mine?", "Theirs?", "Gone?", hidden=("3",)))
    mine = [Answer(text="Mine?", ref="1")]
    question.admit(question.validate({"up": "2"}), mine, aggregate)  # no refusal
    question.admit(question.validate({"text": "Another?"}), mine, aggregate)
    assert admit_refusal(question, {"up": "1"}, mine, aggregate) == (
        "You cannot upvote your own question."
    )
    assert admit_refusal(question, {"up": "9"}, mine, aggregate) == (
        "That question is not on the board."
    )
    assert admit_refusal(question, {"up": "3"}, mine, aggregate) == (
        "That question has been taken off the board."
    )


def test_moderated_questions_take_upvotes_once_approved() -> None:
    question = board("before")
    texts = entries("Waiting?", "Approved?", "Answered?")
    marks = {"state:2": "approved", "state:3": "answered"}
    aggregate = Aggregate(respondents=3, texts=texts, marks=marks)
    assert admit_refusal(question, {"up": "1"}, [], aggregate) == (
        "That question is waiting for the facilitator's approval."
    )
    question.admit(question.validate({"up": "2"}), [], aggregate)
    question.admit(question.validate({"up": "3"}), [], aggregate)
    # Without moderation the same question is on the board at once.
    board().admit(board().validate({"up": "1"}), [], aggregate)


def test_taking_an_upvote_back_is_always_allowed() -> None:
    question = board("before")
    aggregate = Aggregate(respondents=2, texts=entries("Q?", hidden=("1",)))
    mine = [Answer(keys=("up:1",), ref="8")]
    question.admit(question.validate({"up": "1"}), mine, aggregate)  # hidden, unapproved: fine


# The board per audience ---------------------------------------------------------------


def votes(**per_ref: int) -> dict[str, int]:
    return {f"up:{ref.lstrip('r')}": count for ref, count in per_ref.items()}


def test_the_board_sorts_by_votes_then_by_time() -> None:
    aggregate = Aggregate(
        respondents=6,
        counts=votes(r1=1, r2=3, r3=1, r4=0),
        texts=entries("First?", "Second?\nBo", "Third?", "Fourth?"),
    )
    results = board().results_for(aggregate, "projector")
    assert [(q["text"], q["votes"]) for q in results["questions"]] == [
        ("Second?", 3),
        ("First?", 1),
        ("Third?", 1),
        ("Fourth?", 0),
    ]
    assert results["questions"][0]["name"] == "Bo"
    assert results["questions"][1]["name"] is None  # never a name nobody gave
    assert results["kind"] == "qa" and results["count"] == 4 and results["pinned"] is None


def test_phones_and_projector_see_the_board_the_console_sees_everything() -> None:
    aggregate = Aggregate(
        respondents=5,
        counts=votes(r1=2, r2=4, r3=1, r4=0),
        texts=entries("Visible?", "Hidden?", "Waiting?", "Answered?\nAnn", hidden=("2",)),
        marks={"state:1": "approved", "state:4": "answered", "pinned": "4"},
    )
    moderated = board("before")
    public = {"ref", "text", "name", "votes", "answered", "pinned"}
    for audience in ("participant", "projector"):
        results = moderated.results_for(aggregate, audience)  # type: ignore[arg-type]
        assert [q["text"] for q in results["questions"]] == ["Visible?", "Answered?"]
        assert all(set(q) == public for q in results["questions"])
        assert results["pinned"] == {
            "ref": "4", "text": "Answered?", "name": "Ann", "votes": 0, "answered": True,
            "pinned": True,
        }  # fmt: skip
        assert "Hidden?" not in repr(results) and "Waiting?" not in repr(results)
    console = moderated.results_for(aggregate, "console")
    assert [(q["text"], q["state"], q["hidden"]) for q in console["questions"]] == [
        ("Hidden?", "pending", True),
        ("Visible?", "approved", False),
        ("Waiting?", "pending", False),
        ("Answered?", "answered", False),
    ]
    # Waiting: not approved and not hidden (hiding one is turning it down).
    assert console["pending"] == 1 and console["hidden"] == 1
    assert moderated.tally(aggregate) == console
    # Unmoderated, waiting is no state: every question not hidden is on the board.
    open_board = board().results_for(aggregate, "participant")
    assert [q["text"] for q in open_board["questions"]] == ["Visible?", "Waiting?", "Answered?"]


def test_a_pinned_question_that_is_hidden_is_on_no_public_screen() -> None:
    aggregate = Aggregate(respondents=1, texts=entries("Q?", hidden=("1",)), marks={"pinned": "1"})
    assert board().results_for(aggregate, "projector")["pinned"] is None
    assert board().results_for(aggregate, "console")["pinned"]["text"] == "Q?"


def test_nobody_asked_is_an_empty_board() -> None:
    results = board().results_for(Aggregate(), "participant")
    assert results == {
        "kind": "qa", "respondents": 0, "count": 0, "more": 0, "pinned": None, "questions": []
    }  # fmt: skip
    assert board().summary(Aggregate()) == []


def test_a_long_board_reaches_phones_as_its_top_and_its_newest() -> None:
    texts = entries(*(f"Q{n}?" for n in range(1, 61)))
    counts = votes(**{f"r{n}": 100 - n for n in range(1, 26)})  # Q1 most, Q25 least
    aggregate = Aggregate(respondents=9, counts=counts, texts=texts, marks={"pinned": "30"})
    phone = board().results_for(aggregate, "participant")
    shown = [q["text"] for q in phone["questions"]]
    # The 20 most upvoted, then the pinned one and the ten newest, in board order.
    assert shown == [f"Q{n}?" for n in (*range(1, 21), 30, *range(51, 61))]
    assert phone["count"] == 60 and phone["more"] == 60 - 31
    projector = board().results_for(aggregate, "projector")
    assert len(projector["questions"]) == 60 and projector["more"] == 0


def test_summary_rows_are_questions_with_their_votes() -> None:
    aggregate = Aggregate(
        respondents=4, counts=votes(r1=1, r2=3), texts=entries("Why?", "How?\nAnn")
    )
    assert board().summary(aggregate) == [("How? — Ann", 3, 75.0), ("Why?", 1, 25.0)]


# CSV -------------------------------------------------------------------------------------


def test_csv_rows_give_each_question_its_name_votes_and_state() -> None:
    question = board("before")
    aggregate = Aggregate(
        respondents=3,
        counts=votes(r1=2),
        texts=entries("Why?\nAnn", "How?"),
        marks={"state:1": "answered"},
    )
    assert question.csv_columns == ("name", "votes", "state")
    assert question.csv_rows(Answer(text="Why?\nAnn", ref="1"), aggregate) == [
        {"answer": "Why?", "name": "Ann", "votes": "2", "state": "answered"}
    ]
    assert question.csv_rows(Answer(text="How?", ref="2"), aggregate) == [
        {"answer": "How?", "name": "", "votes": "0", "state": "pending"}
    ]
    # An upvote names the question it is for.
    assert question.csv_rows(Answer(keys=("up:1",), ref="3"), aggregate) == [
        {"answer": "upvote: Why?"}
    ]
    assert question.csv_values(Answer(text="Why?\nAnn")) == ["Why?"]
    assert question.csv_values(Answer(keys=("up:1",))) == ["upvote: 1"]


# A run on both stores ---------------------------------------------------------------------

RUN = """
sessions:
  ask:
    title: Ask away
    language: en
    items:
      - type: qa
        id: board
        prompt: Questions for the alderman
      - type: qa
        id: panel
        prompt: Questions for the panel
        moderation: before
        max_questions: 1
"""


async def start(store: Store, item: int = 0) -> Room:
    parsed = parse_script(RUN)
    room = await Rooms(store, lambda: parsed).create("ask")
    await room.go(item)
    return room


#: Votes a phone sent again because the store was busy (see `send`).
RETRIED: Counter[str] = Counter()


async def send(
    room: Room, participant: str, question_id: str, sid: str, raw: object
) -> VoteReceipt:
    """A phone's vote, sent again with the same submission id while the store says
    "not saved, try again" (as the page script does): a burst of thousands of votes
    at once can keep Redis's connections busy past their wait. The same submission
    id is never counted twice, so a retried toggle does not toggle back."""
    for attempt in range(100):
        try:
            return await room.vote(participant, question_id, sid, raw)
        except StoreUnavailable:
            RETRIED[question_id] += 1
            await asyncio.sleep(0.05 * min(attempt + 1, 10))
    raise AssertionError(f"{participant}'s vote {sid} was never saved")


async def refs_of(room: Room, question_id: str) -> list[str]:
    return [entry.ref for entry in (await room.aggregates())[question_id].texts]


async def test_two_thousand_phones_upvote_and_take_back_at_once_and_the_counts_equal_a_recount(
    store: Store,
) -> None:
    room = await start(store)
    for n in range(30):
        name = "Ann" if n % 3 == 0 else ""
        await room.vote(f"asker-{n}", "board", f"ask-{n}", {"text": f"Question {n}?", "name": name})
    refs = await refs_of(room, "board")
    assert len(refs) == 30
    rng = random.Random(11)
    final: dict[str, set[str]] = {}

    async def phone(n: int) -> None:
        participant = f"phone-{n}"
        # A question toggled once or twice: up, or up and taken back; every fourth
        # phone upvotes a second one at the same time. The toggles of one question
        # follow each other, as a person's taps do.
        chosen = rng.sample(refs, 2 if n % 4 == 0 else 1)
        plan = {ref: rng.randint(1, 2) for ref in chosen}

        async def toggle(ref: str, times: int) -> None:
            for time in range(times):
                raw = {"up": ref} if time % 2 == 0 else {"up": ref, "text": "a draft"}
                await send(room, participant, "board", f"p{n}-{ref}-{time}", raw)

        await asyncio.gather(*(toggle(ref, times) for ref, times in plan.items()))
        final[participant] = {ref for ref, times in plan.items() if times % 2}

    await asyncio.gather(*(phone(n) for n in range(2000)))

    expected = Counter(ref for chosen in final.values() for ref in chosen)
    aggregate = (await room.aggregates())["board"]
    upvotes = {key: n for key, n in aggregate.counts.items() if key.startswith("up:") and n}
    assert upvotes == {f"up:{ref}": n for ref, n in expected.items()}
    # The stored entries say the same: every upvote left is one entry.
    stored: Counter[str] = Counter()
    async for response in room.responses():
        stored.update(response.answer.keys)
    assert stored == Counter({f"up:{ref}": n for ref, n in expected.items()})
    # Respondents: the askers, and every phone with an upvote left.
    assert aggregate.respondents == 30 + sum(1 for chosen in final.values() if chosen)
    # The board shows those counts, most first.
    shown = room.question("board").results_for(aggregate, "projector")["questions"]
    assert [q["votes"] for q in shown] == sorted(expected.values(), reverse=True) + [0] * (
        30 - len(expected)
    )
    assert {q["ref"]: q["votes"] for q in shown if q["votes"]} == dict(expected)

    # A retried toggle is the same submission: it does not take the upvote back.
    ref = next(iter(final["phone-0"] or {refs[0]}))
    first = await room.vote("phone-x", "board", "retry-1", {"up": ref})
    again = await room.vote("phone-x", "board", "retry-1", {"up": ref})
    assert (first.status, again.status) == ("saved", "duplicate")
    after = (await room.aggregates())["board"].counts.get(f"up:{ref}", 0)
    assert after == expected[ref] + 1


async def test_max_questions_holds_when_a_phone_sends_many_at_once(store: Store) -> None:
    room = await start(store)
    await room.vote("asker", "board", "a0", {"text": "To upvote?"})
    (target,) = await refs_of(room, "board")

    async def phone(n: int) -> list[object]:
        # Upvotes first: they take none of her three questions.
        await send(room, f"phone-{n}", "board", f"up-{n}", {"up": target})
        return await asyncio.gather(
            *(
                send(room, f"phone-{n}", "board", f"q-{n}-{k}", {"text": f"Q {n}.{k}"})
                for k in range(5)
            ),
            return_exceptions=True,
        )

    outcomes = await asyncio.gather(*(phone(n) for n in range(100)))
    for results in outcomes:
        assert sum(isinstance(r, VoteReceipt) for r in results) == 3, results
        assert sum(isinstance(r, TooManyAnswers) for r in results) == 2, results
    aggregate = (await room.aggregates())["board"]
    assert len(aggregate.texts) == 1 + 100 * 3
    assert aggregate.counts["up:" + target] == 100
    with pytest.raises(TooManyAnswers, match="You have sent 3 answers"):
        await room.vote("phone-0", "board", "late", {"text": "One more?"})


async def test_the_room_refuses_upvotes_of_her_own_hidden_or_waiting_questions(
    store: Store,
) -> None:
    room = await start(store, item=1)  # the moderated panel
    await room.vote("ann", "panel", "a1", {"text": "Mine?", "name": "Ann"})
    await room.vote("bo", "panel", "b1", {"text": "Bo's?"})
    own, other = await refs_of(room, "panel")
    with pytest.raises(InvalidAnswer, match="You cannot upvote your own question"):
        await room.vote("ann", "panel", "a2", {"up": own})
    with pytest.raises(InvalidAnswer, match="waiting for the facilitator's approval"):
        await room.vote("ann", "panel", "a3", {"up": other})
    await room.mark("panel", f"state:{other}", "approved")
    await room.vote("ann", "panel", "a4", {"up": other})
    with pytest.raises(InvalidAnswer, match="That question is not on the board"):
        await room.vote("ann", "panel", "a5", {"up": "999999"})
    assert await room.moderate("panel", other, True)
    with pytest.raises(InvalidAnswer, match="taken off the board"):
        await room.vote("cy", "panel", "c1", {"up": other})
    # Her upvote of it can still be taken back.
    await room.vote("ann", "panel", "a6", {"up": other})
    aggregate = (await room.aggregates())["panel"]
    assert aggregate.counts.get(f"up:{other}", 0) == 0
    # One question each on this board; her upvotes never counted against it.
    with pytest.raises(TooManyAnswers):
        await room.vote("ann", "panel", "a7", {"text": "Another?"})


async def test_the_console_sets_only_the_boards_marks(store: Store) -> None:
    room = await start(store, item=1)
    await room.vote("ann", "panel", "a1", {"text": "Q?"})
    (ref,) = await refs_of(room, "panel")
    await room.mark("panel", f"state:{ref}", "answered")
    await room.mark("panel", "pinned", ref)
    marks = (await room.aggregates())["panel"].marks
    assert dict(marks) == {f"state:{ref}": "answered", "pinned": ref}
    for key, value in (("state:" + ref, "hidden"), ("colour", "red"), ("pinned", "a b")):
        with pytest.raises(InvalidMark):
            await room.mark("panel", key, value)
    await room.mark("panel", "pinned", None)
    assert "pinned" not in (await room.aggregates())["panel"].marks


# Screens ---------------------------------------------------------------------------------


async def test_phones_see_the_board_while_it_runs_and_their_own_part_of_it(store: Store) -> None:
    room = await start(store, item=1)  # moderated
    await room.vote("ann", "panel", "a1", {"text": "Why <b>now</b>?", "name": "Ann"})
    await room.vote("bo", "panel", "b1", {"text": "Who pays?"})
    await room.vote("cy", "panel", "c1", {"text": "Hidden one?"})
    ann, bo, cy = await refs_of(room, "panel")
    await room.mark("panel", f"state:{ann}", "approved")
    await room.mark("panel", f"state:{cy}", "approved")
    await room.moderate("panel", cy, True)
    await room.vote("bo", "panel", "b2", {"up": ann})
    screens = Screens()
    view = room.view(await room.load(), "participant")
    # Not shown by the facilitator, yet phones have the board: its point is to upvote.
    assert view["results_shown"] is False and view["results"]["count"] == 1
    board_html = screens.snapshot_fields(view, "participant")["results_html"]
    assert "Why &lt;b&gt;now&lt;/b&gt;?" in board_html and "Ann" in board_html
    assert "Who pays?" not in board_html and "Hidden one?" not in board_html
    # The same board for every phone: no token, nothing pressed.
    assert 'name="token"' not in board_html and 'aria-pressed="true"' not in board_html
    assert f'name="up" value="{ann}"' in board_html and "1 vote" in board_html

    # Bo's stage: his question (waiting), his upvote, for the page script to mark.
    bo_mine = room.mine_json("panel", (await room.answers_of("bo"))["panel"])
    stage = screens.stage(view, bo_mine)
    assert f'data-upvoted="{ann}"' in stage and f'data-own="{bo}"' in stage
    assert "Your question" in stage and "Who pays?" in stage
    assert "You have asked the most questions this board takes." in stage  # one each here
    assert "The facilitator reads each question before it goes on the board." in stage

    # Projector: the board, the pinned question large; console: everything.
    await room.mark("panel", "pinned", ann)
    data = await room.load()
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert re.search(
        r'<figure class="qa-pinned">\s*<blockquote class="qa-text">Why &lt;b&gt;', projector
    )
    assert "Who pays?" not in projector and "Hidden one?" not in projector

    # Closed: no upvote forms, the counts stay.
    await room.close_vote("panel")
    closed = screens.snapshot_fields(room.view(await room.load(), "participant"), "participant")
    assert "qa-up" not in closed["results_html"] and "1 vote" in closed["results_html"]


async def test_results_hidden_keep_the_board_from_phones_until_shown(store: Store) -> None:
    parsed = parse_script(
        RUN.replace("        id: board\n", "        id: board\n        results: hidden\n")
    )
    room = await Rooms(store, lambda: parsed).create("ask")
    await room.go(0)
    await room.vote("ann", "board", "a1", {"text": "Q?"})
    assert room.view(await room.load(), "participant")["results"] is None
    await room.show_results("board")
    assert room.view(await room.load(), "participant")["results"]["count"] == 1


# Without JavaScript ------------------------------------------------------------------------


def test_asking_and_upvoting_without_javascript_round_trip(world: World) -> None:
    room, code = world.start_run("qa")
    world.go_to(room, "ask")
    with world.as_("ann") as ann:
        page = ann.get(f"/r/{code}").text
        form = {"token": token_of(page), "question_id": "ask"}
        refused = ann.post(f"/r/{code}", data={**form, "submission_id": "a0", "text": " "}).text
        assert "Write your question first." in refused
        ann.post(f"/r/{code}", data={**form, "submission_id": "a1", "text": "Why?", "name": "Ann"})
        after = ann.get(f"/r/{code}").text
        assert "Your answer is saved." in after
        assert "You can ask one more question." in after
        # Her own question is on the board, without an upvote form for her.
        own = re.search(r'data-ref="(\d+)".*?</li>', after, re.S)
        assert own and "qa-up" not in own.group(0) and "Your question" in own.group(0)
        ref_ann = own.group(1)
    with world.as_("bo") as bo:
        page = bo.get(f"/r/{code}").text
        # Each upvote is a small form of its own, with this page's token.
        up = re.search(
            r'<form method="post" action="/r/\d+" class="vote qa-up".*?</form>', page, re.S
        )
        assert up and f'value="{ref_ann}"' in up.group(0) and 'name="token"' in up.group(0)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', up.group(0)))
        assert fields["up"] == ref_ann and fields["question_id"] == "ask"
        response = bo.post(f"/r/{code}", data=fields, follow_redirects=False)
        assert response.status_code == 303
        pressed = bo.get(f"/r/{code}").text
        assert 'aria-pressed="true"' in pressed and "1 vote" in pressed
        # The same form again (a new page, a new submission id) takes it back.
        up = re.search(
            r'<form method="post" action="/r/\d+" class="vote qa-up".*?</form>', pressed, re.S
        )
        assert up
        bo.post(f"/r/{code}", data=dict(re.findall(r'name="([^"]+)" value="([^"]*)"', up.group(0))))
        taken_back = bo.get(f"/r/{code}").text
        assert 'aria-pressed="true"' not in taken_back and "0 votes" in taken_back
        again = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', up.group(0)))
        bo.post(f"/r/{code}", data={**again, "submission_id": again["submission_id"] + "x"})
    with world.as_("ann") as ann:
        refused = ann.post(f"/r/{code}", data={**form, "submission_id": "a2", "up": ref_ann}).text
        assert "You cannot upvote your own question." in refused

    # The moderated panel: the console approves, marks answered and pins.
    world.go_to(room, "panel")
    with world.as_("cy") as cy:
        page = cy.get(f"/r/{code}").text
        cy.post(
            f"/r/{code}",
            data={"token": token_of(page), "question_id": "panel", "submission_id": "c1",
                  "text": "=HYPERLINK(\"x\")", "name": ""},
        )  # fmt: skip
        assert "qa-item" not in cy.get(f"/r/{code}").text  # waiting for approval
    console = world.client.get(f"/console/room/{room}").text
    assert "1 waiting for approval" in console and "Approve" in console
    ref_cy = re.search(r'id="approve-(\d+)"', console)
    assert ref_cy
    world.act(room, "mark", question_id="panel", key=f"state:{ref_cy.group(1)}", value="approved")
    world.act(room, "mark", question_id="panel", key="pinned", value=ref_cy.group(1))
    with world.as_("cy") as cy:
        assert "On the screen now" in cy.get(f"/r/{code}").text
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    refused = world.client.post(
        f"/console/room/{room}",
        data={"csrf": csrf, "action": "mark", "question_id": "panel", "key": "state:1",
              "value": "hidden"},
    )  # fmt: skip
    assert "This question takes no such mark." in refused.text

    answers = world.client.get(f"/console/room/{room}/results.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(answers)))
    assert list(rows[0])[-3:] == ["name", "votes", "state"]
    by_answer = {r["answer"]: r for r in rows}
    assert by_answer["Why?"]["name"] == "Ann" and by_answer["Why?"]["votes"] == "1"
    assert by_answer["Why?"]["state"] == "approved" and by_answer["Why?"]["answered_at"]
    assert by_answer['\'=HYPERLINK("x")']["state"] == "approved"  # neutralised, approved
    assert [r["answer"] for r in rows].count("upvote: Why?") == 1
    summary = world.client.get(f"/console/room/{room}/summary.csv").content.decode("utf-8-sig")
    assert any(",Why? — Ann,1," in line for line in summary.splitlines()), summary


def test_refusals_are_translated() -> None:
    from poll.i18n import translate

    for message in (
        "Write your question first.",
        "Your question is {length} characters long; at most {limit} fit.",
        "Your name is {length} characters long; at most {limit} fit.",
        "You cannot upvote your own question.",
        "That question is not on the board.",
        "That question has been taken off the board.",
        "That question is waiting for the facilitator's approval.",
    ):
        assert translate("nl", message) != message
