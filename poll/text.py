"""Free text from participants and scripts, made safe to store and show."""

from __future__ import annotations

import unicodedata

# Control characters garble CSV and screens; tabs and newlines become spaces
# (answers are shown as single cards), the rest is dropped.
_SPACES = {"\t", "\n", "\r", "\u2028", "\u2029"}

_ZWNJ, _ZWJ = "\u200c", "\u200d"
_VS16 = "\ufe0f"

#: Invisible characters and bidirectional controls. On their own they make an
#: answer that shows as an empty card; in front of text they hide what it
#: starts with (a leading `=` from a spreadsheet) or flip how it reads.
#: Soft hyphen, zero-width space/joiners/marks, bidi embeddings, overrides and
#: isolates, word joiner and invisible operators, the Arabic letter mark, the
#: Mongolian vowel separator and the byte-order mark.
INVISIBLE = frozenset(
    "\u00ad\u061c\u180e\ufeff"
    + "".join(map(chr, range(0x200B, 0x2010)))
    + "".join(map(chr, range(0x202A, 0x202F)))
    + "".join(map(chr, range(0x2060, 0x2065)))
    + "".join(map(chr, range(0x2066, 0x206A)))
)


def _emoji_like(char: str) -> bool:
    """A pictograph, a skin-tone modifier or the emoji presentation selector."""
    return (
        unicodedata.category(char) == "So"
        or "\U0001f3fb" <= char <= "\U0001f3ff"
        or (char == _VS16)
    )


def _shaped(char: str) -> bool:
    """A letter or mark of a script that joiners shape (Arabic, Persian,
    Devanagari, …), not of the alphabets where a joiner only hides."""
    if unicodedata.category(char)[0] not in "LM":
        return False
    return not unicodedata.name(char, "").startswith(("LATIN", "GREEK", "CYRILLIC"))


def _joins(before: str, char: str, after: str) -> bool:
    """Whether a zero-width (non-)joiner between two characters does visible work.

    A ZWJ glues an emoji sequence (family, profession, rainbow flag) into one
    picture; ZWJ and ZWNJ also shape letters in scripts such as Persian and
    Devanagari. Between two such characters neither can be an empty card or
    hide a leading character, so they stay; anywhere else they go.
    """
    if not before or not after:
        return False
    if char == _ZWJ and _emoji_like(before) and unicodedata.category(after) == "So":
        return True
    return _shaped(before) and _shaped(after)


def strip_invisible(text: str) -> str:
    """`text` without invisible and bidi control characters, keeping the
    joiners that glue an emoji sequence or shape the letters of a script."""
    if not any(char in INVISIBLE for char in text):
        return text
    kept: list[str] = []
    for index, char in enumerate(text):
        if char in INVISIBLE:
            if char not in (_ZWJ, _ZWNJ):
                continue
            before = kept[-1] if kept else ""
            after = next((c for c in text[index + 1 :] if c not in INVISIBLE), "")
            nxt = text[index + 1] if index + 1 < len(text) else ""
            if nxt != after or not _joins(before, char, after):
                continue
        kept.append(char)
    return "".join(kept)


def clean_text(text: str) -> str:
    """NFC-normalised text without control or invisible characters (`INVISIBLE`,
    save joiners inside emoji and words), stripped of outer spaces."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for char in text:
        if char in _SPACES:
            kept.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cs"):
            continue
        else:
            kept.append(char)
    kept = list(strip_invisible("".join(kept)))
    # split() without arguments also folds runs of spaces into one; stripping
    # the invisible characters again catches a joiner left at an edge by it.
    return strip_invisible(" ".join("".join(kept).split()))


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
