"""Rooms: live runs of a session, and the rules of taking part in one.

A `Room` wraps a store's `RoomState` with the room's own copy of its session,
so that editing `sessions.yaml` later changes no past run. The facilitator's
operations (move, open, close, reveal, reset, moderate, end) and the
participants' votes go through it; it validates answers with their question
type, leaves the atomic checks to the store, and turns every refusal into a
`RoomError` whose message a participant can read once translated.

    RoomError
    ├── UnknownRoom        no such room or code
    ├── UnknownSession     no such session in the script (starting a run)
    ├── RoomEnded          the run is over
    ├── NotCurrent         the question is not on screen now
    ├── VotingClosed       the question is not open (not yet, or any more)
    │   ├── NotYetOpen     … not opened yet
    │   └── TimeUp         … its countdown ran out
    ├── ChangeNotAllowed   answered already; allow_change is false
    ├── TooManyAnswers     open text: max_answers reached
    ├── InvalidAnswer      the answer does not fit the question
    │   └── NicknameNeeded … a question that scores, from a phone with no nickname yet
    ├── NicknameTaken      another participant plays under that nickname
    └── StoreUnavailable   not saved now; the client may retry (same submission id)
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar

from poll import protocol
from poll.questions import Aggregate, Answer, AnswerRefused, Item, Question, render_markdown
from poll.questions import Audience as Audience
from poll.questions.base import PersonalScreen
from poll.script import Script, Session, session_from_spec
from poll.standings import TOP, Standings, compute_standings
from poll.store.base import (
    QuestionStatus,
    Response,
    RoomNotFound,
    RoomPatch,
    Store,
    Vote,
)

# Named here for the layers above, which talk to rooms and never to the store:
# a room's state as the store keeps it, and the failure of a store read that
# reaches them as it is (a vote's failure becomes `StoreUnavailable` instead).
from poll.store.base import ResultsLink as ResultsLink
from poll.store.base import RoomState as RoomState
from poll.store.base import StoreError as StoreError
from poll.text import NICKNAME_MAX, clean_nickname, nickname_key

AUDIENCES: tuple[Audience, ...] = ("participant", "projector", "console")

CODE_DIGITS = 7
#: The longest key or value of a facilitator's mark.
MARK_LENGTH = 200
# Client-made ids: short and plain, since they end up in store keys.
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class RoomError(Exception):
    """A refusal a participant or facilitator can read.

    `message` is English with `{name}` placeholders and doubles as the msgid
    of the translation catalogues; `params` fill it in. `retry` says whether
    sending the same thing again later may succeed. `reason` is the protocol's
    machine-readable name for the refusal (one of poll.protocol's reasons): every
    subclass sets its own.
    """

    message: ClassVar[str] = "Something went wrong."
    reason: ClassVar[str]
    retry: ClassVar[bool] = False

    def __init__(self, message: str | None = None, **params: object) -> None:
        if message is not None:
            self.message = message  # type: ignore[misc]
        self.params = params
        super().__init__(self.message.format(**params))


class UnknownRoom(RoomError):
    message = "There is no session with code {code}. Check the code on the screen."
    reason = protocol.UNKNOWN_ROOM


class UnknownSession(RoomError):
    message = "There is no session {session} in the script."
    reason = protocol.UNKNOWN_SESSION


class RoomEnded(RoomError):
    message = "This session has ended. Thank you for taking part!"
    reason = protocol.ROOM_ENDED


class NotCurrent(RoomError):
    message = "This question is no longer open; the screen has moved on."
    reason = protocol.NOT_CURRENT


class VotingClosed(RoomError):
    message = "Voting for this question is closed."
    reason = protocol.VOTING_CLOSED


class NotYetOpen(VotingClosed):
    message = "Voting for this question has not started yet."
    reason = protocol.NOT_YET_OPEN


class TimeUp(VotingClosed):
    message = "Time is up: this question closed when its countdown ended."
    reason = protocol.TOO_LATE


class ChangeNotAllowed(RoomError):
    message = "You have already answered; this question does not allow changes."
    reason = protocol.CHANGE_NOT_ALLOWED


class TooManyAnswers(RoomError):
    message = "You have sent {limit} answers, the most this question takes."
    reason = protocol.TOO_MANY_ANSWERS


class InvalidAnswer(RoomError):
    message = "This answer is not in a form poll understands."
    reason = protocol.INVALID_ANSWER


class InvalidMark(RoomError):
    message = "This question takes no such mark."
    reason = protocol.ACTION_ERROR


class NicknameNeeded(InvalidAnswer):
    message = "Choose a nickname first: it shows on the leaderboard."
    reason = protocol.INVALID_ANSWER


class NicknameTaken(RoomError):
    message = "Somebody else plays as {name}; choose another nickname."
    reason = protocol.NICKNAME_TAKEN


class StoreUnavailable(RoomError):
    message = "Your answer was not saved. Trying again…"
    reason = protocol.STORE_UNAVAILABLE
    retry = True


@dataclass(frozen=True)
class VoteReceipt:
    """The store committed the vote (or had it already: a retried submission)."""

    question_id: str
    status: Literal["saved", "duplicate"]
    version: int
    # The participant's answers to the question after this vote, when known
    # without reading the store: a saved vote in replace mode is all there is.
    # None: ask the store (an added open answer, or a retried submission).
    mine: tuple[Answer, ...] | None = None


@dataclass(frozen=True)
class RoomData:
    """Everything a snapshot is built from, read once for all audiences."""

    state: RoomState
    aggregates: Mapping[str, Aggregate]
    #: Participants who joined the run (opened its page, with or without JavaScript).
    joined: int
    #: Participants with a live connection now (people, not sockets).
    connected: int
    #: When it was read: countdowns are measured from here.
    read_at: datetime = dataclasses.field(default_factory=lambda: datetime.now(UTC))
    #: The leaderboard, when the current screen shows a standing (else None).
    standings: Standings | None = None
    #: The run has ended and the facilitator shows its results link in the room (a
    #: QR code on the projector, a link on the phones), which has not expired.
    results_link_shown: bool = False


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def display_code(code: str) -> str:
    """`1234567` → `123 4567`: easier to read from the back of the room."""
    return f"{code[:3]} {code[3:]}"


def normalize_code(text: str) -> str | None:
    """The 7 digits of a typed code (spaces and dashes allowed), or None."""
    digits = re.sub(r"[\s\-.]", "", text)
    return digits if re.fullmatch(rf"\d{{{CODE_DIGITS}}}", digits) else None


K = TypeVar("K")
V = TypeVar("V")


class SharedReads(Generic[K, V]):
    """Reads under way, by key: callers asking for the same key meanwhile share one.

    Nothing is kept once a read is done (a failed read is not kept either): what
    lasts is the caller's to keep. Each caller waits through `asyncio.shield`, so
    one caller cancelled does not cancel the read the others wait for.
    """

    def __init__(self) -> None:
        self._reading: dict[K, asyncio.Future[V]] = {}

    async def get(self, key: K, read: Callable[[], Awaitable[V]]) -> V:
        future = self._reading.get(key)
        if future is None:
            future = asyncio.ensure_future(read())
            self._reading[key] = future
            future.add_done_callback(lambda done: self._forget(key, done))
        return await asyncio.shield(future)

    def _forget(self, key: K, done: asyncio.Future[V]) -> None:
        if self._reading.get(key) is done:
            del self._reading[key]


class Rooms:
    """Creates and finds rooms; one per process, sharing one store."""

    def __init__(self, store: Store, script: Callable[[], Script]) -> None:
        self.store = store
        self._script = script
        # Sessions are immutable per room: parse each room's copy once.
        self._sessions: dict[str, Session] = {}
        # Callers at the same time share one read and parse: a process that did not
        # create the room (another worker, or after a restart) meets it first when an
        # audience joins, and each of hundreds of phones parsing the script again was
        # a sixteenth of a worker's time in a 5,000-phone join on Redis.
        self._session_reads: SharedReads[str, Session] = SharedReads()
        # Nicknames per room: a name, once given, never changes, so what this process
        # has seen stays true; a participant it has not seen is looked up in the store.
        self._names: dict[str, dict[str, str]] = {}
        self._name_reads: SharedReads[str, dict[str, str]] = SharedReads()
        # Callers at the same time share one read: when an audience joins, every
        # phone looks the code up twice (its page and its websocket), hundreds at
        # once, and on Redis each lookup is two round trips (a quarter of the
        # server's time in a 2,000-phone join before they were shared).
        self._code_reads: SharedReads[str, RoomState | None] = SharedReads()
        # The standings per room, with the version they were counted at: one count
        # per change, however many phones and pages ask.
        self._standings: dict[str, tuple[int, Standings]] = {}
        self._counting: dict[str, asyncio.Lock] = {}
        # Participants this process has recorded as joined, per room: a page that
        # reloads every few seconds (a phone without JavaScript) writes once.
        self._arrived: dict[str, set[str]] = {}

    async def create(self, session_id: str) -> Room:
        script = self._script()
        session = script.sessions.get(session_id)
        if session is None:
            raise UnknownSession(session=session_id)
        try:
            state = await self.store.create_room(
                session_id=session_id,
                session_spec=session.to_spec(),
                question_ids=list(session.questions),
                new_code=new_code,
            )
        except StoreError as exc:
            raise StoreUnavailable("The store is not available: {reason}", reason=str(exc)) from exc
        self._sessions[state.id] = session
        return Room(self, state, session)

    async def get(self, room_id: str) -> Room:
        try:
            state = await self.store.room(room_id)
        except RoomNotFound:
            raise UnknownRoom("There is no room {code}.", code=room_id) from None
        return Room(self, state, await self._session(room_id))

    async def by_code(self, code: str) -> Room | None:
        digits = normalize_code(code)
        if digits is None:
            return None
        state = await self._code_reads.get(digits, lambda: self.store.room_by_code(digits))
        if state is None:
            return None
        return Room(self, state, await self._session(state.id))

    async def ended_by_code(self, code: str) -> Room | None:
        """The run that ended last with this code, while no running room has it."""
        digits = normalize_code(code)
        if digits is None:
            return None
        state = await self.store.ended_room_by_code(digits)
        if state is None:
            return None
        return Room(self, state, await self._session(state.id))

    async def arrive(self, room_id: str, participant: str) -> None:
        """Count the participant among those who joined the run (once)."""
        seen = self._arrived.setdefault(room_id, set())
        if participant in seen:
            return
        await self.store.join(room_id, participant)
        seen.add(participant)

    async def list(self) -> list[RoomState]:
        return await self.store.rooms()

    async def _session(self, room_id: str) -> Session:
        session = self._sessions.get(room_id)
        if session is not None:
            return session
        return await self._session_reads.get(room_id, lambda: self._read_session(room_id))

    async def _read_session(self, room_id: str) -> Session:
        session = session_from_spec(await self.store.session_spec(room_id))
        self._sessions[room_id] = session
        return session

    def forget(self, room_id: str) -> None:
        """Drop a room's cached session copy, nicknames and standings (after a purge)."""
        self._sessions.pop(room_id, None)
        self._names.pop(room_id, None)
        self._standings.pop(room_id, None)
        self._counting.pop(room_id, None)
        self._arrived.pop(room_id, None)

    async def names(self, room_id: str) -> Mapping[str, str]:
        """Every nickname of the room, read from the store now (callers at the same
        time share one read)."""
        names = await self._name_reads.get(room_id, lambda: self.store.names(room_id))
        self._names.setdefault(room_id, {}).update(names)
        return names

    async def name_of(self, room_id: str, participant: str) -> str | None:
        """A participant's nickname, or None while she has none."""
        known = self._names.get(room_id, {}).get(participant)
        if known is not None:
            return known
        return (await self.names(room_id)).get(participant)

    def remember_name(self, room_id: str, participant: str, name: str) -> None:
        self._names.setdefault(room_id, {})[participant] = name

    async def standings(self, room: Room) -> Standings:
        """The room's standings as of its state's version (or a newer count)."""
        version = room.state.version
        cached = self._standings.get(room.id)
        if cached is not None and cached[0] >= version:
            return cached[1]
        async with self._counting.setdefault(room.id, asyncio.Lock()):
            cached = self._standings.get(room.id)
            if cached is not None and cached[0] >= version:
                return cached[1]  # counted while this caller waited
            names = await self.names(room.id)
            responses = [response async for response in self.store.responses(room.id)]
            standings = compute_standings(
                room.session.questions, responses, room.state.opened_at, names
            )
            self._standings[room.id] = (version, standings)
            return standings

    async def by_results_link(self, digest: str, now: datetime) -> Room | None:
        """The run whose results link has this digest and has not expired at `now`."""
        room_id = await self.store.room_of_results_link(digest)
        if room_id is None:
            return None
        try:
            room = await self.get(room_id)
        except UnknownRoom:
            return None  # purged between the two reads
        link = await room.results_link()
        if link is None or link.digest != digest or not link_valid(link, now):
            return None
        return room

    async def health(self) -> dict[str, Any]:
        """The store's own report for /healthz; `ok` is false when it cannot serve."""
        return await self.store.health()

    async def console_epoch(self) -> int:
        """The generation of facilitator sign-ins (see `Store.console_epoch`)."""
        return await self.store.console_epoch()

    async def end_console_sessions(self) -> int:
        """Void every facilitator cookie made so far; the new generation."""
        return await self.store.end_console_sessions()


class Room:
    """One live run of a session."""

    def __init__(self, rooms: Rooms, state: RoomState, session: Session) -> None:
        self._rooms = rooms
        self.store = rooms.store
        self.state = state
        self.session = session

    @property
    def id(self) -> str:
        return self.state.id

    @property
    def current_item(self) -> Item:
        return self.session.items[self.state.current]

    def question(self, question_id: str | None) -> Question:
        """The question by id, or the current item when it is a question."""
        qid = question_id or self.state.current_question
        question = self.session.questions.get(qid or "")
        if question is None:
            raise NotCurrent("There is no question {question} in this session.", question=qid)
        return question

    async def refresh(self) -> RoomState:
        self.state = await self.store.room(self.id)
        return self.state

    async def _apply(self, patch: RoomPatch) -> RoomState:
        if self.state.ended:
            raise RoomEnded()
        self.state = await self.store.update(self.id, patch)
        return self.state

    # Facilitator -----------------------------------------------------------

    async def go(self, index: int, *, open_question: bool = True) -> RoomState:
        """Move to item `index` (clamped); a pending question there opens."""
        await self.refresh()
        index = max(0, min(index, len(self.session.items) - 1))
        item = self.session.items[index]
        statuses: dict[str, QuestionStatus] = {}
        timers: dict[str, float] = {}
        pending = isinstance(item, Question) and self.state.questions.get(item.id) == "pending"
        if pending and open_question and isinstance(item, Question):
            statuses[item.id] = "open"
            timers = _timer(item)
        return await self._apply(
            RoomPatch(
                current=index,
                current_question=item.id if isinstance(item, Question) else None,
                statuses=statuses,
                timers=timers,
                # Moving on ends a join screen the facilitator put up (or took down).
                join_screen="auto" if index != self.state.current else None,
            )
        )

    async def next(self) -> RoomState:
        await self.refresh()
        return await self.go(self.state.current + 1)

    async def previous(self) -> RoomState:
        await self.refresh()
        return await self.go(self.state.current - 1)

    async def open_vote(self, question_id: str | None = None) -> RoomState:
        """Let participants vote; a question with a countdown starts it again from the top."""
        question = self.question(question_id)
        return await self._apply(RoomPatch(statuses={question.id: "open"}, timers=_timer(question)))

    async def close_vote(self, question_id: str | None = None) -> RoomState:
        question = self.question(question_id)
        return await self._apply(RoomPatch(statuses={question.id: "closed"}))

    async def show_results(self, question_id: str | None = None, shown: bool = True) -> RoomState:
        question = self.question(question_id)
        return await self._apply(RoomPatch(shown={question.id: shown}))

    async def show_join_screen(self, shown: bool) -> RoomState:
        """Put the join screen on the projector, or take it off, until the next move."""
        return await self._apply(RoomPatch(join_screen="on" if shown else "off"))

    async def reset(self, question_id: str) -> RoomState:
        question = self.question(question_id)
        if self.state.ended:
            raise RoomEnded()
        self.state = await self.store.reset_question(self.id, question.id)
        return self.state

    async def moderate(self, question_id: str, ref: str, hidden: bool) -> bool:
        question = self.question(question_id)
        return await self.store.set_hidden(self.id, question.id, ref, hidden)

    async def mark(self, question_id: str, key: str, value: str | None) -> None:
        """Set (or with None clear) one of the facilitator's marks on a question:
        only the marks its type takes (`Question.mark_allowed`)."""
        question = self.question(question_id)
        if len(key) > MARK_LENGTH or len(value or "") > MARK_LENGTH:
            raise InvalidMark()
        if not question.mark_allowed(key, value):
            raise InvalidMark()
        if self.state.ended:
            raise RoomEnded()
        await self.store.set_mark(self.id, question.id, key, value)

    async def end(self) -> RoomState:
        if self.state.ended:
            return self.state
        return await self._apply(RoomPatch(end=True))

    # Results link ----------------------------------------------------------

    async def results_link(self) -> ResultsLink | None:
        """The run's read-only results link (expired or not), or None."""
        return await self.store.results_link(self.id)

    async def share_results(self, link: ResultsLink) -> None:
        """Make `link` the run's results link; an earlier one stops working."""
        await self.store.set_results_link(self.id, link)

    async def revoke_results_link(self) -> None:
        await self.store.set_results_link(self.id, None)

    async def show_results_link(self, shown: bool) -> bool:
        """Show the results link in the room (projector and phones) once the run has
        ended, or stop showing it; False when there is no link to show."""
        link = await self.results_link()
        if link is None:
            return False
        await self.store.set_results_link(self.id, dataclasses.replace(link, in_room=shown))
        return True

    # Participants ----------------------------------------------------------

    async def vote(
        self, participant: str, question_id: str, submission_id: str, raw: object
    ) -> VoteReceipt:
        """Validate and store one answer; raises a RoomError on refusal."""
        if not (_TOKEN.fullmatch(participant) and _TOKEN.fullmatch(submission_id)):
            raise InvalidAnswer()
        question = self.session.questions.get(question_id)
        if question is None:
            raise NotCurrent()
        nickname: object = None
        if question.scored and isinstance(raw, Mapping) and "nickname" in raw:
            # The nickname travels with the answer; it is the room's, not the type's.
            raw = dict(raw)
            nickname = raw.pop("nickname")
        try:
            answer = question.validate(raw)
            if question.needs_context_for(answer):
                await self._admit(question, participant, answer)
        except AnswerRefused as refused:
            raise InvalidAnswer(refused.message, **refused.params) from None
        mode = question.mode_for(answer)
        if question.scored:
            await self._play(participant, nickname)
        try:
            outcome = await self.store.vote(
                self.id,
                Vote(
                    question_id=question.id,
                    participant=participant,
                    submission_id=submission_id,
                    answer=answer,
                    mode=mode,
                    max_entries=question.max_entries,
                    allow_change=question.allow_change,
                ),
            )
        except RoomNotFound:
            raise UnknownRoom(code=self.state.code) from None
        except StoreError as exc:
            raise StoreUnavailable() from exc
        status = outcome.status
        if status in ("saved", "duplicate"):
            known = status == "saved" and mode == "replace"
            return VoteReceipt(question.id, status, outcome.version, (answer,) if known else None)
        if status == "too_late":
            raise TimeUp()
        if status == "room_ended":
            raise RoomEnded()
        if status == "not_current":
            raise NotCurrent()
        if status == "closed":
            await self.refresh()
            if self.state.questions.get(question.id) == "pending":
                raise NotYetOpen()
            raise VotingClosed()
        if status == "no_change":
            raise ChangeNotAllowed()
        if status == "too_many":
            raise TooManyAnswers(limit=question.max_entries)
        raise StoreUnavailable()

    async def _admit(self, question: Question, participant: str, answer: Answer) -> None:
        """The type's check against the question's state (AnswerRefused when it says no)."""
        try:
            mine = await self.store.answers_of(self.id, participant)
            aggregates = await self.store.aggregates(self.id)
        except RoomNotFound:
            raise UnknownRoom(code=self.state.code) from None
        except StoreError as exc:
            raise StoreUnavailable() from exc
        question.admit(answer, mine.get(question.id, []), aggregates.get(question.id, Aggregate()))

    async def _play(self, participant: str, nickname: object) -> str:
        """The participant's nickname for a question that scores: the one she has, or
        the one she sends now if nobody else in the room has it (compared without
        regard to capitals, accents written either way, or invisible characters)."""
        if nickname is not None and not isinstance(nickname, str):
            raise InvalidAnswer()
        name = clean_nickname(nickname or "")
        try:
            if not name:
                known = await self._rooms.name_of(self.id, participant)
                if known is None:
                    raise NicknameNeeded()
                return known
            if len(name) > NICKNAME_MAX:
                raise InvalidAnswer(
                    "A nickname has at most {limit} characters; yours has {length}.",
                    limit=NICKNAME_MAX,
                    length=len(name),
                )
            # She may have one already: the store keeps hers and ignores this one.
            claimed = await self.store.claim_name(self.id, participant, name, nickname_key(name))
        except RoomNotFound:
            raise UnknownRoom(code=self.state.code) from None
        except StoreError as exc:
            raise StoreUnavailable() from exc
        if claimed is None:
            raise NicknameTaken(name=name)
        self._rooms.remember_name(self.id, participant, claimed)
        return claimed

    # Standings -------------------------------------------------------------

    def personal_screen(
        self, state: RoomState, aggregates: Mapping[str, Aggregate], now: datetime
    ) -> PersonalScreen | None:
        """What the phones' screen of the current item shows of each player at `now`."""
        item = self.session.items[state.current]
        if not isinstance(item, Question):
            return item.personal_screen(None, False, {})
        marks = aggregates.get(item.id, Aggregate()).marks
        status = _status(state, item.id, now)
        return item.personal_screen(status, item.id in state.shown, marks)

    async def standings(self) -> Standings:
        """The leaderboard now: every player's score recounted from the stored answers
        (shared by every caller until the room changes; see `poll.standings`)."""
        return await self._rooms.standings(self)

    async def me(self, data: RoomData, participant: str) -> dict[str, Any] | None:
        """What the current screen shows of this participant (see `personal`)."""
        return (await self.personal(data, [participant])).get(participant)

    async def personal(
        self, data: RoomData, participants: Iterable[str], *, fresh: bool = False
    ) -> dict[str, dict[str, Any]]:
        """What the current screen shows of each of these participants (`me` of the
        phone's stage), for those it shows anything of: on a question that asks for
        a nickname, that she has one; once a question that scores is revealed, what
        her answer earned and her score; on the leaderboard, her name, place and
        score. Kept to what the screen shows, so that phones in the same situation
        share one render of it."""
        screen = self.personal_screen(data.state, data.aggregates, data.read_at)
        if screen is None:
            return {}
        wanted = list(participants)
        if screen == "name":
            # `fresh`: one read for every phone of a process (a new screen); else a
            # phone's own, from what this process knows first (a join, an answer).
            if fresh:
                names = await self._rooms.names(self.id)
                return {who: {"named": True} for who in wanted if who in names}
            return {
                who: {"named": True}
                for who in wanted
                if await self._rooms.name_of(self.id, who) is not None
            }
        standings = data.standings or await self.standings()
        item_id = self.session.items[data.state.current].id
        found: dict[str, dict[str, Any]] = {}
        for who in wanted:
            entry = standings.by_participant.get(who)
            if entry is None:
                continue
            if screen == "board":
                found[who] = {
                    "named": True,
                    "name": entry.name,
                    "place": entry.place,
                    "score": entry.score,
                    "players": len(standings.entries),
                }
            else:
                result = entry.results.get(item_id)
                found[who] = {
                    "named": True,
                    "answered": result is not None,
                    "correct": bool(result and result.correct),
                    "points": result.points if result else 0,
                    "score": entry.score,
                }
        return found

    # Snapshots -------------------------------------------------------------

    async def load(self) -> RoomData:
        """Read state, counters and presence once; `view` builds any audience from it.
        A screen that shows a standing also gets the standings (counted once per change)."""
        # One consistent read: a snapshot's version is the version of the counts it shows.
        state, aggregates = await self.store.room_with_aggregates(self.id)
        self.state = state
        connected = await self.store.presence(self.id)
        joined = await self.store.joined(self.id)
        now = datetime.now(UTC)
        standings = None
        if self.personal_screen(state, aggregates, now) in ("points", "board"):
            standings = await self.standings()
        shown = False
        if state.ended:  # a read more only once the run is over
            link = await self.results_link()
            shown = link is not None and link.in_room and link_valid(link, now)
        return RoomData(
            state,
            aggregates,
            joined,
            connected,
            standings=standings,
            read_at=now,
            results_link_shown=shown,
        )

    async def snapshot(self, audience: Audience, participant: str | None = None) -> dict[str, Any]:
        """The view for `audience`; a participant's also holds her own answers (`mine`)
        and what a personal screen shows of her (`me`), to draw her stage with."""
        data = await self.load()
        view = self.view(data, audience)
        if audience == "participant" and participant is not None:
            view["mine"] = await self.mine(participant)
            view["me"] = await self.me(data, participant) if view.get("personal") else None
        return view

    async def mine(self, participant: str) -> list[dict[str, Any]]:
        """The participant's own stored answers for the current question."""
        qid = self.state.current_question
        if qid is None:
            return []
        answers = await self.store.answers_of(self.id, participant)
        return self.mine_json(qid, answers.get(qid, []))

    def mine_json(self, question_id: str, answers: Sequence[Answer]) -> list[dict[str, Any]]:
        """A participant's answers to a question as phones get them ("mine", "ack").

        With their refs only for a type that tells entries apart by them (its
        `needs_context`): a phone's stage is drawn per distinct answer set, and
        a thousand "yes" answers with a thousand refs would be a thousand stages.
        """
        question = self.session.questions.get(question_id)
        keep = question is not None and question.needs_context
        return [
            answer.to_json() if keep else dataclasses.replace(answer, ref=None).to_json()
            for answer in answers
        ]

    def view(self, data: RoomData, audience: Audience) -> dict[str, Any]:
        """The snapshot one audience may see; pure, so a hub builds it once per change."""
        state = data.state
        item = self.session.items[state.current]
        question = item if isinstance(item, Question) else None
        aggregate = data.aggregates.get(item.id, Aggregate()) if question else None
        shown = question is not None and question.id in state.shown
        on_projector = question is not None and results_on_projector(state, question)
        status = state.questions.get(item.id) if question else None
        deadline_in = None
        deadline = state.deadlines.get(item.id) if status == "open" else None
        if deadline is not None:
            # Seconds left, not a time: a phone's clock may be wrong, a duration is not.
            left = (deadline - data.read_at).total_seconds()
            if left > 0:
                deadline_in = max(0.1, round(left, 1))
            else:
                status = "closed"  # the store refuses votes from now on
        if status == "open" and state.ended:
            status = "closed"  # nobody can answer after the end
            deadline_in = None
        snapshot: dict[str, Any] = {
            "audience": audience,
            "version": state.version,
            "room": {
                "id": state.id,
                "code": state.code,
                "code_display": display_code(state.code),
                "session_id": self.session.id,
                "title": self.session.title,
                "language": self.session.language,
                "ended": state.ended,
                "theme": self.session.theme.view() if self.session.theme else None,
                "results_link": data.results_link_shown,
            },
            "index": state.current,
            "count": len(self.session.items),
            "joined": data.joined,
            "connected": data.connected,
            "item": item_view(item),
            "status": status,
            "deadline_in": deadline_in,
            "results_shown": shown,
            "answers": aggregate.respondents if aggregate else 0,
            "entries": question.entries(aggregate) if question and aggregate else None,
            "results": None,
        }
        if question is not None and aggregate is not None:
            snapshot["results"] = _results_for(audience, question, aggregate, state)
        snapshot |= self._standings_view(data, audience)
        if audience != "participant":
            snapshot["results_on_projector"] = on_projector
            snapshot["join_screen"] = join_screen_shown(state)
        if audience == "console":
            snapshot |= self._presenter_view(data)
        return snapshot

    def _presenter_view(self, data: RoomData) -> dict[str, Any]:
        """What only the console gets: every item's state, the facilitator's notes of
        the current and the next item, the next item itself, when the run started
        and, once it ended, every question's results for the overview."""
        state = data.state
        items = self.session.items
        following = items[state.current + 1] if state.current + 1 < len(items) else None
        return {
            "scores": any(q.scored for q in self.session.questions.values()),
            "started_at": state.created_at.isoformat(),
            "ended_at": state.ended_at.isoformat() if state.ended_at else None,
            "notes_html": _notes_html(items[state.current]),
            "next": None
            if following is None
            else {
                "index": state.current + 1,
                "label": following.label,
                "item": item_view(following),
                "notes_html": _notes_html(following),
            },
            "items": [self._item_line(data, index, it) for index, it in enumerate(items)],
        }

    def _item_line(self, data: RoomData, index: int, item: Item) -> dict[str, Any]:
        """One item in the console's list (and the end's overview)."""
        state = data.state
        aggregate = data.aggregates.get(item.id, Aggregate())
        status = _status(state, item.id, data.read_at) if isinstance(item, Question) else None
        if status == "open" and state.ended:
            status = "closed"  # nobody can answer after the end
        line: dict[str, Any] = {
            "index": index,
            "id": item.id,
            "type": item.type_name,
            "label": item.label,
            "title": item.title,
            "status": status,
            "shown": isinstance(item, Question) and results_on_projector(state, item),
            "answers": aggregate.respondents,
        }
        if state.ended and isinstance(item, Question):
            line["item"] = item_view(item)
            line["results"] = item.results_for(aggregate, "console")
        return line

    def _standings_view(self, data: RoomData, audience: Audience) -> dict[str, Any]:
        """`personal`: what the phones' stage shows of each player and the standings it
        was drawn from (part of its `stage` key); `standings`: the leaderboard while it
        is on screen (the top ten for the projector and console, the count for phones)."""
        screen = self.personal_screen(data.state, data.aggregates, data.read_at)
        standings = data.standings if screen in ("points", "board") else None
        personal: str | None = None
        if screen == "name":
            personal = screen
        elif screen is not None and standings is not None:
            personal = f"{screen}:{standings.digest}"
        board: dict[str, Any] | None = None
        if screen == "board" and standings is not None:
            board = {"players": len(standings.entries), "final": self._last_of_its_type(data)}
            if audience != "participant":  # phones see their own line only
                board["top"] = standings.top(TOP)
        return {"personal": personal, "standings": board}

    def _last_of_its_type(self, data: RoomData) -> bool:
        """Whether no later item of the session is of the current item's type (the
        session's last leaderboard shows a podium)."""
        kind = self.session.items[data.state.current].type_name
        return all(it.type_name != kind for it in self.session.items[data.state.current + 1 :])

    # Results ---------------------------------------------------------------

    async def aggregates(self) -> Mapping[str, Aggregate]:
        """The stored counters of every question, by question id (tallies, summary CSV)."""
        return await self.store.aggregates(self.id)

    async def answers_of(self, participant: str) -> Mapping[str, list[Answer]]:
        """One participant's stored answers, by question id."""
        return await self.store.answers_of(self.id, participant)

    def responses(self) -> AsyncIterator[Response]:
        """Every stored answer of the run, one by one (the responses CSV)."""
        return self.store.responses(self.id)


def link_valid(link: ResultsLink, now: datetime) -> bool:
    """Whether a results link still works at `now` (not past its expiry)."""
    return link.expires_at is None or now < link.expires_at


def _timer(question: Question) -> dict[str, float]:
    """The patch's timers for opening `question`: its countdown, if it has one."""
    seconds = question.deadline_seconds
    return {question.id: seconds} if seconds is not None else {}


def _status(state: RoomState, question_id: str, now: datetime) -> QuestionStatus | None:
    """A question's status as people see it: an open one whose deadline has passed is closed."""
    status = state.questions.get(question_id)
    deadline = state.deadlines.get(question_id)
    if status == "open" and deadline is not None and now >= deadline:
        return "closed"
    return status


def results_on_projector(state: RoomState, question: Question) -> bool:
    """Whether the projector shows the question's results: as the facilitator chose
    (shown or hidden), else as the question says (`results: live` or hidden)."""
    if question.id in state.shown:
        return True
    if question.id in state.results_hidden:
        return False
    return question.results == "live"


def join_screen_shown(state: RoomState) -> bool:
    """Whether the projector shows the join screen: as the facilitator set it for
    this item, else on the first item; never after the end."""
    if state.ended:
        return False
    return state.join_screen if state.join_screen is not None else state.current == 0


def _notes_html(item: Item) -> str:
    """The facilitator's notes of an item as safe HTML ("" for none): console only."""
    return render_markdown(item.notes) if item.notes else ""


def _results_for(
    audience: Audience, question: Question, aggregate: Aggregate, state: RoomState
) -> dict[str, Any] | None:
    """The results an audience sees now: the console always; the projector while
    they are on it (`results_on_projector`); phones once shown, or while they are
    on the projector for a type that shares the answers with them. What is in
    them is the type's choice."""
    if audience == "console":
        visible = True
    elif audience == "projector":
        visible = results_on_projector(state, question)
    else:
        visible = question.id in state.shown or (
            question.shares_answers_with_phones and results_on_projector(state, question)
        )
    return question.results_for(aggregate, audience) if visible else None


def item_view(item: Item) -> dict[str, Any]:
    """What clients need to show an item (no answers, no results)."""
    return item.client_view()
