"""Participants' and scripts' text: invisible and bidi characters cannot make an
empty card, hide what an answer starts with, or break an emoji."""

from __future__ import annotations

import pytest

from poll.export import neutralise
from poll.questions import AnswerRefused
from poll.script import parse_script
from poll.text import INVISIBLE, clean_nickname, clean_text, nickname_key

LISTED = (
    [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + ["\ufeff", "\u00ad"]
)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
TECHNOLOGIST = "\U0001f469\U0001f3fd\u200d\U0001f4bb"  # woman, medium skin tone, laptop
RAINBOW_FLAG = "\U0001f3f3\ufe0f\u200d\U0001f308"
HEART_ON_FIRE = "\u2764\ufe0f\u200d\U0001f525"


@pytest.mark.parametrize("char", LISTED, ids=lambda c: f"U+{ord(c):04X}")
def test_every_invisible_character_is_removed(char: str) -> None:
    assert char in INVISIBLE
    assert clean_text(f"Ja{char}") == "Ja"
    assert clean_text(f"{char}=1+1") == "=1+1"
    assert clean_text(f"mid{char}dle") == "middle"
    assert clean_text(char * 5) == ""
    assert clean_nickname(f"{char}Anna{char}") == "Anna"


def test_an_answer_of_only_invisible_characters_is_empty() -> None:
    assert clean_text("".join(LISTED)) == ""
    assert clean_text(" \u200b \u202e \u2060 \u00ad ") == ""


def test_a_right_to_left_override_cannot_reverse_an_answer() -> None:
    assert clean_text("\u202eevil.exe\u202c") == "evil.exe"
    assert clean_text("\u2067isolated\u2069") == "isolated"


@pytest.mark.parametrize("emoji", [FAMILY, TECHNOLOGIST, RAINBOW_FLAG, HEART_ON_FIRE])
def test_emoji_joined_by_zero_width_joiners_stay_whole(emoji: str) -> None:
    assert clean_text(emoji) == emoji
    assert clean_text(f"Wij {emoji}!") == f"Wij {emoji}!"
    assert clean_nickname(f"\u200b{emoji}\u200b") == emoji


def test_a_joiner_outside_an_emoji_sequence_is_removed() -> None:
    assert clean_text("\u200d\U0001f468") == "\U0001f468"
    assert clean_text("\U0001f468\u200d") == "\U0001f468"
    assert clean_text("\U0001f468\u200d a") == "\U0001f468 a"
    assert clean_text("An\u200dna") == "Anna"
    assert clean_text("An\u200cna") == "Anna"


def test_joiners_that_shape_a_script_stay() -> None:
    persian = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"  # mi-khaham, "I want"
    assert clean_text(persian) == persian
    devanagari = "\u0915\u094d\u200d\u0937"  # half form of ka, then ssa
    assert clean_text(devanagari) == devanagari


def test_nicknames_with_and_without_a_joiner_are_the_same_player() -> None:
    assert nickname_key(clean_nickname("An\u200bna")) == nickname_key("Anna")


@pytest.mark.parametrize(
    "char", [*LISTED, " ", "\u00a0", "\u2066"], ids=lambda c: f"U+{ord(c):04X}"
)
def test_the_csv_guard_looks_past_leading_invisible_characters(char: str) -> None:
    assert neutralise(f'{char}=HYPERLINK("x")') == f'\'{char}=HYPERLINK("x")'
    assert neutralise(f"{char}{char}+31") == f"'{char}{char}+31"
    assert neutralise(f"{char}gewoon") == f"{char}gewoon"


def test_the_csv_guard_leaves_emoji_alone() -> None:
    assert neutralise(FAMILY) == FAMILY


def test_an_open_answer_of_invisible_characters_is_refused_not_shown_as_an_empty_card() -> None:
    script = parse_script(
        "sessions:\n  s:\n    title: T\n    items:\n      - {type: open, id: q, prompt: P}\n"
    )
    question = script.sessions["s"].questions["q"]
    with pytest.raises(AnswerRefused, match="Write an answer first"):
        question.validate({"text": "\u202e\u2060\u200b\u00ad\ufeff"})
    assert question.validate({"text": f"\u200e{FAMILY}\u200f"}).text == FAMILY
