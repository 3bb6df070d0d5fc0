"""Hypothesis strategies for what a hostile or broken client may send."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

#: Question ids of both sample sessions, and ids that exist nowhere.
QUESTION_IDS = [
    "herkennen",
    "aanvullende-vragen",
    "huidige-netwerken",
    "met-wie",
    "schaalniveau",
    "manieren",
    "on-track",  # the English session: another room's question
    "best-part",
    "one-change",
    "",
    "../../etc/passwd",
    "herkennen\x00",
    "HERKENNEN",
]
OPTION_IDS = [
    "yes",
    "no",
    "maybe",
    "voldoende",
    "nieuw-aanbod-nodig",
    "vakgenoten",
    "bewoners",
    "lokaal",
    "intervisie",
    "_other",
    "planning",  # another room's option
    "",
    "__proto__",
]
MESSAGE_TYPES = ["vote", "action", "sync", "ping", "pong", "snapshot", "ack", "mine", "hello", ""]
ACTIONS = ["next", "previous", "go", "open", "close", "show", "hide", "reset", "moderate", "end"]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2600),
    st.sampled_from(["", " ", "\u200b", "\ufeff", "=1+1", "\t", "\r\n", "a" * 2001, "é" * 2000]),
)
submission_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
    st.text(max_size=80),
    json_values,
)


def anything_like(values: list[str]) -> st.SearchStrategy[Any]:
    """Mostly the real ids, sometimes any JSON at all."""
    return st.one_of(st.sampled_from(values), st.sampled_from(values), json_values, texts)


answers = st.one_of(
    st.fixed_dictionaries({"choice": anything_like(OPTION_IDS)}),
    st.fixed_dictionaries(
        {"choices": st.one_of(st.lists(anything_like(OPTION_IDS), max_size=8), json_values)},
        optional={"other": st.one_of(texts, json_values)},
    ),
    st.fixed_dictionaries({"text": st.one_of(texts, json_values)}),
    json_values,
)
votes = st.fixed_dictionaries(
    {"type": st.just("vote")},
    optional={
        "question_id": anything_like(QUESTION_IDS),
        "submission_id": submission_ids,
        "answer": answers,
        "extra": json_values,
    },
)
actions = st.fixed_dictionaries(
    {"type": st.just("action")},
    optional={
        "action": anything_like(ACTIONS),
        "index": st.one_of(st.integers(min_value=-(2**80), max_value=2**80), json_values),
        "question_id": anything_like(QUESTION_IDS),
        "ref": st.one_of(st.from_regex(r"r[0-9]{1,3}", fullmatch=True), json_values),
        "hidden": json_values,
        "request_id": json_values,
    },
)
#: Votes a real phone could send: right ids, plausible answers (some still refused).
plausible_votes = st.fixed_dictionaries(
    {
        "type": st.just("vote"),
        "question_id": st.sampled_from(["herkennen", "manieren", "aanvullende-vragen"]),
        "submission_id": st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True),
        "answer": st.one_of(
            st.fixed_dictionaries({"choice": st.sampled_from(["yes", "no"])}),
            st.fixed_dictionaries(
                {
                    "choices": st.lists(
                        st.sampled_from([*OPTION_IDS[8:10], "stadslabs"]), max_size=3
                    )
                },
                optional={"other": texts},
            ),
            st.fixed_dictionaries({"text": texts}),
        ),
    }
)
typed_messages = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(MESSAGE_TYPES), json_values)},
    optional={"t": json_values, "question_id": json_values, "answer": json_values},
)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


#: A frame: ("text", str) or ("bytes", bytes).
frames = st.one_of(
    plausible_votes.map(lambda m: ("text", json.dumps(m))),
    votes.map(lambda m: ("text", json.dumps(m))),
    votes.map(lambda m: ("text", json.dumps(m))),
    actions.map(lambda m: ("text", json.dumps(m))),
    typed_messages.map(lambda m: ("text", json.dumps(m))),
    json_values.map(lambda v: ("text", json.dumps(v))),
    st.text(max_size=100).map(lambda t: ("text", t)),
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
    st.sampled_from([b"\xff\xfe\xfd", b'{"type":"vote"}', b"\xc3\x28", b"\xed\xa0\x80"]).map(
        lambda b: ("bytes", b)
    ),
    st.integers(min_value=100, max_value=20_000).map(lambda n: ("text", _deep(n))),
    st.integers(min_value=3_000, max_value=40_000).map(
        lambda n: ("text", json.dumps({"type": "vote", "answer": {"text": "x" * n}}))
    ),
)

#: The word cloud session of the tests' script: its questions' ids.
WORD_QUESTIONS = ["square-words", "one-word"]
#: What a phone may send as a word cloud's words: its inputs (some empty, some only
#: punctuation, some the same word spelled otherwise), or anything at all.
word_lists = st.one_of(
    st.lists(
        st.one_of(
            texts, st.sampled_from(["", "?!", "C#", "=1+1", "Ab", "ab!", "(x)", "🎉", "ß", "SS"])
        ),
        max_size=12,
    ),
    st.lists(st.sampled_from(["trees", "Trees", "benches"]), min_size=1, max_size=3),
    json_values,
)
word_votes = st.fixed_dictionaries(
    {"type": st.just("vote")},
    optional={
        "question_id": st.sampled_from(WORD_QUESTIONS) | anything_like(QUESTION_IDS),
        "submission_id": submission_ids,
        "answer": st.one_of(st.fixed_dictionaries({"words": word_lists}), answers),
    },
)
#: Frames for a phone on a word cloud: mostly word votes, and everything else.
word_frames = st.one_of(
    word_votes.map(lambda m: ("text", json.dumps(m))),
    word_votes.map(lambda m: ("text", json.dumps(m))),
    frames,
)
