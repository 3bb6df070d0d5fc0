"""The sessions file as the server sees it: re-read when it changes on disk.

Checking is one `stat()` per file, the script's and those its slides and themes
name (cheap enough for every console page load). A broken
edit keeps the last good script in use and is reported in the console until
the file is fixed; the server never stops over it.
"""

from __future__ import annotations

import os
from pathlib import Path

from poll.script import Script, ScriptError, load_script


class ScriptWatch:
    def __init__(self, path: Path, media_dir: Path | None = None) -> None:
        self.path = path
        #: Where the files the script names are copied for the runs (see poll.media).
        self.media_dir = media_dir
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None
        self.error: ScriptError | None = None
        # Raises ScriptError at startup: a server without a usable script is no use.
        self.script: Script = load_script(path, media_dir)
        self._stamp = self._stat()

    def _stat(self) -> tuple[tuple[int, int] | None, ...]:
        """The script's stamp and those of the files it names: a new deck.pdf makes
        the next run show the new deck, like an edit of the script does."""
        return tuple(_stamp(path) for path in (self.path, *self.script.files))

    def check(self) -> Script:
        """The current script, re-read first if the file changed since last time."""
        stamp = self._stat()
        if stamp != self._stamp:
            self._stamp = stamp
            try:
                self.script = load_script(self.path, self.media_dir)
                self.error = None
                # Stamped again: the new script may name other files.
                self._stamp = self._stat()
            except ScriptError as exc:
                self.error = exc
        return self.script

    def current(self) -> Script:
        """For `Rooms`: the last good script, re-read if it changed."""
        return self.check()


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)
