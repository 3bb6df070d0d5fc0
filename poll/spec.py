"""Read one mapping of `sessions.yaml` with the position of every value at hand.

The script loader (`poll.script`) composes the YAML into plain data and
records where each key and value stood; item types (`poll.questions`) then
read their own keys through a `SpecReader`, which reports every problem as
`FILE:LINE:COLUMN: key.path: what is wrong`. This module sits below both, so
that the item types need not import the loader that imports them.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from poll.media import MediaError, MediaFile, MediaFiles
from poll.text import clean_text

KeyPath = tuple[str | int, ...]
T = TypeVar("T")

# A problem is read by a person: a hostile file must not turn one into megabytes
# (an alias bomb echoed back), nor bury the first problems under thousands more.
MAX_MESSAGE = 300
MAX_PATH = 120
MAX_PROBLEMS = 100

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxdict = 4
_REPR.maxlevel = 2


def shown(value: object) -> str:
    """A value as an error message may echo it: its repr, cut to a sane length."""
    return _REPR.repr(value)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong (or worth knowing) in a script, with its position."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", _cut(self.path, MAX_PATH))
        object.__setattr__(self, "message", _cut(self.message, MAX_MESSAGE))

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {where}{self.message}"


def format_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass
class Positions:
    """Where each key and value of the document stands (1-based line and column)."""

    file: str
    keys: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def of(self, path: KeyPath, key: bool = False) -> tuple[int, int]:
        table = (self.keys, self.values) if key else (self.values, self.keys)
        probe = path
        while True:
            for positions in table:
                if probe in positions:
                    return positions[probe]
            if not probe:
                return (1, 1)
            probe = probe[:-1]


class Report:
    """Collects problems and notes while a script is read."""

    def __init__(self, positions: Positions) -> None:
        self.positions = positions
        self.problems: list[Problem] = []
        self.notes: list[Problem] = []
        self.unshown = 0

    def _make(self, path: KeyPath, message: str, key: bool, at: KeyPath | None = None) -> Problem:
        line, column = self.positions.of(path if at is None else at, key=key)
        return Problem(self.positions.file, line, column, format_path(path), message)

    def error(
        self, path: KeyPath, message: str, key: bool = False, at: KeyPath | None = None
    ) -> None:
        """Record a problem with the value (or, with `key`, the key) at `path`.

        `at` places the position elsewhere than the path names, e.g. an unknown
        key is reported on its mapping's path but at the key's own position.
        """
        if len(self.problems) >= MAX_PROBLEMS:
            self.unshown += 1
            return
        self.problems.append(self._make(path, message, key, at))

    @property
    def error_count(self) -> int:
        """Every problem found, the ones left out of `problems` included."""
        return len(self.problems) + self.unshown

    def note(self, path: KeyPath, message: str) -> None:
        if len(self.notes) >= MAX_PROBLEMS:
            return
        self.notes.append(self._make(path, message, key=False))


def kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class SpecReader:
    """Reads one mapping of the script for an item type, reporting problems in place."""

    def __init__(
        self,
        data: Mapping[str, Any],
        path: KeyPath,
        report: Report,
        language: str,
        media: MediaFiles | None = None,
    ) -> None:
        self.data = data
        self.path = path
        self.report = report
        self.language = language
        #: Where the files the script names are found (None: a script without files).
        self.media = media

    def at(self, where: str | int | tuple[str | int, ...]) -> SpecReader:
        sub = where if isinstance(where, tuple) else (where,)
        value: Any = self.data
        for part in sub:
            value = value[part]
        return SpecReader(
            value if isinstance(value, Mapping) else {},
            self.path + sub,
            self.report,
            self.language,
            self.media,
        )

    def error(self, where: str | int | tuple[str | int, ...] | None, message: str) -> None:
        sub: KeyPath = () if where is None else where if isinstance(where, tuple) else (where,)
        self.report.error(self.path + sub, message)

    def check_keys(self, allowed: frozenset[str]) -> bool:
        ok = True
        for key in self.data:
            if key in allowed:
                continue
            ok = False
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
            hint = (
                f" (did you mean {close[0]!r}?)"
                if close
                else (f" (known keys: {', '.join(sorted(allowed))})")
            )
            self.report.error(
                self.path, f"unknown key {shown(key)}{hint}", key=True, at=(*self.path, key)
            )
        return ok

    def _get(self, key: str, required: bool, expected: str) -> Any:
        if key not in self.data or self.data[key] is None:
            if required:
                self.report.error(self.path, f"missing required key {key!r} ({expected})")
            return None
        return self.data[key]

    def text(
        self,
        key: str,
        *,
        required: bool = False,
        default: str | None = None,
        max_length: int = 1000,
        strip: bool = True,
    ) -> str | None:
        value = self._get(key, required, "a text")
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.error(key, f"must be a text, not {kind_of(value)}")
            return None
        text = clean_text(str(value)) if strip else str(value).replace("\r\n", "\n")
        if strip and not text:
            self.error(key, "must not be empty")
            return None
        if len(text) > max_length:
            self.error(key, f"is {len(text)} characters long; at most {max_length} fit")
            return None
        return text

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self._get(key, False, "true or false")
        if value is None:
            return default
        if not isinstance(value, bool):
            self.error(key, f"must be true or false, not {shown(value)}")
            return default
        return value

    def integer(self, key: str, *, default: int | None, minimum: int, maximum: int) -> int | None:
        value = self._get(key, False, "a whole number")
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"must be a whole number, not {shown(value)}")
            return None
        if not minimum <= value <= maximum:
            self.error(key, f"must be between {minimum} and {maximum}, not {value}")
            return None
        return value

    def one_of(self, key: str, allowed: tuple[T, ...], *, default: T) -> T:
        value = self._get(key, False, " or ".join(map(str, allowed)))
        if value is None:
            return default
        if value not in allowed:
            self.error(key, f"must be one of {', '.join(map(str, allowed))}, not {shown(value)}")
            return default
        return value  # type: ignore[no-any-return]

    def sequence(self, key: str, *, required: bool = False) -> list[Any] | None:
        value = self._get(key, required, "a list")
        if value is None:
            return None
        if not isinstance(value, list):
            self.error(key, f"must be a list, not {kind_of(value)}")
            return None
        return value

    def file(self, key: str, kinds: frozenset[str], *, required: bool = False) -> MediaFile | None:
        """A file the script names by a path relative to it, checked (see `poll.media`)."""
        raw = self.text(key, required=required, max_length=500)
        if raw is None:
            return None
        if self.media is None:
            self.error(key, "files can be used only in a script read from a file")
            return None
        try:
            return self.media.resolve(raw, kinds)
        except MediaError as exc:
            self.error(key, str(exc))
            return None
