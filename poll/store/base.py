"""The store contract: what every store keeps, checks atomically and signals.

A store holds the truth about rooms (live runs of a session) and their
responses. It knows nothing of HTTP, HTML or item types: it keeps `Answer`
values, counts their keys and applies the voting rules that must hold under
concurrency (question current and open, one answer per participant unless
appending, change allowed, retried submissions counted once) in one atomic
step. Rules that need no atomicity (is the answer valid for the question?)
live in `poll.rooms`.

Every change bumps the room's `version` and signals "room R changed, version
V" to subscribers in every process that shares the store; subscribers read the
state again, since a signal carries no data and may be missed.

    Store (this module)
    ├── SqliteStore   sqlite:///path/poll.db   one process, durable, the default
    └── RedisStore    redis://host:6379/0      many processes and hosts

`poll.store.open_store(url)` picks one by its URL; this module names neither.

Both pass the one contract suite in tests/store/.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from poll.answers import Aggregate, Answer

QuestionStatus = Literal["pending", "open", "closed"]

#: The facilitator's choice for the projector's join screen: "auto" leaves it to
#: the room (shown on the first item), "on" and "off" override that.
JoinScreen = Literal["auto", "on", "off"]

#: What a vote attempt came to. Only "saved" and "duplicate" mean the answer
#: is stored; the others are refusals that `poll.rooms` turns into messages.
VoteStatus = Literal[
    "saved",  # stored now
    "duplicate",  # this submission id was stored before: nothing changed, still a success
    "room_ended",  # the run is over
    "not_current",  # the question is not the facilitator's current item
    "closed",  # the question is current but not open (not yet opened, or closed)
    "no_change",  # the participant answered already and allow_change is false
    "too_many",  # append mode: the participant has max_entries answers already
    "too_late",  # the question's countdown ran out (its deadline has passed)
]

#: How a vote combines with the participant's stored entries for the question:
#: "replace" their answer; "append" one more entry (up to max_entries texts);
#: "toggle" the entry with the same keys: removed if they have it, else added.
VoteMode = Literal["replace", "append", "toggle"]


class StoreError(Exception):
    """The store cannot do what was asked (connection lost, disk full, …).

    `retry` says whether the same call may succeed later (a vote may be sent
    again with the same submission id: it will not be counted twice).
    """

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as cls(*args), which would lose `retry` and garble
        # subclasses' own arguments; they cross a pipe to the SQLite writer process.
        return _restore_error, (type(self), self.args, self.__dict__)


def _restore_error(
    cls: type[StoreError], args: tuple[Any, ...], state: dict[str, Any]
) -> StoreError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class RoomNotFound(StoreError):
    def __init__(self, room_id: str) -> None:
        super().__init__(f"no room with id {room_id!r}", retry=False)
        self.room_id = room_id


@dataclass(frozen=True)
class RoomState:
    """A room as stored: everything but the session copy and the responses."""

    id: str  # unique for ever; used in keys
    code: str  # 7 digits, unique among rooms that have not ended
    session_id: str
    created_at: datetime  # UTC
    ended_at: datetime | None
    current: int  # index of the current item in the session copy
    current_question: str | None  # id of the current item when it is a question
    questions: Mapping[str, QuestionStatus]  # every question of the session copy
    shown: frozenset[str]  # questions whose results the facilitator showed
    version: int
    # When each question was last opened (UTC), and the deadline of each open
    # question that counts down: votes at or after it are refused ("too_late").
    opened_at: Mapping[str, datetime] = field(default_factory=dict)
    deadlines: Mapping[str, datetime] = field(default_factory=dict)
    # Questions whose results the facilitator hid. With `shown` this is her
    # choice, which overrides the question's own default in both directions (a
    # question with live results stays hidden); a question in neither set
    # follows its default. A question is never in both.
    results_hidden: frozenset[str] = frozenset()
    # The projector's join screen: True or False as the facilitator set it, None
    # for automatic (shown on the first item). Moving to another item resets it.
    join_screen: bool | None = None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None


@dataclass(frozen=True)
class RoomPatch:
    """A change to a room's state, applied atomically; None leaves a field as it is."""

    current: int | None = None
    # Set together with `current`: the id of the item there if it is a question,
    # else None. (Stores check votes against it without knowing the session.)
    current_question: str | None = None
    statuses: Mapping[str, QuestionStatus] = field(default_factory=dict)
    # The facilitator shows (True) or hides (False) a question's results: either
    # is kept explicitly (`RoomState.shown`, `RoomState.results_hidden`).
    shown: Mapping[str, bool] = field(default_factory=dict)
    # For a question set to "open" in this patch: close it this many seconds
    # from now (the store's clock). Setting any status clears an old deadline;
    # opening sets `opened_at`.
    timers: Mapping[str, float] = field(default_factory=dict)
    join_screen: JoinScreen | None = None
    end: bool = False


@dataclass(frozen=True)
class Vote:
    """One submission from a participant, already validated against its question."""

    question_id: str
    participant: str  # pseudonymous id from the signed cookie
    submission_id: str  # made by the client; a retry carries the same one
    answer: Answer
    mode: VoteMode
    max_entries: int  # append mode: entries with a text one participant may have
    allow_change: bool  # replace mode: may an existing answer be replaced?


@dataclass(frozen=True)
class VoteOutcome:
    status: VoteStatus
    version: int  # the room version after the vote (unchanged on refusal)

    @property
    def stored(self) -> bool:
        return self.status in ("saved", "duplicate")


@dataclass(frozen=True)
class Response:
    """One stored answer, as exported. `ref` identifies it within its room."""

    room_id: str
    question_id: str
    participant: str
    ref: str
    answer: Answer
    answered_at: datetime  # UTC
    hidden: bool


@dataclass(frozen=True)
class ResultsLink:
    """A read-only link to a run's results report, as stored: never the link's token.

    The token is made from `nonce` with the server's own key (so the console and
    the projector can show the link again, in any process); the store keeps only
    its SHA-256 `digest`, to find the room a link names.
    """

    digest: str  # hex SHA-256 of the token
    nonce: str
    created_at: datetime  # UTC
    expires_at: datetime | None  # UTC; None: until revoked
    #: Shown in the room once the run has ended: a QR code on the projector, a
    #: link on the phones.
    in_room: bool = False


class Subscription(ABC):
    """Change signals for one room: iterate to receive versions as they come.

    Signals may be merged or missed (after a reconnect a store sends one with
    the current version): treat each as "read the room again".
    """

    @abstractmethod
    def __aiter__(self) -> AsyncIterator[int]: ...


class Store(ABC):
    """The contract. All times are timezone-aware UTC."""

    #: "sqlite" or "redis", for health reports and logs.
    kind: str

    @abstractmethod
    async def open(self) -> None:
        """Connect, create the schema if needed. Raises StoreError with a clear reason."""

    @abstractmethod
    async def close(self) -> None:
        """Flush pending writes, stop background tasks, close connections."""

    @abstractmethod
    async def health(self) -> dict[str, Any]:
        """{"kind": ..., "ok": bool, ...details}; never raises."""

    # Rooms -----------------------------------------------------------------

    @abstractmethod
    async def create_room(
        self,
        *,
        session_id: str,
        session_spec: Mapping[str, Any],
        question_ids: list[str],
        new_code: Callable[[], str],
    ) -> RoomState:
        """Create a room at item 0 with every question pending.

        Calls `new_code()` until it gets a code no unended room has; the
        check and the claim are atomic.
        """

    @abstractmethod
    async def room(self, room_id: str) -> RoomState:
        """The room's state; RoomNotFound if there is none."""

    @abstractmethod
    async def room_by_code(self, code: str) -> RoomState | None:
        """The unended room with this join code, if any."""

    @abstractmethod
    async def ended_room_by_code(self, code: str) -> RoomState | None:
        """The room that ended last with this join code, if it has not been purged.

        A phone that reloads after the end is told the run is over, not that
        no such code exists. (A new room may take the code meanwhile:
        `room_by_code` finds that one, and callers ask it first.)
        """

    @abstractmethod
    async def rooms(self) -> list[RoomState]:
        """Every room, ended ones too, newest first."""

    @abstractmethod
    async def session_spec(self, room_id: str) -> dict[str, Any]:
        """The room's own copy of its session (`Session.to_spec()` data)."""

    @abstractmethod
    async def update(self, room_id: str, patch: RoomPatch) -> RoomState:
        """Apply `patch` atomically, bump the version, signal. RoomNotFound if none."""

    # Votes and results -----------------------------------------------------

    @abstractmethod
    async def vote(self, room_id: str, vote: Vote) -> VoteOutcome:
        """Check the rules and store the vote in one atomic, durable step.

        Returns only after the vote is committed. Rules, in order: room not
        ended; the question is the current one; it is open; a submission id
        seen before for this participant and room → "duplicate"; a deadline
        passed → "too_late"; replace mode: an existing answer is replaced when
        allow_change (else "no_change"), counters move from the old keys to the
        new ones; append mode: a new entry unless the participant has
        max_entries entries with a text already ("too_many"); toggle mode: the
        participant's entry with the answer's keys is removed if there is one,
        else added (a participant with no entry left stops being a respondent).
        """

    @abstractmethod
    async def reset_question(self, room_id: str, question_id: str) -> RoomState:
        """Delete the question's answers and counters (not its status); bump, signal."""

    @abstractmethod
    async def set_hidden(self, room_id: str, question_id: str, ref: str, hidden: bool) -> bool:
        """Hide or show one free text (moderation); False if no such response."""

    @abstractmethod
    async def set_mark(self, room_id: str, question_id: str, key: str, value: str | None) -> None:
        """Set one of the facilitator's marks on a question (None clears it); bump, signal.

        Marks are short strings a question type reads back from its
        `Aggregate.marks` (a word hidden, a question pinned); `reset_question`
        clears them.
        """

    @abstractmethod
    async def claim_name(self, room_id: str, participant: str, name: str, key: str) -> str | None:
        """Give the participant a name unique in the room, compared by `key`.

        Atomic. Returns the participant's name after the call: the one they
        had (the new one is ignored), else `name` if no other participant
        holds `key`, else None. Names do not change the room's version.
        """

    @abstractmethod
    async def names(self, room_id: str) -> dict[str, str]:
        """Every named participant of the room: participant → name."""

    @abstractmethod
    async def aggregates(self, room_id: str) -> dict[str, Aggregate]:
        """Counters and marks of every question that has answers or marks (others are absent)."""

    @abstractmethod
    async def room_with_aggregates(self, room_id: str) -> tuple[RoomState, dict[str, Aggregate]]:
        """`room` and `aggregates` from one consistent read (what a snapshot is built from).

        The aggregates are exactly those of `state.version`: every vote acknowledged
        with that version or an older one is counted, none acknowledged later is.
        RoomNotFound if there is no such room.
        """

    @abstractmethod
    async def answers_of(self, room_id: str, participant: str) -> dict[str, list[Answer]]:
        """One participant's stored answers per question, oldest first, each with its ref.

        Its cost depends on that participant's answers only, not on how many the room
        holds: every phone that reconnects reads its own.
        """

    @abstractmethod
    def responses(self, room_id: str) -> AsyncIterator[Response]:
        """Every stored response of the room, for export, in answer order."""

    @abstractmethod
    async def join(self, room_id: str, participant: str) -> bool:
        """Record that the participant joined the run (opened its page, with or
        without JavaScript). True the first time: then bump the version and signal,
        so that "N joined" moves on every screen. RoomNotFound if there is no room.
        """

    @abstractmethod
    async def joined(self, room_id: str) -> int:
        """How many participants joined the run (each counted once, ever); 0 for none."""

    # Results links ---------------------------------------------------------

    @abstractmethod
    async def set_results_link(self, room_id: str, link: ResultsLink | None) -> None:
        """Make `link` the room's one results link, or with None revoke it.

        A new link replaces the room's old one, which stops working at once. Bumps
        the version and signals (the screens show the link). RoomNotFound if none.
        """

    @abstractmethod
    async def results_link(self, room_id: str) -> ResultsLink | None:
        """The room's results link, expired or not; None when it has none."""

    @abstractmethod
    async def room_of_results_link(self, digest: str) -> str | None:
        """The room whose current results link has this digest, or None (a revoked or
        replaced link's digest finds nothing; the caller checks the expiry)."""

    # Live ------------------------------------------------------------------

    def local_subscriptions(self) -> int:
        """Change subscriptions open in this process (for /metrics and leak checks)."""
        return 0

    @abstractmethod
    def subscribe(self, room_id: str) -> AbstractAsyncContextManager[Subscription]:
        """Change signals for the room, from every process; always unsubscribes on exit."""

    @abstractmethod
    async def set_presence(self, room_id: str, process_id: str, count: int) -> None:
        """This process has `count` participants connected to the room (people, each
        counted once however many sockets they have open here).

        Entries not refreshed for `PRESENCE_TTL` seconds no longer count (a
        process that died). A changed total signals the room.
        """

    @abstractmethod
    async def presence(self, room_id: str) -> int:
        """Participants connected to the room, summed over live processes."""

    # Operators' figures ----------------------------------------------------

    @abstractmethod
    async def report_metrics(self, process_id: str, figures: Mapping[str, Any]) -> None:
        """This process's latest figures for /metrics (JSON-able), replacing its last
        report. Reports not refreshed for `METRICS_TTL` seconds are dropped (a
        process that ended or died)."""

    @abstractmethod
    async def metrics_reports(self) -> dict[str, dict[str, Any]]:
        """The latest figures of every live process, by process id."""

    # Facilitator sign-ins --------------------------------------------------

    @abstractmethod
    async def console_epoch(self) -> int:
        """The generation of facilitator sign-ins, 0 until the first sign-out.

        A console cookie carries the generation it was signed in under and is
        void once this has moved on: kept in the store, every process and host
        of one installation sees a sign-out at its next request.
        """

    @abstractmethod
    async def end_console_sessions(self) -> int:
        """Void every facilitator cookie made so far (a sign-out, a new token);
        the new generation."""

    # Housekeeping ----------------------------------------------------------

    @abstractmethod
    async def purge(self, ended_before: datetime) -> list[str]:
        """Delete rooms that ended before this time, with all their answers; their ids."""


#: Seconds after which a process's presence report no longer counts.
PRESENCE_TTL = 30.0
#: Seconds after which a process's metrics report is dropped.
METRICS_TTL = 30.0
