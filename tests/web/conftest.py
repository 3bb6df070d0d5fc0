"""An app on each store, a TestClient, and people who take turns at it.

The app runs the tests' own script (tests/fixtures/sessions.yaml, copied so that a
test may edit it); tests move to an item by its id (`World.go_to`).

The store is built inside the app's lifespan (TestClient runs the app in its
own event loop). Redis tests use a unique key prefix and delete their keys.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from poll.script import load_script
from poll.settings import Settings
from poll.store.base import Store
from poll.store.redis import RedisStore
from poll.store.sqlite import SqliteStore
from poll.web.app import create_app
from tests.conftest import delete_keys, redis_url
from tests.support.scripts import DUTCH, SCRIPT
from tests.support.servers import need_shared_redis

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "test-facilitator-token-0d5c1f7e9a3b"


@dataclass
class World:
    app: Starlette
    client: TestClient
    sessions: Path
    kind: str
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    #: The session each run started with `start_run` runs, by room id.
    runs: dict[str, str] = field(default_factory=dict)
    current: str = "facilitator"

    @contextmanager
    def as_(self, person: str) -> Iterator[TestClient]:
        """Act as `person`, with her own cookies (one TestClient, one event loop)."""
        before = self.current
        self.cookies[before] = dict(self.client.cookies)
        self.client.cookies.clear()
        self.client.cookies.update(self.cookies.get(person, {}))
        self.current = person
        try:
            yield self.client
        finally:
            self.cookies[person] = dict(self.client.cookies)
            self.client.cookies.clear()
            self.client.cookies.update(self.cookies.get(before, {}))
            self.current = before

    def sign_in(self) -> str:
        """The facilitator signs in with the console link; returns a CSRF token."""
        response = self.client.get(f"/console?token={TOKEN}")
        assert response.status_code == 200
        return csrf_of(response.text)

    def start_run(self, session_id: str = DUTCH) -> tuple[str, str]:
        csrf = self.sign_in()
        response = self.client.post(
            "/console/rooms",
            data={"csrf": csrf, "session_id": session_id},
            follow_redirects=False,
        )
        assert response.status_code == 303
        room_id = response.headers["location"].rsplit("/", 1)[1]
        self.runs[room_id] = session_id
        page = self.client.get(f"/console/room/{room_id}").text
        code = re.search(r"/r/(\d{7})", page)
        assert code
        return room_id, code.group(1)

    def act(self, room_id: str, action: str, **fields: str) -> None:
        csrf = csrf_of(self.client.get(f"/console/room/{room_id}").text)
        response = self.client.post(
            f"/console/room/{room_id}",
            data={"csrf": csrf, "action": action, **fields},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text

    def go_to(self, room_id: str, item_id: str) -> None:
        """Move to the item with this id, wherever the run's script puts it.

        The index comes from the script file the run was started from, not from a
        console socket: opening one would make the room live in the hub, and change
        what the test goes on to observe.
        """
        session = load_script(self.sessions).sessions[self.runs[room_id]]
        self.act(room_id, "go", index=str(session.index_of(item_id)))


def token_of(html: str) -> str:
    """The vote token of a participant page's form."""
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "no vote token on the page"
    return found.group(1)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@pytest.fixture(params=["sqlite", "redis"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    sessions = tmp_path / "sessions.yaml"
    shutil.copy(SCRIPT, sessions)
    settings = Settings(
        store="unused://",
        sessions=sessions,
        data_dir=tmp_path / "data",
        token=TOKEN,
        public_url=None,
    )
    prefix = f"pollweb-{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":

        def factory() -> Store:
            return SqliteStore(tmp_path / "poll.db")
    else:
        url = redis_url()
        need_shared_redis(url)

        def factory() -> Store:
            return RedisStore(url, prefix=prefix)

    app = create_app(settings, store_factory=factory)
    try:
        with TestClient(app, base_url="http://testserver") as client:
            yield World(app, client, sessions, request.param)
    finally:
        if request.param == "redis":
            delete_keys(redis_url(), prefix)
