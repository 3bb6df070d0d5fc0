"""A phone's websocket goes to its handler before the layers made for pages."""

from __future__ import annotations

from typing import Any

import pytest

from poll.web import live_ws
from poll.web.live_ws import PhoneSocketsFirst


async def _nothing() -> dict[str, Any]:
    return {}


async def _ignore(message: dict[str, Any]) -> None:
    pass


@pytest.mark.parametrize(
    ("kind", "path", "root", "early"),
    [
        ("websocket", "/ws/participant/1234567", "", True),
        ("websocket", "/poll/ws/participant/1234567", "/poll", True),
        ("websocket", "/ws/participant/", "", False),
        ("websocket", "/ws/participant/1234567/more", "", False),
        ("websocket", "/ws/projector/room", "", False),
        ("websocket", "/ws/console/room", "", False),
        ("http", "/ws/participant/1234567", "", False),
        ("http", "/r/1234567", "", False),
    ],
)
async def test_only_the_phones_route_is_taken_early(
    monkeypatch: pytest.MonkeyPatch, kind: str, path: str, root: str, early: bool
) -> None:
    handled: list[dict[str, Any]] = []
    passed_on: list[str] = []

    async def handler(websocket: Any) -> None:
        handled.append(dict(websocket.path_params))

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed_on.append(scope["path"])

    monkeypatch.setattr(live_ws, "participant_socket", handler)
    scope = {"type": kind, "path": path, "root_path": root, "headers": []}
    await PhoneSocketsFirst(app)(scope, _nothing, _ignore)
    if early:
        assert handled == [{"code": "1234567"}] and passed_on == []
    else:
        assert handled == [] and passed_on == [path]
