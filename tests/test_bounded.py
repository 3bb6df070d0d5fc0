"""The bounded dict behind what a process remembers per visitor or per code."""

from __future__ import annotations

from poll.bounded import Bounded


def test_a_new_key_past_the_limit_drops_the_oldest() -> None:
    kept: Bounded[str, int] = Bounded(3)
    for n, key in enumerate("abcd"):
        kept[key] = n
    assert list(kept.items()) == [("b", 1), ("c", 2), ("d", 3)]


def test_setting_a_key_it_holds_drops_nothing_and_keeps_its_place() -> None:
    kept: Bounded[str, int] = Bounded(2)
    kept["a"], kept["b"] = 1, 2
    kept["a"] = 10
    assert list(kept.items()) == [("a", 10), ("b", 2)]
    del kept["a"]
    kept["c"] = 3
    assert list(kept.items()) == [("b", 2), ("c", 3)]
