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


def private_log_config() -> dict[str, Any]:
    """uvicorn's own logging config with the filter on its access logger."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = {
        **LOGGING_CONFIG,
        "filters": {"private": {"()": "poll.web.logs.PrivateAccessFilter"}},
        "handlers": {name: dict(h) for name, h in LOGGING_CONFIG["handlers"].items()},
    }
    config["handlers"]["access"]["filters"] = ["private"]
    return config
