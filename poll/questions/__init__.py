"""Item types of a session script, found by their `type:` name.

Adding a type means adding one module here holding its `Item` or `Question`
subclass (found by `discover`, like a plugin: nothing here lists it), a
template file `templates/questions/<type>.html` with its screens, optionally a
script `static/questions/<type>.js`, and its labels in the catalogues (see
docs/architecture.md). A type that lacks a part fails at start-up, here for
the Python side and in `poll.web.screens` for its templates and scripts.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from poll.answers import Aggregate, Answer, TextEntry
from poll.questions.base import (
    OTHER_KEY,
    AnswerRefused,
    Audience,
    FormFields,
    Item,
    Question,
)
from poll.questions.choice import Choice, Option
from poll.questions.open import Open
from poll.questions.slide import Slide, render_markdown
from poll.questions.yesno import YesNo

#: What every type declares as class attributes, and of what kind.
_DECLARED: dict[str, type] = {"type_name": str, "keys": frozenset, "label": str}


class TypeRegistrationError(RuntimeError):
    """An item type is missing part of what every type must declare."""


def build_registry(types: tuple[type[Item], ...]) -> dict[str, type[Item]]:
    """The types by `type:` name, after checking each declares all it must."""
    registry: dict[str, type[Item]] = {}
    for cls in types:
        where = f"{cls.__module__}.{cls.__qualname__}"
        for attribute, kind in _DECLARED.items():
            if not isinstance(getattr(cls, attribute, None), kind):
                raise TypeRegistrationError(
                    f"item type {where} does not declare {attribute!r}: "
                    "every type names itself, its script keys and its console label"
                )
        if inspect.isabstract(cls):
            missing = ", ".join(sorted(getattr(cls, "__abstractmethods__", ())))
            raise TypeRegistrationError(f"item type {where} does not implement {missing}")
        if cls.type_name in registry:
            other = registry[cls.type_name]
            raise TypeRegistrationError(
                f"item types {other.__module__}.{other.__qualname__} and {where} "
                f"both call themselves {cls.type_name!r}"
            )
        registry[cls.type_name] = cls
    return registry


#: Modules of this package that hold no item type.
_NOT_TYPES = frozenset({"base"})


def discover() -> tuple[type[Item], ...]:
    """The item type of each module of this package: one class each, defined there."""
    found: list[type[Item]] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name in _NOT_TYPES:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        own = [
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, Item)
            and value.__module__ == module.__name__
        ]
        if len(own) != 1:
            defined = ", ".join(cls.__name__ for cls in own) or "none"
            raise TypeRegistrationError(
                f"poll/questions/{info.name}.py must define one item type "
                f"(a subclass of Item or Question); it defines {defined}"
            )
        found.extend(own)
    return tuple(found)


REGISTRY: dict[str, type[Item]] = build_registry(discover())


__all__ = [
    "OTHER_KEY",
    "REGISTRY",
    "Aggregate",
    "Answer",
    "AnswerRefused",
    "Audience",
    "Choice",
    "FormFields",
    "Item",
    "Open",
    "Option",
    "Question",
    "Slide",
    "TextEntry",
    "TypeRegistrationError",
    "YesNo",
    "build_registry",
    "render_markdown",
]
