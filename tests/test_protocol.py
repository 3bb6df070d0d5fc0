"""One protocol: poll/protocol.py, its mirror static/protocol.js, and docs/protocol.md
name the same message types, reasons and close codes, and the page scripts use
the mirror's names instead of literals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import poll.web.actions  # noqa: F401 - its ActionError is a RoomError too
from poll import protocol
from poll.rooms import RoomError

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
MIRROR = (STATIC / "protocol.js").read_text(encoding="utf-8")
SCRIPTS = sorted(path for path in STATIC.glob("*.js") if path.name != "protocol.js")


def js_constants() -> dict[str, object]:
    """`export const NAME = "text";` / `= 4404;` of static/protocol.js."""
    found: dict[str, object] = {}
    for name, value in re.findall(r"^export const (\w+) = (\"[^\"]*\"|\d+);$", MIRROR, re.M):
        found[name] = json.loads(value)
    return found


def python_constants() -> dict[str, object]:
    names = {name for name in dir(protocol) if name.isupper()}
    return {
        name: getattr(protocol, name)
        for name in names
        if isinstance(getattr(protocol, name), str | int)
    }


def doc_section(heading: str) -> str:
    start = DOC.index(f"\n## {heading}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else None]


def test_the_page_scripts_mirror_has_every_constant_with_the_same_value() -> None:
    assert js_constants() == python_constants()


def test_the_mirror_has_the_same_final_close_codes() -> None:
    match = re.search(r"^export const FINAL_CLOSE_CODES = new Set\(\[([\w, ]+)\]\);$", MIRROR, re.M)
    assert match is not None, "static/protocol.js must export FINAL_CLOSE_CODES"
    constants = js_constants()
    codes = {constants[name.strip()] for name in match.group(1).split(",")}
    assert codes == set(protocol.FINAL_CLOSE_CODES)


def test_the_lists_hold_every_constant_of_their_kind() -> None:
    constants = python_constants()
    codes = {name: value for name, value in constants.items() if name.startswith("CLOSE_")}
    assert codes == protocol.CLOSE_CODES
    strings = {value for value in constants.values() if isinstance(value, str)}
    assert strings == set(protocol.MESSAGE_TYPES) | set(protocol.REASONS)
    assert len(set(protocol.REASONS)) == len(protocol.REASONS)
    assert not set(protocol.MESSAGE_TYPES) & set(protocol.REASONS)


def test_the_doc_lists_every_close_code() -> None:
    rows = re.findall(r"^\| (\d{4}) \| `(\w+)` \|", DOC, re.M)
    assert rows, "docs/protocol.md has a close code table with a name column"
    assert {name: int(code) for code, name in rows} == protocol.CLOSE_CODES


def test_the_doc_lists_every_reason() -> None:
    rows = re.findall(r"^\| `(\w+)` \|", doc_section("Reasons"), re.M)
    assert sorted(rows) == sorted(protocol.REASONS)


def test_the_doc_describes_every_message_type() -> None:
    headings = re.findall(r"^### (.+)$", DOC, re.M)
    described = {name for heading in headings for name in re.findall(r"`(\w+)`", heading)}
    assert described == set(protocol.MESSAGE_TYPES)


def room_errors(cls: type[RoomError] = RoomError) -> list[type[RoomError]]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *room_errors(sub)]
    return found


@pytest.mark.parametrize("error", room_errors(), ids=lambda cls: cls.__name__)
def test_every_room_error_names_its_own_reason(error: type[RoomError]) -> None:
    # Set on the class itself: a subclass that forgot would pass for its parent.
    assert "reason" in vars(error), f"{error.__name__} sets no `reason`"
    assert error.reason in protocol.REASONS


def test_reasons_keep_their_names() -> None:
    # An outside client branches on these strings: they never change.
    from poll.rooms import NotYetOpen, StoreUnavailable, UnknownRoom, VotingClosed

    assert UnknownRoom.reason == "unknown_room"
    assert VotingClosed.reason == "voting_closed"
    assert NotYetOpen.reason == "not_yet_open"
    assert StoreUnavailable.reason == "store_unavailable"


def test_messages_keep_their_shape() -> None:
    assert protocol.encode(protocol.mine("q1", [{"keys": ["yes"], "text": None}], 4)) == (
        '{"type":"mine","version":4,"question_id":"q1","answers":[{"keys":["yes"],"text":null}]}'
    )
    assert (
        protocol.encode(protocol.done("r1", 44)) == '{"type":"done","request_id":"r1","version":44}'
    )
    assert protocol.encode(protocol.refused("not_sent", "Opnieuw…", retry=False)) == (
        '{"type":"refused","reason":"not_sent","retry":false,"message":"Opnieuw…"}'
    )
    assert list(protocol.refused("x", "m", retry=True, submission_id="s", question_id="q")) == [
        "type",
        "submission_id",
        "question_id",
        "reason",
        "retry",
        "message",
    ]
    assert protocol.snapshot({"audience": "console", "version": 3}) == {
        "type": "snapshot",
        "audience": "console",
        "version": 3,
    }


IMPORT = re.compile(r"import\s*\{([^}]*)\}\s*from\s*\"\./protocol\.js\";")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_page_scripts_import_only_names_the_mirror_has(script: Path) -> None:
    exported = set(re.findall(r"^export const (\w+)", MIRROR, re.M))
    for names in IMPORT.findall(script.read_text(encoding="utf-8")):
        imported = {name.strip() for name in names.split(",") if name.strip()}
        assert imported <= exported, f"{script.name}: {sorted(imported - exported)}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_page_scripts_name_protocol_values_through_the_mirror(script: Path) -> None:
    code = "\n".join(
        line.split("//")[0] for line in script.read_text(encoding="utf-8").splitlines()
    )
    words = "|".join(re.escape(w) for w in (*protocol.MESSAGE_TYPES, *protocol.REASONS))
    literals = re.findall(
        rf"(?:type:\s*|\.type\s*[!=]==\s*|\.reason\s*[!=]==\s*|case\s+)\"({words})\"", code
    )
    numbers = re.findall(
        r"\b(?:" + "|".join(map(str, protocol.CLOSE_CODES.values())) + r")\b", code
    )
    assert not literals, f"{script.name}: use static/protocol.js for {literals}"
    assert not numbers, f"{script.name}: use static/protocol.js for close codes {numbers}"
