"""Small steps the attack tests share: a phone joining, reading its form token."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.web.conftest import token_of


def vote_by_form(phone: TestClient, code: str, question_id: str, **answer: Any) -> None:
    """A phone without JavaScript answers the current question."""
    token = token_of(phone.get(f"/r/{code}").text)
    data = {"token": token, "question_id": question_id, "submission_id": _sid(), **answer}
    response = phone.post(f"/r/{code}", data=data, follow_redirects=False)
    assert response.status_code == 303
    page = phone.get(f"/r/{code}").text
    assert 'class="vote-status saved"' in page, page[:2000]


_counter = iter(range(10**9))


def _sid() -> str:
    return f"s{next(_counter)}"
