"""The session script loader fed broken YAML: it fails with ScriptError, never anything else."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from poll.script import MAX_DEPTH, ScriptError, parse_script
from tests.security.conftest import PROFILE, count, examples

yaml_fragments = st.sampled_from(
    [
        "sessions:", "  s:", "    title: T", "    language: nl", "    items:",
        "      - type: yesno",
        "        id: q", "        prompt: P", "        options: [a, b]", "- &a [*a]", "*a", "&x y",
        "!!python/object/apply:os.system ['true']", "? [a]\n: b", "{", "}", "[", "]", "'", '"',
        "\t", "%YAML 1.1", "---", "...", "~", "<<: *a", "!!binary AAAA", "key: !!int x",
        "        max_length: 99999999999999999999", "        results: maybe",
    ]
)  # fmt: skip
plain_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
script_like = st.fixed_dictionaries(
    {"sessions": st.dictionaries(
        st.text(max_size=12),
        st.fixed_dictionaries({}, optional={
            "title": plain_values, "language": st.sampled_from(["nl", "en", "fr"]) | plain_values,
            "items": st.lists(st.fixed_dictionaries({}, optional={
                "type": st.sampled_from(["yesno", "choice", "open", "slide", "x"]) | plain_values,
                "id": plain_values, "prompt": plain_values, "options": plain_values,
                "title": plain_values, "body": plain_values, "max_length": plain_values,
                "multiple": plain_values, "other": plain_values,
            }), max_size=4) | plain_values,
        }), max_size=3)}
)  # fmt: skip


def loads_or_script_error(text: str) -> None:
    try:
        parse_script(text, "sessions.yaml")
    except ScriptError as exc:
        assert exc.problems and all(str(p).startswith("sessions.yaml:") for p in exc.problems)
    count("hypothesis examples: session script loader")


@settings(settings.get_profile(PROFILE), max_examples=examples())
@given(st.lists(yaml_fragments, max_size=30).map("\n".join) | st.text(max_size=300))
def test_random_yaml_text_fails_cleanly(text: str) -> None:
    loads_or_script_error(text)


@settings(settings.get_profile(PROFILE), max_examples=examples())
@given(script_like)
def test_random_script_structures_fail_cleanly(data: object) -> None:
    loads_or_script_error(yaml.safe_dump(data, allow_unicode=True))


@settings(settings.get_profile(PROFILE), max_examples=5)
@given(depth=st.integers(MAX_DEPTH, 2000), width=st.integers(2, 10), levels=st.integers(5, 10))
def test_bombs_and_deep_nesting_fail_cleanly(depth: int, width: int, levels: int) -> None:
    with_nesting = "sessions:\n  s:\n    items: " + "[" * depth + "]" * depth
    loads_or_script_error(with_nesting)
    bomb = ["a0: &a0 [x, x]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * width)
        bomb.append(f"a{level}: &a{level} [{refs}]")
    bomb.append(f"sessions: {{s: {{title: *a{levels - 1}}}}}")
    loads_or_script_error("\n".join(bomb))


def test_a_huge_file_fails_cleanly() -> None:
    loads_or_script_error("sessions:\n" + "  # " + "x" * (1024 * 1024) + "\n")
