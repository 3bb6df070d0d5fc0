"""Every message id poll shows: from templates, Python sources and the browser scripts' list.

Used by the catalogue test (every id has a Dutch and an English text) and by
anybody updating the catalogues: `python -m tests.web.msgids` prints missing ids.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir

from poll.web.i18n import JS_MESSAGES

ROOT = Path(__file__).resolve().parents[2]
# Messages whose ids are built from data in templates: a question's status.
# (Item types' console labels are `N_(...)` in their modules, found below.)
DYNAMIC = ("pending", "open", "closed")


def template_msgids() -> set[str]:
    found: set[str] = set()
    method_map = [("**.html", "jinja2.ext:babel_extract")]
    options = {"**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "templates"), method_map, options_map=options
    ):
        if isinstance(message, str):
            found.add(message)
        elif message and message[0]:
            found.add(message[0])
    return found


def python_msgids() -> set[str]:
    """N_("..."), AnswerRefused("..."), RoomError subclasses' `message` and their calls."""
    found: set[str] = set()
    for path in sorted((ROOT / "poll").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if (
                    name in ("N_", "AnswerRefused")
                    or re.fullmatch(
                        r"[A-Z]\w*(Error|Room|Ended|Current|Closed|Open|Allowed|Answers|Answer|Unavailable)",
                        name,
                    )
                ) and node.args:
                    first = node.args[0]
                    wanted = name in ("N_", "AnswerRefused") or path.name in (
                        "rooms.py",
                        "actions.py",
                    )
                    if wanted and isinstance(first, ast.Constant) and isinstance(first.value, str):
                        found.add(first.value)
            if isinstance(node, ast.ClassDef) and path.name == "rooms.py":
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and any(getattr(t, "id", "") == "message" for t in statement.targets)
                        and isinstance(statement.value, ast.Constant)
                    ):
                        found.add(statement.value.value)
    return found


def all_msgids() -> set[str]:
    return template_msgids() | python_msgids() | set(JS_MESSAGES) | set(DYNAMIC)


if __name__ == "__main__":
    from babel.messages.pofile import read_po

    with open(ROOT / "locale/nl/LC_MESSAGES/messages.po", "rb") as source:
        catalog = read_po(source)
    for message in sorted(all_msgids()):
        if message not in catalog:
            print(message)
