"""The room page a new phone gets, rendered once per screen, language and address.

When an audience joins, thousands of phones without a cookie load /r/CODE
within seconds, and each would cost a store read of the room, a Jinja render
of the page and its stage, and the snapshot's JSON: the same page every time
but for the phone's vote token and the form's submission id. So the page is
rendered once with placeholders for those two and kept; a phone gets a copy
with its own values put in.

It is kept for the room's state but its version (the item, each question's
status, what is shown, the join screen, the end): every join and every vote
moves the version on, so a page kept per version was drawn again for nearly
every phone of a joining audience. What the state leaves out (the tally or
board a phone may be shown, the count of phones) may lag by up to
`KEEP_SECONDS`, as it does for the phones on websockets, which get it at most
once a second (protocol.md). So kept pages are served only while phones of
the room are connected to the process (an audience joining); the phone's own
websocket then sends the current snapshot at once. A room followed without
JavaScript alone gets every page drawn afresh.

Only pages that depend on nothing else are kept: a new phone's (no answers,
no flash message), without a countdown (its seconds left change while the
state does not) and without a personal screen (a quiz's standing is the
phone's own).
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from poll.rooms import RoomState

#: Stand-ins for the phone's own values, put in by `PhonePages.page`; random per
#: process (URL-safe, so escaping leaves them alone) so no session text holds them.
TOKEN_MARK = f"poll-token-{secrets.token_hex(8)}"
SUBMISSION_MARK = f"poll-submission-{secrets.token_hex(8)}"

#: How long a kept page serves while the state is unchanged: the most its tally
#: or head count lags (phones get a shown tally at most once a second anyway).
KEEP_SECONDS = 1.0


def _screen_state(state: RoomState) -> RoomState:
    """The state as a new phone's page depends on it: all of it but the version."""
    return dataclasses.replace(state, version=0)


@dataclass(frozen=True)
class _Kept:
    state: RoomState  # without its version
    version: int
    lang: str
    address: str  # the join address the page shows
    kept_at: float
    html: str


class PhonePages:
    """The newest new-phone page of each room."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._pages: dict[str, _Kept] = {}
        self._clock = clock
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
        self, state: RoomState, lang: str, address: str, token: str, submission: str
    ) -> str | None:
        """The kept page with this phone's values, if it shows `state` (just read)."""
        kept = self._pages.get(state.id)
        if (
            kept is None
            or kept.lang != lang
            or kept.address != address
            or self._clock() - kept.kept_at > KEEP_SECONDS
            or kept.state != _screen_state(state)
        ):
            return None
        self.hits += 1
        return kept.html.replace(TOKEN_MARK, token).replace(SUBMISSION_MARK, submission)

    def keep(self, state: RoomState, lang: str, address: str, html: str) -> None:
        """Keep the page drawn (with the stand-ins) from `state`."""
        kept = self._pages.get(state.id)
        # Never replace a newer page by an older one (renders finish in any order).
        if kept is None or kept.version <= state.version:
            self._pages[state.id] = _Kept(
                _screen_state(state), state.version, lang, address, self._clock(), html
            )
