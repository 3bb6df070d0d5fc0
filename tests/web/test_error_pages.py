"""Error pages escape every detail and tell the visitor the reason meant for her."""

from __future__ import annotations

import pytest
from markupsafe import escape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from poll.web.errors import TITLES, Refused, exception_handlers
from poll.web.i18n import N_
from tests.web.conftest import World, csrf_of

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7 * 7 }}{% raw %}",
    "%(name)s {name} {0}",
]
STATUSES = sorted({*TITLES, 409, 413, 418, 422, 429, 502})


def _app(exc: HTTPException) -> TestClient:
    async def fail(request: Request) -> Response:
        raise exc

    app = Starlette(routes=[Route("/fail", fail)], exception_handlers=exception_handlers())
    return TestClient(app, raise_server_exceptions=False)


def _body(client: TestClient, lang: str = "en") -> tuple[int, str]:
    response = client.get("/fail", headers={"accept-language": lang})
    return response.status_code, response.text


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_detail_is_escaped_on_every_error_page(status: int, payload: str) -> None:
    code, page = _body(_app(HTTPException(status, payload)))
    assert code == status
    assert "<script>alert" not in page and "<img src=x" not in page
    assert str(escape(payload)) in page
    assert "49" not in page.split("<main", 1)[1]  # no template ran inside the detail


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("payload", PAYLOADS)
def test_a_reason_with_typed_text_is_escaped(status: int, payload: str) -> None:
    exc = Refused(status, N_("There is no session {session} in the script."), {"session": payload})
    sentences = (("en", "There is no session "), ("nl", "Het sessiebestand bevat geen sessie "))
    for lang, sentence in sentences:
        code, page = _body(_app(exc), lang)
        assert code == status
        assert sentence in page
        assert "<script>alert" not in page and "<img src=x" not in page
        assert str(escape(payload)) in page


def test_a_detail_is_never_translated() -> None:
    """A detail that happens to be a message id is shown as it is: only reasons
    raised as message ids are translated."""
    _code, page = _body(_app(HTTPException(400, "Go to the start page")), "nl")
    assert '<p class="detail">Go to the start page</p>' in page


def test_a_bare_status_shows_its_title_only() -> None:
    code, page = _body(_app(HTTPException(404)), "nl")
    assert code == 404 and "Deze pagina bestaat niet." in page
    assert 'class="detail"' not in page


def test_a_long_detail_is_cut() -> None:
    _code, page = _body(_app(HTTPException(400, "x" * 100_000)))
    assert len(page) < 10_000


def test_headers_of_a_refusal_reach_the_page() -> None:
    exc = Refused(
        429, N_("Too many attempts. Wait a moment and try again."), headers={"retry-after": "7"}
    )
    response = _app(exc).get("/fail")
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


def test_an_expired_form_says_so(world: World) -> None:
    world.sign_in()
    response = world.client.post("/console/rooms", data={"session_id": "x", "csrf": "stale"})
    assert response.status_code == 400
    assert "The form had expired. Go back, reload the page and try again." in response.text
    assert "This request was not understood." in response.text


def test_an_unknown_session_says_which(world: World) -> None:
    csrf = world.sign_in()
    payload = "<script>alert(1)</script>"
    response = world.client.post(
        "/console/rooms",
        data={"session_id": payload, "csrf": csrf},
        headers={"accept-language": "nl"},
    )
    assert response.status_code == 400
    assert "Het sessiebestand bevat geen sessie" in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert" not in response.text


def test_an_unknown_action_says_which(world: World) -> None:
    room, _code = world.start_run()
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    response = world.client.post(
        f"/console/room/{room}", data={"csrf": csrf, "action": "<b>jump</b>"}
    )
    assert response.status_code == 400
    assert "Unknown action &lt;b&gt;jump&lt;/b&gt;." in response.text
