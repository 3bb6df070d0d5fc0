"""Where templates, static files and catalogues live: in the installed package
(the wheel copies them into `poll/`) or, in a source checkout, next to it."""

from __future__ import annotations

from pathlib import Path

import poll

_PACKAGE = Path(poll.__file__).resolve().parent


def resource_dir(name: str) -> Path:
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name
