"""Language negotiation for pages, and the texts the browser scripts show.

The catalogues themselves are read in `poll.i18n` (a leaf, so that item types
can translate their fixed labels too); this module adds what only the web
layer needs.
"""

from __future__ import annotations

from poll.i18n import (
    DEFAULT_LANGUAGE,
    DOMAIN,
    LANGUAGES,
    N_,
    Lang,
    as_lang,
    po_path,
    translate,
    translations,
)

__all__ = [
    "DEFAULT_LANGUAGE",
    "DOMAIN",
    "JS_MESSAGES",
    "LANGUAGES",
    "N_",
    "Lang",
    "as_lang",
    "js_strings",
    "negotiate",
    "po_path",
    "translate",
    "translations",
]


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


#: Texts the browser scripts show; the page hands them over as a JSON block. (The
#: screens themselves are rendered by the server, so only status lines are here.)
JS_MESSAGES: tuple[str, ...] = (
    N_("1 person answered"),
    N_("{count} people answered"),
    N_("1 answer"),
    N_("{count} answers"),
    N_("1 person joined"),
    N_("{count} people joined"),
    N_("Your answer is saved."),
    N_("Not sent yet: send to save your change."),
    N_("Too many wrong codes. Wait a minute, then try again."),
    N_("Sending…"),
    N_("Not saved yet, trying again…"),
    N_("Reconnecting…"),
    N_("Connected again."),
    N_("{count} of {limit} characters."),
    N_("You can send {count} more answers."),
    N_("You can send one more answer."),
    N_("This session has ended. Thank you for taking part!"),
    N_("Something went wrong."),
    N_("{seconds} seconds"),
    N_("Time is up."),
)


def js_strings(lang: str) -> dict[str, str]:
    catalogue = translations(as_lang(lang))
    return {message: catalogue.gettext(message) for message in JS_MESSAGES}
