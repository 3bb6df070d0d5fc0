"""Two server processes on one Redis: the facilitator on one, phones on both, the
projector on the other — everybody sees the same room, live."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_session import (
    LIVE,
    PHONE,
    Console,
    expect,
    saved,
    shot,
    start_run,
    vote_button,
)
from tests.conftest import delete_keys, redis_url
from tests.support.scripts import number_of
from tests.support.servers import PollServer, need_shared_redis

pytestmark = [pytest.mark.browser, pytest.mark.redis]


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[PollServer, PollServer]]:
    prefix = f"polltest-{uuid.uuid4().hex[:12]}"
    base = redis_url()
    need_shared_redis(base)
    store = f"{base}?prefix={prefix}"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = PollServer(tmp_path / "a", store, name="a").start()
    try:
        second = PollServer(tmp_path / "b", store, name="b").start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()
        delete_keys(base, prefix)


def test_phones_and_projector_on_different_processes_see_the_same_room(
    browser: Any, two_servers: tuple[PollServer, PollServer], artifacts: Path
) -> None:
    a, b = two_servers
    page, digits = start_run(browser, a)
    console = Console(page)

    # The projector runs on the other process (the facilitator logs in there too).
    facilitator_b = browser.new_context(viewport={"width": 1920, "height": 1080})
    projector = facilitator_b.new_page()
    projector.goto(b.console_link())
    projector.goto(b.url + (page.locator("#open-projector").get_attribute("href") or ""))
    expect(projector.locator(".big-code")).to_have_text(f"{digits[:3]} {digits[3:]}")

    phones = []
    for server in (a, b):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        phone = context.new_page()
        phone.goto(f"{server.url}/r/{digits}")
        phones.append(phone)
    # Presence is summed over both processes.
    expect(page.locator(".current .meta")).to_contain_text(
        "2 people joined · 2 connected now", timeout=LIVE * 3
    )

    console.go(number_of("herkennen"))  # "Herkennen jullie deze leervragen?"
    for phone in phones:
        expect(phone.locator("h1.prompt")).to_have_text(
            re.compile("Herkennen jullie"), timeout=LIVE
        )
    vote_button(phones[0], "Ja").click()
    saved(phones[0])
    vote_button(phones[1], "Nee").click()
    saved(phones[1])
    # Votes stored through either process reach the projector on process b.
    expect(projector.locator(".bars")).to_contain_text(
        re.compile(r"Ja.*1.*Nee.*1", re.S), timeout=LIVE
    )
    shot(projector, artifacts, "two-processes-projector")
    # The facilitator on process a moves on; the phone on process b follows.
    console.next()
    expect(phones[1].locator("h1.prompt")).to_have_text(re.compile("aanvullende"), timeout=LIVE)
    for context in (page.context, facilitator_b, *[p.context for p in phones]):
        context.close()
