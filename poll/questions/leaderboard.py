"""A leaderboard: the quiz standings at this point of the session, as a content item.

The projector shows the top ten (the last leaderboard of the session: a podium
of the first three places above the rest); each phone shows its own nickname,
place and score; the console the standings and the leaderboard CSV. The
standings themselves are the room's (`poll.standings`): this item only asks
for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from poll.i18n import N_, translate
from poll.questions.base import Item, PersonalScreen, ReportInput

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: Players the report lists (as many as the projector's list).
TOP = 10


@dataclass(frozen=True)
class Leaderboard(Item):
    type_name: ClassVar[str] = "leaderboard"
    keys: ClassVar[frozenset[str]] = frozenset({"id", "title"})
    label: ClassVar[str] = N_("Leaderboard")

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        # The title is optional: "Leaderboard" in the session's language.
        default = translate(spec.language, N_("Leaderboard"))
        title = spec.text("title", default=default, max_length=200)
        if title is None:
            return None
        return cls(id=item_id, title=title)

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.type_name, "id": self.id, "title": self.title}

    def report(self, given: ReportInput) -> dict[str, Any] | None:
        # The standings at the end of the run, as the projector's list: its top ten
        # (nicknames the players chose to show on the screen, never who they are).
        lines = list(given.standings)
        return {"players": len(lines), "top": [dict(line) for line in lines[:TOP]]}

    def personal_screen(
        self, status: str | None, shown: bool, marks: Mapping[str, str]
    ) -> PersonalScreen | None:
        return "board"
