// The live protocol's names for the page scripts: a mirror of poll/protocol.py
// (tests/test_protocol.py holds the two equal). Protocol: docs/protocol.md.

// Message types.
export const SNAPSHOT = "snapshot";
export const MINE = "mine";
export const ACK = "ack";
export const REFUSED = "refused";
export const ERROR = "error";
export const DONE = "done";
export const PING = "ping";
export const PONG = "pong";
export const VOTE = "vote";
export const ACTION = "action";
export const SYNC = "sync";

// Reasons of `refused` and `error`.
export const UNKNOWN_ROOM = "unknown_room";
export const UNKNOWN_SESSION = "unknown_session";
export const ROOM_ENDED = "room_ended";
export const NOT_CURRENT = "not_current";
export const VOTING_CLOSED = "voting_closed";
export const NOT_YET_OPEN = "not_yet_open";
export const TOO_LATE = "too_late";
export const CHANGE_NOT_ALLOWED = "change_not_allowed";
export const TOO_MANY_ANSWERS = "too_many_answers";
export const INVALID_ANSWER = "invalid_answer";
export const NICKNAME_TAKEN = "nickname_taken";
export const STORE_UNAVAILABLE = "store_unavailable";
export const RATE_LIMITED = "rate_limited";
export const TOO_MANY_ATTEMPTS = "too_many_attempts";
export const NOT_SENT = "not_sent";
export const BAD_MESSAGE = "bad_message";
export const UNKNOWN_TYPE = "unknown_type";
export const TOO_LARGE = "too_large";
export const UNKNOWN_ACTION = "unknown_action";
export const ACTION_ERROR = "action_error";

// Close codes.
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_STORE_FAILED = 1011;
export const CLOSE_SERVICE_RESTART = 1012;
export const CLOSE_TOO_SLOW = 1013;
export const CLOSE_NO_PARTICIPANT = 4401;
export const CLOSE_FORBIDDEN = 4403;
export const CLOSE_UNKNOWN_ROOM = 4404;
export const CLOSE_TOO_MANY_ATTEMPTS = 4429;

// Close codes after which reconnecting cannot help.
export const FINAL_CLOSE_CODES = new Set([CLOSE_NO_PARTICIPANT, CLOSE_FORBIDDEN, CLOSE_UNKNOWN_ROOM]);
