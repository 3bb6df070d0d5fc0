"""Labelled entries a type lists in its script: the options of a choice, a ranking
or a quiz, the statements of a scale. Each is a text, or `{id, label}`; ids are
made from the labels when not given, and must be unique within the list."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poll.text import clean_text

if TYPE_CHECKING:
    from poll.spec import SpecReader

ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9_-]*")
MAX_LABEL = 200


def slugify(label: str) -> str:
    """A stable id from a label: `Uitvoerend prof.` → `uitvoerend-prof`."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_label.lower()).strip("-")[:60]


@dataclass(frozen=True)
class Labelled:
    id: str
    label: str


def read_labelled(
    spec: SpecReader,
    key: str,
    raw: Sequence[Any],
    *,
    noun: str,
    article: str = "a",
    reserved: Collection[str] = (),
) -> tuple[Labelled, ...] | None:
    """The entries listed under `key` (`raw`, already known to be a list), or None
    when `spec` recorded a problem with any of them. `noun` names one entry in the
    messages ("option", "statement"); ids in `reserved` are the type's own."""
    entries: list[Labelled] = []
    seen_labels: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    ok = True
    for index, entry in enumerate(raw):
        where = (key, index)
        entry_id: str | None
        if isinstance(entry, dict):
            label = spec.at(where).text("label", required=True, max_length=MAX_LABEL)
            entry_id = spec.at(where).text("id", default=None, max_length=60)
            unknown = set(entry) - {"id", "label"}
            if unknown:
                spec.error(
                    where, f"{article} {noun} has only 'id' and 'label', not {sorted(unknown)}"
                )
                ok = False
                continue
            if label is None:
                ok = False
                continue
        elif isinstance(entry, str | int | float) and not isinstance(entry, bool):
            label, entry_id = clean_text(str(entry)), None
        else:
            spec.error(where, f"{article} {noun} is a text, or a mapping with 'label' (and 'id')")
            ok = False
            continue
        if not label:
            spec.error(where, f"this {noun} is empty")
            ok = False
            continue
        if len(label) > MAX_LABEL:
            spec.error(where, f"is {len(label)} characters long; at most {MAX_LABEL} fit")
            ok = False
            continue
        entry_id = entry_id or slugify(label) or f"{noun}-{index + 1}"
        if not ENTRY_ID.fullmatch(entry_id) or entry_id in reserved:
            spec.error(where, f"{noun} id {entry_id!r} may hold only a-z, 0-9, '-' and '_'")
            ok = False
            continue
        if label.casefold() in seen_labels:
            first = seen_labels[label.casefold()]
            spec.error(where, f"{noun} {label!r} is listed twice (also at {key}[{first}])")
            ok = False
            continue
        if entry_id in seen_ids:
            spec.error(
                where,
                f"{noun} id {entry_id!r} is also used by {key}[{seen_ids[entry_id]}]; "
                "give one of them an explicit 'id'",
            )
            ok = False
            continue
        seen_labels[label.casefold()] = index
        seen_ids[entry_id] = index
        entries.append(Labelled(id=entry_id, label=label))
    return tuple(entries) if ok else None


def read_options(
    spec: SpecReader,
    *,
    kind: str,
    minimum: int,
    maximum: int | None = None,
    fewer: str = "",
    reserved: Collection[str] = (),
) -> tuple[Labelled, ...] | None:
    """The `options` of a `kind` ("a ranking"), `minimum` to `maximum` of them; `fewer`
    tells the facilitator how to make do with fewer when there are too many."""
    raw = spec.sequence("options", required=True)
    if raw is None:
        return None
    if len(raw) < minimum:
        spec.error("options", f"{kind} needs at least {minimum} options; it has {len(raw)}")
        return None
    if maximum is not None and len(raw) > maximum:
        spec.error("options", f"{kind} takes at most {maximum} options; it has {len(raw)}. {fewer}")
        return None
    return read_labelled(spec, "options", raw, noun="option", article="an", reserved=reserved)
