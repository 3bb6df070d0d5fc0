"""Where tests leave what a person may want to look at afterwards: screenshots, the
drills' and the security tests' figures, and the README's pictures.

`tests/artifacts/` by default, or `POLL_TEST_ARTIFACTS`. A checkout that cannot be
written to (a read-only mount in CI) falls back to a folder in the temporary
directory, so that no test and no report hook fails for want of a place to write.
The README's pictures are rewritten only when asked (`POLL_SCREENSHOTS=1`).
"""

from __future__ import annotations

import os
import tempfile
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README_IMAGES = ROOT / "docs" / "images"


@cache
def _base() -> Path:
    wanted = Path(os.environ.get("POLL_TEST_ARTIFACTS") or ROOT / "tests" / "artifacts")
    for base in (wanted, Path(tempfile.gettempdir()) / "poll-test-artifacts"):
        try:
            base.mkdir(parents=True, exist_ok=True)
            probe = base / ".writable"
            probe.touch()
            probe.unlink()
        except OSError:
            continue
        return base
    raise OSError(f"no writable folder for test artifacts ({wanted}, or the temporary one)")


def artifacts(*parts: str) -> Path:
    """The artifacts folder (or a subfolder of it), made if need be."""
    folder = _base().joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def readme_image(name: str) -> Path | None:
    """Where to write the README's picture `name`, or None unless POLL_SCREENSHOTS=1."""
    if os.environ.get("POLL_SCREENSHOTS") != "1":
        return None
    README_IMAGES.mkdir(parents=True, exist_ok=True)
    return README_IMAGES / name
