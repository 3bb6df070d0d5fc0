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
