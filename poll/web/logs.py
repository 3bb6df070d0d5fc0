"""Logging without personal data: no client address, port, join code or query string.

uvicorn writes three kinds of lines that would hold them:

- its access log, `ADDRESS:PORT - "METHOD PATH?QUERY HTTP/x" STATUS` (off unless
  `--access-log`);
- a line per websocket handshake, `ADDRESS:PORT - "WebSocket PATH?QUERY" [accepted]`
  or `403`, at INFO through `uvicorn.error`, so turning the access log off does
  not silence it;
- with `--log-level debug`, the websockets library's trace of every frame
  (`< TEXT '{"type":"vote",…}'`), also through `uvicorn.error`.

A phone's address identifies a resident, the path of a phone's page or socket
holds the join code (`/r/1234567`, `/ws/participant/1234567`), and a query can
hold the facilitator token (`/console?token=…`). The filters below rewrite the
lines they recognise (address → `-`, code → `{code}`, query dropped), treat the
handshakes as access lines (shown only with `--access-log`), drop the frame
trace, and replace the traceback uvicorn logs for a text frame that is not
UTF-8 with one plain line. As a last net, every other message and traceback
through these handlers has its join codes and query strings cut too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: Paths whose next segment is a join code.
_CODE_IN_PATH = re.compile(r"(/(?:r|j|ws/participant)/)[^/\s\"'?#]+")
#: A query string after a path (`/console?token=…`), up to the next space or quote.
_QUERY = re.compile(r"(/[^\s\"'?]*)\?[^\s\"']*")
_HANDSHAKE = '%s - "WebSocket %s"'
_BAD_UTF8 = "Invalid UTF-8 sequence received from client."
_BAD_UTF8_NOTE = (
    "a websocket client sent a text frame that is not valid UTF-8; its connection was closed (1007)"
)


def private_path(path: str) -> str:
    """`/r/1234567?x=1` → `/r/{code}`: the route, without the code or the query."""
    return _CODE_IN_PATH.sub(r"\1{code}", str(path).split("?", 1)[0])


def scrub(text: str) -> str:
    """Any text with its join codes in paths and its query strings cut."""
    return _QUERY.sub(r"\1", _CODE_IN_PATH.sub(r"\1{code}", text))


class PrivateAccessFilter(logging.Filter):
    """uvicorn's access line: the client address becomes "-", the path loses code and query."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _address, method, path, version, status = args
            record.args = ("-", method, private_path(str(path)), version, status)
        return True


class PrivateServerFilter(logging.Filter):
    """Every other line: uvicorn's server log, poll's own, and any library's."""

    def __init__(self, handshakes: bool = False) -> None:
        super().__init__()
        #: Log websocket handshakes (as access lines) at all: with `--access-log` only.
        self.handshakes = handshakes

    def filter(self, record: logging.LogRecord) -> bool:
        if _from_websockets_library(record) and record.levelno < logging.WARNING:
            return False  # the frame trace: every message's content
        if isinstance(record.msg, str) and record.msg.startswith(_HANDSHAKE):
            if not self.handshakes:
                return False
            args = record.args
            if isinstance(args, tuple) and len(args) >= 2:
                record.args = ("-", private_path(str(args[1])), *args[2:])
            return True
        if record.msg == _BAD_UTF8:
            # uvicorn logs the decoding error's traceback at ERROR; a client's fault is
            # neither an error of the server nor worth a traceback.
            record.msg, record.args = _BAD_UTF8_NOTE, None
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info = record.exc_text = None
            return True
        _scrub_record(record)
        return True


def _from_websockets_library(record: logging.LogRecord) -> bool:
    path = record.pathname.replace("\\", "/")
    return "/websockets/" in path and "/uvicorn/" not in path


def _scrub_record(record: logging.LogRecord) -> None:
    message = record.getMessage()
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
        # uvicorn's coloured formatter would format its own copy of the message.
        record.__dict__.pop("color_message", None)
    if record.exc_info and not record.exc_text:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = scrub(record.exc_text)


def private_log_config(level: str = "info", *, access_log: bool = False) -> dict[str, Any]:
    """uvicorn's own logging config with the private filters on every handler, plus poll's.

    poll's own loggers (`poll.store.redis`, `poll.live`, `poll.web`) report what an
    operator must see: Redis lost and found again, rooms that cannot be read,
    connections refused for load. They get a time stamp and their name, on
    standard error like uvicorn's, at `level`. Any other library's warnings
    reach standard error through the same filter (the root logger).
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {
            "private": {"()": "poll.web.logs.PrivateAccessFilter"},
            "private_server": {
                "()": "poll.web.logs.PrivateServerFilter",
                "handshakes": access_log,
            },
        },
        "formatters": {
            **LOGGING_CONFIG["formatters"],
            "poll": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {name: dict(h) for name, h in LOGGING_CONFIG["handlers"].items()},
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "poll": {"handlers": ["poll"], "level": level.upper(), "propagate": False},
        },
        "root": {"handlers": ["poll"], "level": "WARNING"},
    }
    config["handlers"]["access"]["filters"] = ["private"]
    config["handlers"]["default"]["filters"] = ["private_server"]
    config["handlers"]["poll"] = {
        "formatter": "poll",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
        "filters": ["private_server"],
    }
    return config
