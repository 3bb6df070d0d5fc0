"""The live screens, rendered on the server from one template source.

Phones and the projector show HTML that the server renders from the same
Jinja templates as the first page load (`participant/_stage.html`,
`participant/_results.html`, `projector/_screen.html`), which draw each item
through its type's own template, `templates/questions/<type>.html`. The hub
renders a room's screens once per change and sends them with the snapshot;
the page scripts only swap them in (and enhance a type's form with
`static/questions/<type>.js` where one exists). No screen is written twice.

A phone's stage depends on its own answers ("mine") and, on a personal
screen (a leaderboard, a revealed quiz question: see `Item.personal_screen`),
on what the room says of the participant herself ("me": her nickname, place,
score): it is rendered per distinct answer set and context and cached, so a
thousand phones that all answered "yes" cost one render, and a thousand
players on the leaderboard cost one each, once per change of the standings.

`check_types` runs at start-up: a type without its template, a macro its
template lacks, or a console label without a Dutch text stops the server
with a message naming what is missing.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, TemplateNotFound
from markupsafe import Markup

from poll.i18n import LANGUAGES, as_lang, messages
from poll.protocol import stage_key
from poll.questions import REGISTRY, Item, TypeRegistrationError
from poll.rooms import Audience
from poll.web.pages import environment

#: The macros each kind of item's template must define.
#: `report` draws the item's part of the results report (templates/report/page.html).
QUESTION_MACROS = (
    "form",
    "answered",
    "phone_results",
    "projector_results",
    "console_results",
    "report",
)
ITEM_MACROS = ("phone", "projector", "console", "report")
#: Phone stages kept rendered (per room, screen, answer set and personal context).
STAGE_CACHE = 4096
#: Where a player's own block goes in a stage drawn once for many players.
_SLOT = "\x00standing\x00"


def template_name(type_name: str) -> str:
    return f"questions/{type_name}.html"


#: The screens the hub renders while a room runs: compiled at start-up, in every
#: language, so that the first change of a screen waits for no compiler.
LIVE_TEMPLATES = (
    "participant/_stage.html",
    "participant/_standing.html",
    "participant/_results.html",
    "projector/_screen.html",
    "projector/_standings.html",
)


def check_types(types: Iterable[type[Item]] | None = None) -> None:
    """Every registered type has its template, with every macro, and its labels;
    the live screens and every type's template are compiled in every language."""
    checked = list(types if types is not None else REGISTRY.values())
    env = environment(as_lang("en"))
    for cls in checked:
        name = template_name(cls.type_name)
        try:
            module = env.get_template(name).make_module({"type_scripts": {}})
        except TemplateNotFound:
            raise TypeRegistrationError(
                f"item type {cls.type_name!r} has no template: add templates/{name} "
                f"with the macros {', '.join(_macros(cls))}"
            ) from None
        missing = [macro for macro in _macros(cls) if not callable(getattr(module, macro, None))]
        if missing:
            raise TypeRegistrationError(
                f"templates/{name} lacks the macro(s) {', '.join(missing)} "
                f"that item type {cls.type_name!r} needs"
            )
        for lang in LANGUAGES:
            if cls.label not in messages(lang):
                raise TypeRegistrationError(
                    f"item type {cls.type_name!r}: its label {cls.label!r} has no text in "
                    f"locale/{lang}/LC_MESSAGES/messages.po"
                )
    for lang in LANGUAGES:
        warm = environment(lang)
        for name in (*LIVE_TEMPLATES, *(template_name(cls.type_name) for cls in checked)):
            warm.get_template(name)


def _macros(cls: type[Item]) -> tuple[str, ...]:
    return QUESTION_MACROS if cls.is_question else ITEM_MACROS


class Screens:
    """Renders live screens for the hub and the pages; one per process."""

    def __init__(self) -> None:
        self._stages: OrderedDict[tuple[str, str, str, str], str] = OrderedDict()

    def _env(self, view: dict[str, Any]) -> Environment:
        return environment(as_lang(view["room"]["language"]))

    def stage(
        self,
        view: dict[str, Any],
        mine: list[dict[str, Any]],
        me: dict[str, Any] | None = None,
    ) -> str:
        """A phone's stage for its answers `mine` and, on a personal screen, for what
        the room says of her (`me`, from `Room.me`); the page adds the no-JS form's token."""
        room, screen = view["room"]["id"], stage_key(view)
        answers = json.dumps(mine, sort_keys=True)
        if me is None or set(me) <= {"named"}:
            return self._cached((room, screen, answers, json.dumps(me)), view, mine, me)
        # Her place or points: the stage around them is the same for every player with
        # the same answers, so it is drawn once, and only the small block per player.
        named = {"named": True} if me.get("named") else None
        shell = self._cached((room, screen, answers, "shell"), view, mine, named, _SLOT)
        block = self._cached((room, screen, "", json.dumps(me, sort_keys=True)), view, [], me, None)
        return shell.replace(_SLOT, block)

    def _cached(
        self,
        key: tuple[str, str, str, str],
        view: dict[str, Any],
        mine: list[dict[str, Any]],
        me: dict[str, Any] | None,
        standing: str | None = "",
    ) -> str:
        """The stage (or with `standing` None only her block, or with the slot marker
        the stage around it), from the cache or drawn now."""
        html = self._stages.get(key)
        if html is None:
            env = self._env(view)
            if standing is None:
                template = env.get_template("participant/_standing.html")
                html = template.render(snap=view, me=me)
            else:
                template = env.get_template("participant/_stage.html")
                extra = {"standing": Markup(standing)} if standing else {}
                html = template.render(snap=view, mine=mine, me=me, **extra)
            self._stages[key] = html
            if len(self._stages) > STAGE_CACHE:
                self._stages.popitem(last=False)
        else:
            self._stages.move_to_end(key)
        return html

    def snapshot_fields(self, view: dict[str, Any], audience: Audience) -> dict[str, Any]:
        """What a snapshot for `audience` carries besides the view: its rendered screen."""
        env = self._env(view)
        if audience == "participant":
            results = env.get_template("participant/_results.html").render(snap=view)
            return {
                "stage": stage_key(view),
                "html": self.stage(view, []),
                "results_html": results.strip(),
            }
        if audience == "projector":
            return {"html": env.get_template("projector/_screen.html").render(snap=view)}
        return {}
