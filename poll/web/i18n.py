"""Dutch and English, from one gettext catalogue per language.

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

from poll.web.resources import resource_dir

Lang = Literal["nl", "en"]
LANGUAGES: tuple[Lang, ...] = ("nl", "en")
DEFAULT_LANGUAGE: Lang = "en"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Mark a message for the catalogue without translating it here."""
    return message


def po_path(lang: str, locale_dir: Path | None = None) -> Path:
    base = locale_dir or resource_dir("locale")
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


def negotiate(accept_language: str | None) -> Lang:
    """nl or en from an Accept-Language header, by quality; English by default."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, Lang] | None = None
    for part in accept_language.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > 0 and (best is None or quality > best[0]):
            best = (quality, as_lang(primary))
    return best[1] if best else DEFAULT_LANGUAGE


#: Texts the browser scripts show; the page hands them over as a JSON block.
JS_MESSAGES: tuple[str, ...] = (
    N_("1 answer"),
    N_("1 person answered"),
    N_("Your answer is saved."),
    N_("Too many wrong codes from this network. Wait a minute, then try again."),
    N_("Sending…"),
    N_("Not saved yet, trying again…"),
    N_("Reconnecting…"),
    N_("Connected again."),
    N_("Waiting for the next question…"),
    N_("Voting has not started yet."),
    N_("Voting is closed."),
    N_("Send"),
    N_("Send answer"),
    N_("Change answer"),
    N_("Your answers"),
    N_("Your answer"),
    N_("Choose one answer."),
    N_("Choose one or more answers."),
    N_("Choose at most {limit} answers."),
    N_("Write your answer"),
    N_("Your other answer"),
    N_("{count} of {limit} characters."),
    N_("You can send {count} more answers."),
    N_("You can send one more answer."),
    N_("You have sent the most answers this question takes."),
    N_("Results"),
    N_("answers"),
    N_("{count} answers"),
    N_("{count} people answered"),
    N_("{count} participants"),
    N_("Join at {address} with code {code}"),
    N_("Code {code}"),
    N_("This session has ended. Thank you for taking part!"),
    N_("No answers yet."),
    N_("Hide"),
    N_("Show"),
    N_("hidden"),
    N_("Other answers"),
    N_("Open voting"),
    N_("Close voting"),
    N_("Show results"),
    N_("Hide results"),
    N_("pending"),
    N_("open"),
    N_("closed"),
    N_("results shown"),
    N_("Item {index} of {count}"),
    N_("Results are hidden until the facilitator shows them."),
    N_("Slide"),
    N_("Yes/no"),
    N_("Choice"),
    N_("Open question"),
    N_("Current"),
    N_("Go"),
    N_("Answers"),
    N_("Something went wrong."),
)


def js_strings(lang: str) -> dict[str, str]:
    catalogue = translations(as_lang(lang))
    return {message: catalogue.gettext(message) for message in JS_MESSAGES}
