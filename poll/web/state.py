"""What the app keeps for its lifetime: settings, auth, the script, the store, rooms, hub."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from starlette.requests import HTTPConnection

from poll.live import Hub
from poll.rooms import Rooms
from poll.settings import Settings
from poll.store.base import Store
from poll.web.auth import Auth
from poll.web.phone_pages import PhonePages
from poll.web.renderer import PageRenderer
from poll.web.screens import Screens
from poll.web.script_watch import ScriptWatch
from poll.web.throttle import FailedLookups
from poll.web.wrong_tokens import WrongTokens


class NotStarted(RuntimeError):
    pass


@dataclass
class PollState:
    settings: Settings
    auth: Auth
    watch: ScriptWatch
    process_id: str
    #: Renders the PDF pages slides show, once each (see poll/web/media.py).
    pages: PageRenderer
    #: Failed join-code lookups per client address (memory only, see throttle.py).
    lookups: FailedLookups = field(default_factory=FailedLookups)
    #: Wrong facilitator tokens per client address (memory only, see wrong_tokens.py).
    wrong_tokens: WrongTokens = field(default_factory=WrongTokens)
    #: Live participant sockets per participant id (memory only, see live_ws.py).
    participant_sockets: Counter[str] = field(default_factory=Counter)
    #: Renders the live screens of phones and projector (one cache per process).
    screens: Screens = field(default_factory=Screens)
    #: The room page of new phones, kept per room screen for a second (see phone_pages.py).
    phone_pages: PhonePages = field(default_factory=PhonePages)
    _store: Store | None = field(default=None, repr=False)
    _rooms: Rooms | None = field(default=None, repr=False)
    _hub: Hub | None = field(default=None, repr=False)

    @property
    def store(self) -> Store:
        if self._store is None:
            raise NotStarted("the app's lifespan has not started")
        return self._store

    @property
    def rooms(self) -> Rooms:
        if self._rooms is None:
            raise NotStarted("the app's lifespan has not started")
        return self._rooms

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            raise NotStarted("the app's lifespan has not started")
        return self._hub


def poll_state(conn: HTTPConnection) -> PollState:
    state: PollState = conn.app.state.poll
    return state
