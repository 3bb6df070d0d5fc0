"""Item types of a session script, found by their `type:` name.

Adding a type means adding one module with an `Item` or `Question` subclass
and listing it in `_TYPES` below.
"""

from __future__ import annotations

from poll.answers import Aggregate, Answer, TextEntry
from poll.questions.base import OTHER_KEY, AnswerRefused, Item, Question
from poll.questions.choice import Choice, Option
from poll.questions.open import Open
from poll.questions.slide import Slide
from poll.questions.yesno import YesNo

_TYPES: tuple[type[Item], ...] = (Slide, YesNo, Open, Choice)

REGISTRY: dict[str, type[Item]] = {cls.type_name: cls for cls in _TYPES}


def item_type(name: str) -> type[Item] | None:
    return REGISTRY.get(name)


__all__ = [
    "OTHER_KEY",
    "REGISTRY",
    "Aggregate",
    "Answer",
    "AnswerRefused",
    "Choice",
    "Item",
    "Open",
    "Option",
    "Question",
    "Slide",
    "TextEntry",
    "YesNo",
    "item_type",
]
