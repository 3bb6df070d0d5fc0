"""The web `world` (an app on each store) for the privacy tests."""

from __future__ import annotations

from tests.support.servers import reaper  # noqa: F401 - the fixture, re-exported
from tests.web.conftest import world  # noqa: F401 - the fixture, re-exported
