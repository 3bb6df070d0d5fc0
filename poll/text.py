"""Free text from participants and scripts, made safe to store and show."""

from __future__ import annotations

import unicodedata

# Control characters garble CSV and screens; tabs and newlines become spaces
# (answers are shown as single cards), the rest is dropped.
_SPACES = {"\t", "\n", "\r", "\u2028", "\u2029"}


def clean_text(text: str) -> str:
    """NFC-normalised text without control characters, stripped of outer spaces."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        if char in _SPACES:
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cs") or char in "\u200b\ufeff":
            continue
        else:
            kept.append(char)
    # split() without arguments also folds runs of spaces into one.
    return " ".join("".join(kept).split())


#: The longest nickname a participant may play under (after cleaning).
NICKNAME_MAX = 24


def clean_nickname(text: str) -> str:
    """A nickname as shown: cleaned like any participant's text."""
    return clean_text(text)


def nickname_key(name: str) -> str:
    """What makes two nicknames the same: compared casefolded and NFC-normalised,
    without invisible format characters (a zero-width joiner would otherwise let
    "Anna" and "Anna\u200d" both play, looking alike on the projector)."""
    visible = "".join(c for c in name if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", " ".join(visible.casefold().split()))
