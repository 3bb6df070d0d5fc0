"""The room page a new phone gets, rendered once per room version, language and address.

When an audience joins, thousands of phones without a cookie load /r/CODE
within seconds, and each would cost a store read of the room, a Jinja render
of the page and its stage, and the snapshot's JSON: the same page every time
but for the phone's vote token and the form's submission id. So the page is
rendered once with placeholders for those two and kept for the room's
version; a phone gets a copy with its own values put in.

Only pages that depend on nothing else are kept: a new phone's (no answers,
no flash message), without a countdown (its seconds left change while the
version does not) and without a personal screen (a quiz's standing is the
phone's own). The count of phones in the embedded snapshot may lag (it is not
part of the version); the phone's websocket sends the current snapshot at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

#: Stand-ins for the phone's own values, put in by `PhonePages.page`; random per
#: process (URL-safe, so escaping leaves them alone) so no session text holds them.
TOKEN_MARK = f"poll-token-{secrets.token_hex(8)}"
SUBMISSION_MARK = f"poll-submission-{secrets.token_hex(8)}"


@dataclass(frozen=True)
class _Kept:
    key: tuple[int, str, str]  # version, language, join address
    html: str


class PhonePages:
    """The newest new-phone page of each room (one per room: the version moves on)."""

    def __init__(self) -> None:
        self._pages: dict[str, _Kept] = {}
        self.hits = 0

    @staticmethod
    def keepable(snapshot: dict[str, Any]) -> bool:
        """Whether a new phone's page of this snapshot is the same for every new phone."""
        return (
            snapshot.get("deadline_in") is None
            and not snapshot.get("personal")
            and not snapshot.get("mine")
        )

    def page(
        self, room_id: str, version: int, lang: str, address: str, token: str, submission: str
    ) -> str | None:
        kept = self._pages.get(room_id)
        if kept is None or kept.key != (version, lang, address):
            return None
        self.hits += 1
        return kept.html.replace(TOKEN_MARK, token).replace(SUBMISSION_MARK, submission)

    def keep(self, room_id: str, version: int, lang: str, address: str, html: str) -> None:
        kept = self._pages.get(room_id)
        # Never replace a newer page by an older one (renders finish in any order).
        if kept is None or kept.key[0] <= version:
            self._pages[room_id] = _Kept((version, lang, address), html)

    def forget(self, room_id: str) -> None:
        self._pages.pop(room_id, None)
