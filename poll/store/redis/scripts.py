"""The Lua scripts that make each change to a room one atomic step.

Each script lives in `lua/NAME.lua`, with its KEYS and ARGV written at its top;
every room script touches only keys of one room (one hash slot), and changing
scripts bump the room's version and publish it on the room's channel. The
stores call them by name through `SCRIPTS`.
"""

from __future__ import annotations

from importlib.resources import files


def _source(name: str) -> str:
    return (files(__package__ or __name__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


#: Script name → Lua source.
SCRIPTS: dict[str, str] = {
    name: _source(name)
    for name in (
        "vote",  # check the rules, store the answer, move the counters
        "update",  # apply a RoomPatch
        "reset",  # delete one question's answers and counters
        "set_hidden",  # hide or show one free text
        "set_mark",  # set or clear one of the facilitator's marks on a question
        "claim_name",  # give a participant a name no one else in the room has
        "aggregates",  # counters and texts, read in one atomic snapshot
        "answers_of",  # one participant's answers
        "join",  # record a participant who joined the run
        "presence",  # one process's count of connected participants
        "set_link",  # replace or revoke the room's results link
        "swap_code",  # release or take over a join-code claim (compare and set)
    )
}
