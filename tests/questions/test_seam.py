"""A question type owns its whole life: a type added here, with only its module-level
class, its template file and an existing catalogue label, runs through a room,
the phone's form (with and without JavaScript), the projector and the CSV cells;
and a type missing any part stops the server at start-up, never falls back."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import pytest

from poll.answers import Aggregate, Answer
from poll.i18n import N_
from poll.questions import REGISTRY, TypeRegistrationError, build_registry
from poll.questions.base import (
    AnswerRefused,
    Audience,
    FormFields,
    Question,
    ReportInput,
    bars,
    expect_mapping,
    first,
    read_common,
)
from poll.rooms import Rooms
from poll.script import ScriptError, parse_script
from poll.spec import SpecReader
from poll.store.base import Store
from poll.web import pages
from poll.web.screens import Screens, check_types

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stars(Question):
    """A 1–5 star rating: the small type this test adds and removes."""

    type_name: ClassVar[str] = "stars"
    keys: ClassVar[frozenset[str]] = Question.common_keys
    label: ClassVar[str] = N_("Choice")  # any label the catalogues have

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        prompt, results, allow_change = read_common(spec)
        if prompt is None:
            return None
        return cls(id=item_id, title=prompt, results=results, allow_change=allow_change)

    def to_spec(self) -> dict[str, Any]:
        return self.common_spec()

    def answer_options(self) -> list[tuple[str, str]]:
        return [(str(n), "★" * n) for n in range(1, 6)]

    def validate(self, raw: object) -> Answer:
        stars = expect_mapping(raw).get("stars")
        if stars not in {"1", "2", "3", "4", "5"}:
            raise AnswerRefused("Choose an answer first.")
        return Answer(keys=(str(stars),))

    def answer_from_form(self, fields: FormFields) -> object:
        return {"stars": first(fields, "stars")}

    def results_for(self, aggregate: Aggregate, audience: Audience) -> dict[str, Any]:
        return {
            "kind": "bars",
            "respondents": aggregate.respondents,
            "options": bars(self.answer_options(), aggregate),
        }

    def summary(self, aggregate: Aggregate) -> list[tuple[str, int, float]]:
        return [
            (b["label"], b["count"], b["percent"]) for b in bars(self.answer_options(), aggregate)
        ]

    def csv_values(self, answer: Answer) -> list[str]:
        return [f"{key} stars" for key in answer.keys]

    def report(self, given: ReportInput) -> dict[str, Any]:
        return {"options": bars(self.answer_options(), given.aggregate)}


STARS_TEMPLATE = """
{% macro form(item, mine) %}{% for o in item.options %}
<button type="submit" name="stars" value="{{ o.id }}">{{ o.label }}</button>
{% endfor %}{% endmacro %}
{% macro answered(item, mine) %}<p class="mine">{{ mine[0]["keys"][0] }} stars</p>{% endmacro %}
{% macro phone_results(item, results) %}{% endmacro %}
{% macro projector_results(item, results) %}<ol class="stars">{% for o in results.options %}
<li>{{ o.label }} {{ o.count }}</li>{% endfor %}</ol>{% endmacro %}
{% macro console_results(item, results) %}{{ projector_results(item, results) }}{% endmacro %}
{% macro report(item, results) %}<ol class="stars-report">{% for o in results.options %}
<li>{{ o.label }} {{ o.count }}</li>{% endfor %}</ol>{% endmacro %}
"""

SCRIPT = """
sessions:
  rate:
    title: Rate it
    language: en
    items:
      - type: stars
        id: how-good
        prompt: How good was it?
"""


@pytest.fixture
def templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the templates the web layer renders from, for this test's own type."""
    copy = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", copy)
    real = pages.resource_dir
    monkeypatch.setattr(
        pages, "resource_dir", lambda name: copy if name == "templates" else real(name)
    )
    pages.environment.cache_clear()
    yield copy
    pages.environment.cache_clear()


@pytest.fixture
def stars_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(REGISTRY, "stars", Stars)


async def test_a_new_type_is_its_module_and_its_template(
    templates: Path, stars_registered: None, store: Store
) -> None:
    (templates / "questions" / "stars.html").write_text(STARS_TEMPLATE, encoding="utf-8")
    check_types()  # start-up accepts the new type

    script = parse_script(SCRIPT)
    rooms = Rooms(store, lambda: script)
    room = await rooms.create("rate")
    await room.go(0)

    # A phone without JavaScript posts the form; the type reads it.
    question = room.question("how-good")
    raw = question.answer_from_form({"stars": ["4"], "token": ["x"]})
    await room.vote("phone-1", "how-good", "s1", raw)
    # A phone with JavaScript sends the same shape over the websocket.
    await room.vote("phone-2", "how-good", "s2", {"stars": "4"})

    data = await room.load()
    screens = Screens()
    phone_view = room.view(data, "participant")
    stage = screens.stage(phone_view, [])
    assert 'name="stars" value="5"' in stage and 'name="question_id" value="how-good"' in stage
    projector = screens.snapshot_fields(room.view(data, "projector"), "projector")["html"]
    assert "<li>★★★★ 2</li>" in projector
    assert question.csv_values(Answer(keys=("4",))) == ["4 stars"]


def test_a_type_without_its_template_stops_the_start(templates: Path) -> None:
    with pytest.raises(TypeRegistrationError, match=r"templates/questions/stars\.html"):
        check_types([Stars])


def test_a_template_missing_a_macro_stops_the_start(templates: Path) -> None:
    without_form = STARS_TEMPLATE.replace("{% macro form(", "{% macro unused(")
    (templates / "questions" / "stars.html").write_text(without_form, encoding="utf-8")
    with pytest.raises(TypeRegistrationError, match=r"lacks the macro\(s\) form"):
        check_types([Stars])


def test_a_label_without_dutch_text_stops_the_start(templates: Path) -> None:
    (templates / "questions" / "stars.html").write_text(STARS_TEMPLATE, encoding="utf-8")

    @dataclass(frozen=True)
    class Unlabelled(Stars):
        label: ClassVar[str] = "Stars, a label no catalogue has"

    with pytest.raises(TypeRegistrationError, match="has no text in locale/nl"):
        check_types([Unlabelled])


def test_a_half_declared_type_is_refused() -> None:
    @dataclass(frozen=True)
    class Twin(Stars):
        pass

    unlabelled = type("Unlabelled", (Stars,), {"label": None})
    with pytest.raises(TypeRegistrationError, match="does not declare 'label'"):
        build_registry((unlabelled,))
    with pytest.raises(TypeRegistrationError, match="both call themselves 'stars'"):
        build_registry((Stars, Twin))

    class Unfinished(Question):  # no validate, tally, form reading, CSV …
        type_name: ClassVar[str] = "unfinished"
        keys: ClassVar[frozenset[str]] = frozenset()
        label: ClassVar[str] = N_("Choice")

    with pytest.raises(TypeRegistrationError, match=r"does not implement .*validate"):
        build_registry((Unfinished,))


def test_an_unknown_type_in_a_script_is_an_error_not_a_fallback() -> None:
    with pytest.raises(ScriptError, match="unknown type 'stars'"):
        parse_script(SCRIPT)


def test_what_phones_see_is_built_from_an_allow_list() -> None:
    """No audience's results are the console's with keys deleted: a phone's view
    of every registered question type holds no free text at all, unless the type
    shares the answers with phones (a Q&A board), and never a hidden one."""
    from poll.answers import TextEntry

    aggregate = Aggregate(
        respondents=2,
        counts={"yes": 1, "_other": 1},
        texts=(TextEntry("r1", "secret words"), TextEntry("r2", "hidden words", hidden=True)),
    )
    script = parse_script((ROOT / "tests" / "fixtures" / "every_type.yaml").read_text())
    for question in script.sessions["every"].questions.values():
        phone = repr(question.results_for(aggregate, "participant"))
        projector = repr(question.results_for(aggregate, "projector"))
        assert "hidden words" not in phone and "hidden words" not in projector
        if not question.shares_answers_with_phones:
            assert "secret words" not in phone
    shared = [
        q for q in script.sessions["every"].questions.values() if q.shares_answers_with_phones
    ]
    assert all("secret words" in repr(q.results_for(aggregate, "participant")) for q in shared)


def _outside_the_seam() -> list[Path]:
    seams = {ROOT / "poll" / "questions", ROOT / "templates" / "questions"}
    seams.add(ROOT / "static" / "questions")
    files = [
        *(ROOT / "poll").rglob("*.py"),
        *(ROOT / "templates").rglob("*.html"),
        *(ROOT / "static").rglob("*.js"),
    ]
    return [f for f in files if not any(seam in f.parents for seam in seams)]


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in words)


# A type's name as a string; "open" is also a question's status, so for that
# name only a comparison with a `type` counts.
NAMED = re.compile(r"""["']({})["']""".format(_alternatives(n for n in REGISTRY if n != "open")))
OPEN_TYPE = re.compile(r"""type\W{0,12}[!=]==?\s*["']open["']|["']open["']\s*[!=]==?\W{0,12}type""")
# A type's class in Python (elsewhere "Open" and "Choice" are words).
CLASS = re.compile(rf"\b({_alternatives(c.__name__ for c in REGISTRY.values())})\b")


def names_a_type(line: str, python: bool) -> bool:
    return bool(NAMED.search(line) or OPEN_TYPE.search(line) or (python and CLASS.search(line)))


def test_no_code_outside_the_seam_names_a_type() -> None:
    """Rooms, the web layer, the export and the page scripts ask the type; none
    of them names one."""
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _outside_the_seam()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if names_a_type(line, path.suffix == ".py")
    ]
    assert not found, "names a question type outside its seam:\n" + "\n".join(found)


def test_the_seam_check_sees_a_type_named() -> None:
    assert names_a_type('{% if item.type == "slide" %}', python=False)
    assert names_a_type("if (item.type === 'yesno') {", python=False)
    assert names_a_type('if item["type"] == "open":', python=True)
    assert names_a_type("if isinstance(item, Choice):", python=True)
    assert not names_a_type('{% if snap.status == "open" %}', python=False)
    assert not names_a_type('<a id="open-projector">Open projector</a>', python=False)


def test_a_module_of_the_package_without_exactly_one_type_stops_the_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Types are found, not listed: every module of poll/questions is one type."""
    import importlib
    import pkgutil
    import types

    from poll import questions

    helpers = types.ModuleType("poll.questions.helpers")  # a module with no type in it
    real_iter, real_import = pkgutil.iter_modules, importlib.import_module

    def iter_modules(path: Any) -> list[pkgutil.ModuleInfo]:
        return [*real_iter(path), pkgutil.ModuleInfo(None, "helpers", False)]  # type: ignore[arg-type]

    def import_module(name: str) -> Any:
        return helpers if name == helpers.__name__ else real_import(name)

    monkeypatch.setattr(pkgutil, "iter_modules", iter_modules)
    monkeypatch.setattr(importlib, "import_module", import_module)
    with pytest.raises(TypeRegistrationError, match=r"helpers\.py must define one item type"):
        questions.discover()
    monkeypatch.undo()
    assert {cls.type_name for cls in questions.discover()} == set(REGISTRY)
