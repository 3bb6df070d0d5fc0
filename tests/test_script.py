"""Loading sessions.yaml: the sample file, and every problem a facilitator can make."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from poll.questions import REGISTRY, Choice, Open, Slide, YesNo
from poll.script import ScriptError, load_script, parse_script, session_from_spec

ROOT = Path(__file__).resolve().parent.parent


def problems(text: str) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        parse_script(textwrap.dedent(text), "sessions.yaml")
    return [str(p) for p in caught.value.problems]


def test_the_sample_script_holds_the_dutch_session_and_an_english_one() -> None:
    script = load_script(ROOT / "sessions.yaml")
    dutch = script.sessions["gemengde-wijken"]
    assert dutch.language == "nl"
    assert dutch.title == "Gemengde wijken, segregatie en inclusie"
    questions = list(dutch.questions.values())
    assert [(q.type_name, q.id) for q in questions] == [
        ("yesno", "herkennen"),
        ("open", "aanvullende-vragen"),
        ("choice", "huidige-netwerken"),
        ("choice", "met-wie"),
        ("choice", "schaalniveau"),
        ("choice", "manieren"),
    ]
    met_wie, schaal, manieren = questions[3], questions[4], questions[5]
    assert isinstance(met_wie, Choice) and met_wie.multiple and not met_wie.other
    assert isinstance(schaal, Choice) and not schaal.multiple
    assert isinstance(manieren, Choice) and manieren.multiple and manieren.other
    assert isinstance(questions[0], YesNo) and questions[0].yes_label == "Ja"
    assert isinstance(dutch.items[0], Slide)
    english = script.sessions["team-day"]
    assert english.language == "en"
    # The English tour uses every item type there is, and a countdown.
    assert {item.type_name for item in english.items} == set(REGISTRY)
    assert any(q.deadline_seconds for q in english.questions.values())
    assert script.notes == ()


def test_a_session_survives_the_round_trip_through_its_room_copy() -> None:
    script = load_script(ROOT / "sessions.yaml")
    for session in script.sessions.values():
        assert session_from_spec(session.to_spec()) == session


def test_a_full_example_with_defaults() -> None:
    script = parse_script(
        textwrap.dedent(
            """\
            sessions:
              demo:
                title: Demo
                items:
                  - type: open
                    prompt: Wat valt op?
                  - type: choice
                    id: kies
                    prompt: Kies
                    results: hidden
                    allow_change: false
                    options: [Een, {id: twee, label: Twee (2)}]
            """
        )
    )
    session = script.sessions["demo"]
    assert session.language == "en"
    first, second = session.items
    assert isinstance(first, Open) and first.id == "item-1" and first.max_length == 280
    assert isinstance(second, Choice) and second.results == "hidden" and not second.allow_change
    assert [o.id for o in second.options] == ["een", "twee"]
    # A question without id gets one from its position, and the loader says so.
    assert [str(n) for n in script.notes] == [
        "sessions.yaml:5:9: sessions.demo.items[0]: no id: using 'item-1', which changes if "
        "items move; give the question an 'id' to keep results comparable"
    ]


def test_an_unknown_key_names_line_column_path_and_the_nearest_key() -> None:
    assert problems(
        """\
        sessions:
          gemengde-wijken:
            title: Gemengde wijken
            language: nl
            items:
              - type: choice
                id: met-wie
                prompt: Met wie?
                opitons: [a, b]
        """
    ) == [
        "sessions.yaml:6:9: sessions.gemengde-wijken.items[0]: missing required key 'options' "
        "(a list)",
        "sessions.yaml:9:9: sessions.gemengde-wijken.items[0]: unknown key 'opitons' "
        "(did you mean 'options'?)",
    ]


def test_every_problem_is_listed_at_once() -> None:
    found = problems(
        """\
        sessions:
          s:
            title: T
            language: fr
            items:
              - type: yesn
                prompt: Q
              - type: open
                id: a
                prompt: x
                max_length: -1
              - type: yesno
                id: a
                prompt: y
              - type: choice
                prompt: Kies
                options: [Ja, ja, ""]
              - type: choice
                prompt: Kies
                options: [Een]
              - type: yesno
                prompt: 12
                allow_change: "yes"
                results: sometimes
              - type: slide
              - "just text"
        """
    )
    assert found == [
        "sessions.yaml:4:15: sessions.s.language: must be one of nl, en, not 'fr'",
        "sessions.yaml:6:15: sessions.s.items[0].type: unknown type 'yesn' (did you mean "
        "'yesno'? known types: choice, leaderboard, open, qa, quiz, ranking, scale, slide, "
        "wordcloud, yesno)",
        "sessions.yaml:11:21: sessions.s.items[1].max_length: must be between 1 and 2000, not -1",
        "sessions.yaml:13:13: sessions.s.items[2].id: id 'a' is already used by items[1]; "
        "ids must be unique",
        "sessions.yaml:17:23: sessions.s.items[3].options[1]: option 'ja' is listed twice "
        "(also at options[0])",
        "sessions.yaml:17:27: sessions.s.items[3].options[2]: this option is empty",
        "sessions.yaml:20:18: sessions.s.items[4].options: a choice needs at least 2 options; "
        "it has 1",
        "sessions.yaml:23:23: sessions.s.items[5].allow_change: must be true or false, not 'yes'",
        "sessions.yaml:24:18: sessions.s.items[5].results: must be one of live, hidden, "
        "not 'sometimes'",
        "sessions.yaml:25:9: sessions.s.items[6]: missing required key 'title' (a text)",
        "sessions.yaml:26:9: sessions.s.items[7]: an item is a mapping starting with 'type:' "
        "(choice, leaderboard, open, qa, quiz, ranking, scale, slide, wordcloud, yesno)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sessions: [a\n", "sessions.yaml:2:1: YAML syntax error"),
        ("sessions:\n  a:\n    title: 'x\n", "sessions.yaml:4:1: YAML syntax error"),
        ("", "sessions.yaml:1:1: the file must start with 'sessions:'"),
        ("sessions: {}\n", "sessions.yaml:1:11: sessions: needs at least one session"),
        ("session: {}\n", "sessions.yaml:1:1: unknown key 'session' (did you mean 'sessions'?)"),
        ("sessions:\n  a: 5\n", "sessions.yaml:2:6: sessions.a: a session is a mapping"),
        (
            "sessions:\n  Bad Id:\n    title: x\n    items: [{type: slide, title: x}]\n",
            "sessions.yaml:2:3: sessions.Bad Id: session id 'Bad Id' may hold only",
        ),
        (
            "sessions:\n  a:\n    title: x\n    title: y\n    items: [{type: slide, title: x}]\n",
            "sessions.yaml:4:5: sessions.a: key 'title' appears twice",
        ),
        (
            "sessions:\n  a:\n    title: x\n",
            "sessions.yaml:3:5: sessions.a: missing required key 'items'",
        ),
        (
            "sessions:\n  a:\n    title: x\n    items: []\n",
            "sessions.yaml:4:12: sessions.a.items: a session needs",
        ),
        (
            "sessions:\n  a:\n    title: x\n    items:\n"
            "      - {type: choice, prompt: p, options: [a, b], max_choices: 2}\n",
            "sessions.yaml:5:65: sessions.a.items[0].max_choices: max_choices needs 'multiple",
        ),
        (
            "sessions:\n  a:\n    title: x\n    items:\n      - {type: open, id: Q!, prompt: p}\n",
            "sessions.yaml:5:26: sessions.a.items[0].id: id 'Q!' may hold only",
        ),
    ],
)
def test_broken_scripts_name_their_place(text: str, expected: str) -> None:
    assert any(p.startswith(expected) for p in problems(text)), problems(text)


def test_an_alias_bomb_fails_cleanly() -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 9):
        prev = chr(ord("a") + level - 1)
        here = chr(ord("a") + level)
        bomb += f"{here}: &{here} [{', '.join(['*' + prev] * 10)}]\n"
    found = problems(bomb)
    assert len(found) == 1
    assert found[0].startswith("sessions.yaml:1:17: e[3][3][8][8][3]: ")
    assert "more than 50000 values once its aliases (*name) are expanded" in found[0]


def test_deep_nesting_and_huge_files_fail_cleanly() -> None:
    assert "nests deeper" in problems("sessions: " + "[" * 200 + "]" * 200 + "\n")[0]
    assert "larger than 1024 KiB" in problems("sessions: {}\n# " + "x" * (1024 * 1024) + "\n")[0]


def test_missing_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="file not found"):
        load_script(tmp_path / "nope.yaml")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("sessions:\n  a:\n    title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ScriptError, match=r"latin.yaml:3:1: the file is not UTF-8"):
        load_script(latin)
