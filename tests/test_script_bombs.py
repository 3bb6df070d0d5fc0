"""A hostile `sessions.yaml` costs `poll check` and the server's reload little.

Aliases let a few hundred bytes stand for gigabytes; every way of expanding
them (values, mapping keys, long texts) is refused with a short message that
names the place, within a bounded amount of memory and time.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pytest

from poll.script import ScriptError, parse_script
from poll.spec import MAX_MESSAGE, MAX_PROBLEMS
from tests.support.scripts import SCRIPT

ROOT = Path(__file__).resolve().parent.parent
# Address space for a whole `python -m poll.cli check`: the interpreter and its
# imports take well under half of it; the unguarded bombs needed 165 MB to 1.6 GB.
ADDRESS_SPACE = 400 * 1024 * 1024
# Not a timing assertion: only a guard against a bomb that hangs the process.
HANG_GUARD_SECONDS = 120


def _anchors(levels: int) -> list[str]:
    anchors = ["&a0 [" + ",".join(["lol"] * 10) + "]"]
    for level in range(1, levels):
        anchors.append(f"&a{level} [" + ",".join([f"*a{level - 1}"] * 10) + "]")
    return anchors


def list_key_bomb(levels: int) -> str:
    """`? [&a0 [lol×10], &a1 [*a0×10] …] : x`, the key a list of 10**levels words."""
    return "? [" + ", ".join(_anchors(levels)) + "]\n: x\n"


def mapping_key_bomb(levels: int) -> str:
    return "? {k: [" + ", ".join(_anchors(levels)) + "]}\n: x\n"


def nested_key_bomb(levels: int) -> str:
    """The bomb as a key deep inside a session, where a key is expected to be a word."""
    return (
        "sessions:\n  s:\n    title: T\n    items:\n      - type: yesno\n"
        "        prompt: P\n        ? [" + ", ".join(_anchors(levels)) + "]\n        : x\n"
    )


def text_bomb() -> str:
    """One long text, aliased many times: few values, but megabytes of characters."""
    long = "x" * 200_000
    return f"a: &t {long}\nb: [*t, *t, *t, *t, *t, *t, *t, *t, *t, *t, *t, *t]\n"


BOMBS = {
    "list key, 7 levels (336 bytes)": list_key_bomb(7),
    "list key, 8 levels (383 bytes)": list_key_bomb(8),
    "mapping key, 8 levels": mapping_key_bomb(8),
    "key inside an item, 8 levels": nested_key_bomb(8),
    "aliased long text": text_bomb(),
}


def _problems(text: str) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        parse_script(text, "sessions.yaml")
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_a_bomb_is_refused_in_place_with_a_short_message(text: str) -> None:
    tracemalloc.start()
    try:
        found = _problems(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024, f"reading the bomb allocated {peak / 1e6:.0f} MB"
    assert found and all(len(line) < 500 for line in found), found
    assert all(line.startswith("sessions.yaml:") for line in found)
    assert any(
        "a key must be a word, not a" in line or "once its aliases (*name) are expanded" in line
        for line in found
    ), found


def test_a_list_as_key_names_its_line_and_column() -> None:
    found = _problems(nested_key_bomb(3))
    assert "sessions.yaml:7:11: sessions.s.items[0]: a key must be a word, not a list" in found


def test_an_echoed_value_is_cut_short() -> None:
    long = "z" * 100_000
    for text in (
        f"sessions: {{s: {{title: T, items: [{{type: yesno, prompt: P, timer: !!int {long}}}]}}}}",
        f"sessions:\n  s:\n    title: T\n    language: {long}\n    items: [{{type: slide}}]\n",
        f"sessions:\n  s{long}:\n    title: T\n    items: [{{type: slide}}]\n",
    ):
        found = _problems(text)
        assert found and all(len(line) < MAX_MESSAGE + 200 for line in found), [
            len(line) for line in found
        ]


def test_a_file_with_thousands_of_problems_lists_the_first_and_counts_the_rest() -> None:
    keys = "".join(f"    unknown{i}: 1\n" for i in range(500))
    found = _problems(
        "sessions:\n  s:\n    title: T\n    items: [{type: slide, title: S}]\n" + keys
    )
    assert len(found) == MAX_PROBLEMS + 1
    assert found[-1].endswith(
        f"and {500 - MAX_PROBLEMS} more problem(s) not shown; fix these first"
    )


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def _run_limited(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=_limited,
        timeout=HANG_GUARD_SECONDS,
    )


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_poll_check_refuses_a_bomb_within_bounded_memory(tmp_path: Path, text: str) -> None:
    bomb = tmp_path / "sessions.yaml"
    bomb.write_text(text, encoding="utf-8")
    result = _run_limited(["-m", "poll.cli", "check", str(bomb)])
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "MemoryError" not in result.stderr
    assert len(result.stdout) + len(result.stderr) < 4000
    assert f"{bomb}:" in result.stderr


RELOAD = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from poll.web.script_watch import ScriptWatch

    path = Path(sys.argv[1])
    watch = ScriptWatch(path)
    good = watch.script
    path.write_bytes(Path(sys.argv[2]).read_bytes())
    os.utime(path, ns=(1, 1))  # a new stamp even within the clock's resolution
    assert watch.check() is good, "a broken edit must keep the last good script"
    assert watch.error is not None
    print("\\n".join(str(p) for p in watch.error.problems))
    """
)


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_the_server_reload_refuses_a_bomb_within_bounded_memory(tmp_path: Path, text: str) -> None:
    script = tmp_path / "sessions.yaml"
    # The tests' script names no files, so it reads the same from any folder.
    script.write_text(SCRIPT.read_text(encoding="utf-8"), encoding="utf-8")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(text, encoding="utf-8")
    result = _run_limited(["-c", RELOAD, str(script), str(bomb)])
    assert result.returncode == 0, result.stderr[-2000:]
    assert 0 < len(result.stdout) < 4000
    assert f"{script}:" in result.stdout
