"""Dutch and English, from one gettext catalogue per language.

A leaf module: item types translate their fixed labels (Yes/No, Other) here,
and the web layer adds language negotiation and the browser scripts' texts.

The `.po` files in `locale/` are read with Babel when the server starts (no
compile step): translators edit them with any gettext tool. English texts are
the message ids; `locale/en` holds them too so that a test can check every
message has both texts.

Templates use Jinja2's i18n extension in "newstyle" (`_("Saved %(n)s", n=1)`).
Messages raised in Python (`RoomError`, `AnswerRefused`) carry `{name}`
placeholders and are filled in with `str.format` after translation.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

Lang = Literal["nl", "en"]
LANGUAGES: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Lang = "en"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it here."""
    return message


def po_path(lang: str, locale_dir: Path | None = None) -> Path:
    base = locale_dir or _locale_dir()
    return base / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> Translations:
    """The language's catalogue, read from its `.po` file once per process."""
    path = po_path(lang)
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def as_lang(value: str | None) -> Lang:
    return "nl" if value == "nl" else "en"


def translate(lang: str, message: str, params: Mapping[str, object] | None = None) -> str:
    """A Python-side message (`{name}` placeholders) in the given language."""
    text = translations(as_lang(lang)).gettext(message)
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            # A translation with a broken placeholder must not hide the message.
            return message.format(**params)
    return text


def _locale_dir() -> Path:
    """The catalogues: in the installed package (the wheel copies them into
    `poll/`) or, in a source checkout, next to it."""
    package = Path(__file__).resolve().parent
    installed = package / "locale"
    return installed if installed.is_dir() else package.parent / "locale"


@cache
def messages(lang: str) -> frozenset[str]:
    """The message ids the language's catalogue translates (for start-up checks)."""
    with po_path(lang).open("rb") as source:
        catalog = read_po(source, locale=lang, domain=DOMAIN)
    return frozenset(str(m.id) for m in catalog if m.id and m.string)
