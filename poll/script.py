"""Load and check `sessions.yaml`, the facilitator's session scripts.

Every problem is reported, not just the first, as `FILE:LINE:COLUMN: key.path:
what is wrong`, so that a facilitator can fix the file without reading Python.
The YAML is composed into nodes first so that every key and value keeps its
position; item types then read plain data through a `SpecReader`
(`poll.spec`) that knows where each value came from.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

from poll.media import MediaFiles
from poll.questions import REGISTRY, Item, Question
from poll.questions.base import ITEM_KEYS, NOTES_MAX, TIMER_MAX, TIMER_MIN
from poll.spec import KeyPath, Positions, Problem, Report, SpecReader, format_path, kind_of, shown
from poll.theme import Theme, read_theme

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")

# Limits that keep a hostile or broken file from exhausting the server. Aliases
# make a small file stand for a huge document, so the limits count the document
# as it reads once every alias is expanded: each visit of a node, key or value,
# and every character of its text.
MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 50_000
MAX_EXPANDED_CHARS = 2 * MAX_FILE_BYTES
MAX_DEPTH = 32


class ScriptError(Exception):
    """The script cannot be used; `problems` lists what is wrong with it.

    A file with very many problems lists the first of them and a last line that
    counts the rest (`unshown`).
    """

    def __init__(self, problems: Sequence[Problem], unshown: int = 0) -> None:
        self.problems = sorted(problems)
        if unshown and self.problems:
            last = self.problems[-1]
            self.problems.append(
                Problem(
                    last.file,
                    last.line,
                    last.column,
                    "",
                    f"and {unshown} more problem(s) not shown; fix these first",
                )
            )
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Session:
    """One session of the script: a title, a language and its items in order."""

    id: str
    title: str
    language: Language
    items: tuple[Item, ...]
    theme: Theme | None = None

    @cached_property
    def questions(self) -> dict[str, Question]:
        # Once per session copy, not once per vote (a frozen dataclass: the items stay).
        return {item.id: item for item in self.items if isinstance(item, Question)}

    def index_of(self, item_id: str) -> int:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise KeyError(item_id)

    def to_spec(self) -> dict[str, Any]:
        """Plain data that `session_from_spec` reads back; rooms keep it as their copy."""
        spec: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "language": self.language,
        }
        if self.theme is not None:
            spec["theme"] = self.theme.to_spec()
        return spec | {"items": [item.item_spec() for item in self.items]}


@dataclass(frozen=True)
class Script:
    """A checked script: its sessions by id, and notes worth telling (not errors)."""

    path: str
    sessions: Mapping[str, Session]
    notes: tuple[Problem, ...] = ()
    #: The files its slides and themes name (a server re-reads the script when one changes).
    files: tuple[Path, ...] = ()


class _Composer:
    """Turns YAML nodes into plain data, remembering every position."""

    def __init__(self, loader: yaml.SafeLoader, positions: Positions, report: Report) -> None:
        self.loader = loader
        self.positions = positions
        self.report = report
        self.count = 0
        self.chars = 0

    def _count(self, node: yaml.Node, path: KeyPath) -> None:
        self.count += 1
        if isinstance(node, yaml.ScalarNode):
            self.chars += len(node.value)
        if self.count > MAX_NODES:
            raise _TooBig(
                node,
                path,
                f"the file stands for more than {MAX_NODES} values once its aliases"
                " (*name) are expanded; use fewer aliases or split the file",
            )
        if self.chars > MAX_EXPANDED_CHARS:
            raise _TooBig(
                node,
                path,
                f"the file stands for more than {MAX_EXPANDED_CHARS // (1024 * 1024)} million"
                " characters of text once its aliases (*name) are expanded; use fewer aliases",
            )

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self._count(node, path)
        if len(path) > MAX_DEPTH:
            raise _TooBig(node, path, f"the file nests deeper than {MAX_DEPTH} levels")
        mark = node.start_mark
        self.positions.values.setdefault(path, (mark.line + 1, mark.column + 1))
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self._key(key_node, path)
                if key is None:
                    continue
                key_path = (*path, key)
                km = key_node.start_mark
                if key in result:
                    self.positions.keys[(*key_path, "#dup")] = (km.line + 1, km.column + 1)
                    self.report.error(
                        path, f"key {shown(key)} appears twice", key=True, at=(*key_path, "#dup")
                    )
                    continue
                self.positions.keys[key_path] = (km.line + 1, km.column + 1)
                result[key] = self.build(value_node, key_path)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError):
            # An explicit tag the value does not fit, like `!!int x` or `!!float 1e`.
            tag = str(node.tag).rsplit(":", 1)[-1]
            self.report.error(path, f"{shown(node.value)} is not a valid {tag}")
            return None

    def _key(self, key_node: yaml.Node, path: KeyPath) -> str | None:
        """A mapping's key as text, or None (reported) when it is not a word.

        A list or mapping as a key is refused before it is built: built, an
        aliased one can expand to gigabytes without passing through `build`.
        """
        self._count(key_node, path)
        km = key_node.start_mark
        if not isinstance(key_node, yaml.ScalarNode):
            kind = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
            self.positions.keys[(*path, "#key")] = (km.line + 1, km.column + 1)
            self.report.error(
                path, f"a key must be a word, not {kind}", key=True, at=(*path, "#key")
            )
            return None
        try:
            key = self.loader.construct_object(key_node, deep=True)
        except (ValueError, TypeError, OverflowError):
            key = None  # a tagged key that does not fit its tag: reported below
        if not isinstance(key, str | int) or isinstance(key, bool):
            self.positions.keys[(*path, "#key")] = (km.line + 1, km.column + 1)
            self.report.error(
                path, f"a key must be a word, not {shown(key)}", key=True, at=(*path, "#key")
            )
            return None
        return str(key)


class _TooBig(Exception):
    def __init__(self, node: yaml.Node, path: KeyPath, message: str) -> None:
        super().__init__(message)
        self.path = format_path(path)
        self.line = node.start_mark.line + 1
        self.column = node.start_mark.column + 1


def _compose(text: str, positions: Positions, report: Report) -> Any:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        return _Composer(loader, positions, report).build(node, ())
    finally:
        loader.dispose()


def parse_script(
    text: str, filename: str = "sessions.yaml", media: MediaFiles | None = None
) -> Script:
    """Check a script's text; raise `ScriptError` listing every problem.

    `media` finds the files the script names (images, PDFs, a logo); without it a
    script that names one is refused.
    """
    positions = Positions(filename)
    report = Report(positions)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ScriptError(
            [Problem(filename, 1, 1, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")]
        )
    try:
        data = _compose(text, positions, report)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScriptError(
            [Problem(filename, line, column, "", f"YAML syntax error: {what}")]
        ) from None
    except yaml.YAMLError as exc:
        raise ScriptError([Problem(filename, 1, 1, "", f"YAML error: {exc}")]) from None
    except _TooBig as exc:
        raise ScriptError([Problem(filename, exc.line, exc.column, exc.path, str(exc))]) from None
    except RecursionError:
        raise ScriptError([Problem(filename, 1, 1, "", "the file nests too deeply")]) from None

    sessions: dict[str, Session] = {}
    if not isinstance(data, dict):
        report.error((), "the file must start with 'sessions:', a mapping of session ids")
    else:
        SpecReader(data, (), report, "en").check_keys(frozenset({"sessions"}))
        raw_sessions = data.get("sessions")
        if not isinstance(raw_sessions, dict) or not raw_sessions:
            report.error(("sessions",), "needs at least one session: 'sessions:' then an id")
        else:
            for session_id, raw in raw_sessions.items():
                session = _read_session(session_id, raw, ("sessions", session_id), report, media)
                if session is not None:
                    sessions[session_id] = session
    if report.problems:
        raise ScriptError(report.problems, report.unshown)
    files = media.paths() if media is not None else ()
    return Script(path=filename, sessions=sessions, notes=tuple(report.notes), files=files)


def load_script(path: str | Path, media_dir: Path | None = None) -> Script:
    """Read and check a script file; raise `ScriptError` when it cannot be used.

    Files it names are found next to it; with `media_dir` (a server's), each is
    copied there under its content name, the copy its runs keep.
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(
            [Problem(name, 1, 1, "", "file not found; give the path of your sessions.yaml")]
        ) from None
    except OSError as exc:
        raise ScriptError(
            [Problem(name, 1, 1, "", f"cannot read the file: {exc.strerror}")]
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ScriptError(
            [Problem(name, 1, 1, "", f"the file is larger than {MAX_FILE_BYTES // 1024} KiB")]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScriptError(
            [Problem(name, line, 1, "", "the file is not UTF-8 text; save it as UTF-8")]
        ) from None
    return parse_script(text, name, MediaFiles(path.parent, media_dir))


#: Types that a mapping without `type:` may stand for, by their shorthand word.
SHORTHANDS = {cls.shorthand: cls for cls in REGISTRY.values() if cls.shorthand}


def _read_session(
    session_id: str, raw: Any, path: KeyPath, report: Report, media: MediaFiles | None
) -> Session | None:
    if not ID_PATTERN.fullmatch(session_id):
        report.error(
            path, f"session id {session_id!r} may hold only a-z, 0-9, '-' and '_'", key=True
        )
    if not isinstance(raw, dict):
        report.error(
            path, f"a session is a mapping with title, language and items, not {kind_of(raw)}"
        )
        return None
    spec = SpecReader(raw, path, report, "en", media)
    spec.check_keys(frozenset({"title", "language", "items", "theme"}))
    title = spec.text("title", required=True, max_length=200)
    language = spec.one_of("language", LANGUAGES, default="en")
    spec.language = language
    theme = read_theme(spec)
    raw_items = spec.sequence("items", required=True)
    items: list[Item] = []
    if raw_items is not None and not raw_items:
        spec.error("items", "a session needs at least one item")
    seen: dict[str, int] = {}
    for index, raw_item in enumerate(raw_items or []):
        item_path = (*path, "items", index)
        shorthand = _shorthand(raw_item)
        if shorthand is not None:
            reader = SpecReader(raw_item, item_path, report, language, media)
            for made in shorthand.expand(reader):
                if made.id in seen:
                    report.error(
                        item_path,
                        f"makes an item with id {made.id!r}, which items[{seen[made.id]}] "
                        "uses already; give this one an 'id' of its own",
                    )
                    continue
                seen[made.id] = index
                items.append(made)
            continue
        raw_id = raw_item.get("id", f"item-{index + 1}") if isinstance(raw_item, dict) else None
        if isinstance(raw_id, str) and raw_id in seen:
            report.error(
                (*item_path, "id"),
                f"id {raw_id!r} is already used by items[{seen[raw_id]}]; ids must be unique",
            )
            continue
        if isinstance(raw_id, str):
            seen[raw_id] = index
        item = _read_item(index, raw_item, item_path, report, language, media)
        if item is not None:
            items.append(item)
    if title is None or raw_items is None:
        return None
    return Session(id=session_id, title=title, language=language, items=tuple(items), theme=theme)


def _shorthand(raw: Any) -> type[Item] | None:
    """The type a mapping without `type:` stands for by its first shorthand key."""
    if not isinstance(raw, dict) or "type" in raw:
        return None
    return next((SHORTHANDS[key] for key in raw if key in SHORTHANDS), None)


def _read_item(
    index: int,
    raw: Any,
    path: KeyPath,
    report: Report,
    language: str,
    media: MediaFiles | None,
) -> Item | None:
    known = ", ".join(sorted(REGISTRY))
    if not isinstance(raw, dict):
        report.error(path, f"an item is a mapping starting with 'type:' ({known})")
        return None
    type_name = raw.get("type")
    if type_name is None:
        report.error(path, f"missing required key 'type' (one of {known})")
        return None
    cls = REGISTRY.get(type_name) if isinstance(type_name, str) else None
    if cls is None:
        close = difflib.get_close_matches(str(type_name), sorted(REGISTRY), n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        report.error((*path, "type"), f"unknown type {type_name!r} ({hint}known types: {known})")
        return None
    body = {k: v for k, v in raw.items() if k != "type"}
    spec = SpecReader(body, path, report, language, media)
    keys_ok = spec.check_keys(cls.keys | ITEM_KEYS)
    item_id = _item_id(spec, index, cls, report)
    item = cls.parse(spec, item_id or f"item-{index + 1}")
    if isinstance(item, Question):
        # Every question may count down; the type's own parse leaves it to here.
        timer = spec.integer("timer", default=None, minimum=TIMER_MIN, maximum=TIMER_MAX)
        if timer is not None:
            item = dataclasses.replace(item, timer=timer)
    # Every item may carry the facilitator's notes; read here, once for all types.
    notes = spec.text("notes", default="", max_length=NOTES_MAX, strip=False)
    if item is not None and notes and notes.strip():
        item = dataclasses.replace(item, notes=notes.strip("\n"))
    return item if keys_ok and item_id is not None else None


def _item_id(spec: SpecReader, index: int, cls: type[Item], report: Report) -> str | None:
    raw_id = spec.data.get("id")
    if raw_id is None:
        generated = f"item-{index + 1}"
        if cls.is_question:
            report.note(
                spec.path,
                f"no id: using {generated!r}, which changes if items move; "
                "give the question an 'id' to keep results comparable",
            )
        return generated
    if not isinstance(raw_id, str) or not ID_PATTERN.fullmatch(raw_id):
        spec.error("id", f"id {raw_id!r} may hold only a-z, 0-9, '-' and '_' (at most 60)")
        return None
    return raw_id


def session_from_spec(data: Mapping[str, Any]) -> Session:
    """Rebuild a session from `Session.to_spec()` data (a room's own copy)."""
    session_id = str(data.get("id", ""))
    wrapped = yaml.safe_dump(
        {"sessions": {session_id: {k: v for k, v in data.items() if k != "id"}}},
        allow_unicode=True,
        sort_keys=False,
    )
    script = parse_script(wrapped, f"<room copy of {session_id}>", MediaFiles.room_copy())
    return script.sessions[session_id]


def iter_questions(session: Session) -> Iterator[Question]:
    for item in session.items:
        if isinstance(item, Question):
            yield item
