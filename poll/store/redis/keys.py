"""Where the Redis store keeps what: the key layout, in one place.

Keys (prefix P, default "poll"; "\\x1f" separates parts of a hash field):

    P:rooms                     zset   room id → creation order (global index)
    P:rooms:seq                 string counter giving that order
    P:code:CODE                 string room id holding the join code (SET NX)
    P:console-epoch             string generation of facilitator sign-ins (INCR)
    P:metrics                   hash   process id → {"at": ms, "figures": {…}} (JSON),
                                       each process's latest report for /metrics
    P:room:{R}                  hash   id, code, session_id, created_at, ended_at,
                                       current, current_question, version, seq, qorder,
                                       join_screen (1|0; absent: automatic)
    P:room:{R}:spec             string the session copy (JSON)
    P:room:{R}:status           hash   question id → pending|open|closed
    P:room:{R}:shown            set    questions whose results the facilitator showed
    P:room:{R}:unshown          set    questions whose results the facilitator hid
    P:room:{R}:subs             set    participant\\x1fsubmission id, for idempotency
    P:room:{R}:resp             hash   ref → {"q","p","k","t","at"} (JSON)
    P:room:{R}:mine             hash   question\\x1fparticipant → [ref, ...]
    P:room:{R}:counts           hash   question\\x1fkey → count
    P:room:{R}:respondents      hash   question → participants with an answer
    P:room:{R}:texts            zset   refs of responses with text, in answer order
    P:room:{R}:hidden           set    refs hidden by moderation
    P:room:{R}:opened           hash   question id → when it was last opened (ms)
    P:room:{R}:deadlines        hash   question id → when its countdown ends (ms)
    P:room:{R}:marks            hash   question\x1fkey → the facilitator's mark
    P:room:{R}:names            hash   participant → name (unique in the room)
    P:room:{R}:namekeys         hash   a name's comparison key → participant
    P:room:{R}:presence         hash   process id → "count:ms"
    P:room:{R}:joined           set    participants who joined the run
    P:ended:CODE                string the room that ended last with this code
    P:room:{R}:link             hash   the results link: digest, nonce, created,
                                       expires (ms, '' for none), in_room (1|0)
    P:link:DIGEST               string the room whose results link has this digest
                                       (an index: the room's own hash decides)
    channel P:changed:{R}       the new version, after every change
    channel P:control           subscribed by every pub/sub reader, so that its
                                connection is up while no room is watched;
                                nothing is published on it (not on a cluster)

Every key of a room carries the hash tag `{R}`, so every room script and
every MULTI touches one hash slot and the same code runs on Redis Cluster;
there the change channel, which carries the same tag, is a sharded one
(SPUBLISH from the script, SSUBSCRIBE by the readers). The global keys (room
index and its counter, join-code claims live and ended, results-link index, sign-in epoch,
metrics reports) are
each used alone: no script or transaction touches two of them, or one of them
with room keys.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: Separates the parts of a hash field (question, participant, key).
SEP = "\x1f"


@dataclass(frozen=True)
class RoomKeys:
    """Every key of one room; all share the hash slot of `{room_id}`."""

    room: str
    spec: str
    status: str
    shown: str
    unshown: str
    subs: str
    resp: str
    mine: str
    counts: str
    respondents: str
    texts: str
    hidden: str
    opened: str
    deadlines: str
    marks: str
    names: str
    namekeys: str
    presence: str
    joined: str
    link: str
    channel: str

    @classmethod
    def of(cls, prefix: str, room_id: str) -> RoomKeys:
        base = f"{prefix}:room:{{{room_id}}}"
        return cls(
            room=base,
            spec=f"{base}:spec",
            status=f"{base}:status",
            shown=f"{base}:shown",
            unshown=f"{base}:unshown",
            subs=f"{base}:subs",
            resp=f"{base}:resp",
            mine=f"{base}:mine",
            counts=f"{base}:counts",
            respondents=f"{base}:respondents",
            texts=f"{base}:texts",
            hidden=f"{base}:hidden",
            opened=f"{base}:opened",
            deadlines=f"{base}:deadlines",
            marks=f"{base}:marks",
            names=f"{base}:names",
            namekeys=f"{base}:namekeys",
            presence=f"{base}:presence",
            joined=f"{base}:joined",
            link=f"{base}:link",
            channel=f"{prefix}:changed:{{{room_id}}}",
        )

    def all(self) -> list[str]:
        """Every key (not the channel): what purging a room deletes."""
        return [
            self.room,
            self.spec,
            self.status,
            self.shown,
            self.unshown,
            self.subs,
            self.resp,
            self.mine,
            self.counts,
            self.respondents,
            self.texts,
            self.hidden,
            self.opened,
            self.deadlines,
            self.marks,
            self.names,
            self.namekeys,
            self.presence,
            self.joined,
            self.link,
        ]


@dataclass(frozen=True)
class Layout:
    """The keys of one installation (one prefix)."""

    prefix: str

    def room(self, room_id: str) -> RoomKeys:
        return _room_keys(self.prefix, room_id)

    def code(self, code: str) -> str:
        return f"{self.prefix}:code:{code}"

    def ended_code(self, code: str) -> str:
        return f"{self.prefix}:ended:{code}"

    def results_link(self, digest: str) -> str:
        return f"{self.prefix}:link:{digest}"

    @property
    def index(self) -> str:
        return f"{self.prefix}:rooms"

    @property
    def console_epoch(self) -> str:
        return f"{self.prefix}:console-epoch"

    @property
    def metrics(self) -> str:
        return f"{self.prefix}:metrics"

    @property
    def index_seq(self) -> str:
        return f"{self.index}:seq"

    @property
    def control(self) -> str:
        return f"{self.prefix}:control"

    def room_of(self, channel: str) -> str | None:
        """The room whose change channel this is, if it is one."""
        head = f"{self.prefix}:changed:{{"
        if channel.startswith(head) and channel.endswith("}"):
            return channel[len(head) : -1]
        return None


@functools.lru_cache(maxsize=4096)
def vote_keys(prefix: str, room_id: str) -> tuple[tuple[bytes, ...], bytes]:
    """The vote script's keys as bytes, made once per room: redis-py sends bytes as they are."""
    k = RoomKeys.of(prefix, room_id)
    names = (
        k.room,
        k.status,
        k.subs,
        k.resp,
        k.mine,
        k.counts,
        k.respondents,
        k.texts,
        k.hidden,
        k.deadlines,
    )
    return tuple(name.encode() for name in names), k.channel.encode()


@functools.lru_cache(maxsize=1024)
def _room_keys(prefix: str, room_id: str) -> RoomKeys:
    """A room's keys, made once: every call of the store for a room needs them, and
    making the 21 names took 1.5 % of a worker's samples in a 5,000-phone join."""
    return RoomKeys.of(prefix, room_id)
