"""Logging without personal data: uvicorn's access log, stripped of addresses and queries.

uvicorn's access log line is `ADDRESS - "METHOD PATH?QUERY HTTP/x" STATUS`. The
address identifies a resident's phone and the query can hold the facilitator
token (`/console?token=…`), so both are removed before any handler sees them.
"""

from __future__ import annotations

import logging
from typing import Any


class PrivateAccessFilter(logging.Filter):
    """Replace the client address with "-" and drop the query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            _address, method, path, version, status = args
            path = str(path).split("?", 1)[0]
            record.args = ("-", method, path, version, status)
        return True


def private_log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's own logging config with the filter on its access logger, plus poll's.

    poll's own loggers (`poll.store.redis`, `poll.live`, `poll.web`) report what an
    operator must see: Redis lost and found again, rooms that cannot be read. They
    get a time stamp and their name, on standard error like uvicorn's, at `level`.
    """
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"private": {"()": "poll.web.logs.PrivateAccessFilter"}},
        "formatters": {
            **LOGGING_CONFIG["formatters"],
            "poll": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {name: dict(h) for name, h in LOGGING_CONFIG["handlers"].items()},
        "loggers": {
            **LOGGING_CONFIG["loggers"],
            "poll": {"handlers": ["poll"], "level": level.upper(), "propagate": False},
        },
    }
    config["handlers"]["access"]["filters"] = ["private"]
    config["handlers"]["poll"] = {
        "formatter": "poll",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    return config
