"""Every message in Dutch and English, from the .po catalogues."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from poll.web.i18n import negotiate, po_path, translate
from tests.web.msgids import all_msgids

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def catalogue(lang: str) -> dict[str, str]:
    with po_path(lang).open("rb") as source:
        return {m.id: m.string for m in read_po(source) if m.id and isinstance(m.id, str)}


def test_every_message_has_dutch_and_english_text() -> None:
    wanted = all_msgids()
    for lang in ("nl", "en"):
        texts = catalogue(lang)
        missing = sorted(m for m in wanted if not texts.get(m))
        assert not missing, f"{lang}: no text for {missing}"


def test_translations_keep_their_placeholders() -> None:
    for lang in ("nl", "en"):
        for message, text in catalogue(lang).items():
            assert sorted(PLACEHOLDER.findall(message)) == sorted(PLACEHOLDER.findall(text)), (
                lang,
                message,
            )


def test_refusals_are_translated_with_their_params() -> None:
    text = translate(
        "nl",
        "Your answer is {length} characters long; at most {limit} fit.",
        {
            "length": 300,
            "limit": 280,
        },
    )
    assert text == "Je antwoord is 300 tekens lang; er passen er hoogstens 280."


def test_accept_language() -> None:
    assert negotiate("nl-NL,nl;q=0.9,en;q=0.8") == "nl"
    assert negotiate("en-GB,nl;q=0.5") == "en"
    assert negotiate("de-DE,nl;q=0.3") == "nl"
    assert negotiate("fr") == "en"
    assert negotiate(None) == "en"
