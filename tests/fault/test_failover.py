"""One of two server processes dies (SIGKILL) behind a front that sends phones to
whichever process is alive: its phones reconnect to the other and go on voting."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fault.conftest import END, OPEN, SESSION, burst, open_texts, record
from tests.support.browser import async_expect as expect
from tests.support.browser import chromium, phone_page
from tests.support.facilitator import Facilitator
from tests.support.fronts import Front
from tests.support.phones import Tally, Watcher, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer, RedisServer, need_redis_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

PHONES = 60
KILL_AFTER = 300
LIVE = 60_000


async def test_phones_move_to_the_surviving_process(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any
) -> None:
    need_redis_server()
    redis = RedisServer(tmp_path, reaper)
    await redis.start()
    front = Front([])
    first = PollServer(tmp_path, redis.url, reaper=reaper, name="first", public_url=front.url)
    second = PollServer(tmp_path, redis.url, reaper=reaper, name="second", public_url=front.url)
    front.backends = [first.port, second.port]  # everyone lands on `first` while it lives
    await asyncio.gather(first.astart(), second.astart(), front.start())
    try:
        facilitator: Facilitator = await facilitator_for(front.url)
        await facilitator.start_run(SESSION)
        await facilitator.go_to(OPEN)
        # The projector hangs on the second process (the venue's beamer, a wired line).
        projector = Watcher(facilitator.ws_url("projector", second.url), facilitator.cookie)
        projector.start()

        async with chromium() as browser:
            dina = await phone_page(browser, f"{front.url}/r/{facilitator.code}")
            field = dina.get_by_label("Write your answer")
            await expect(field).to_be_visible(timeout=LIVE)
            await field.fill("Dina's first idea")
            await dina.get_by_role("button", name="Send").click()
            await expect(dina.locator("#vote-status")).to_have_text(
                "Your answer is saved.", timeout=LIVE
            )

            tally = Tally()
            phones = await phones_for(PHONES, [front.url], facilitator.code, tally)
            voting = asyncio.create_task(burst(phones))
            await eventually(lambda: len(tally.acked) >= KILL_AFTER, f"{KILL_AFTER} acked votes")
            assert not voting.done(), "the burst ended before the kill: nothing was tested"
            assert front.connections[second.port] == 0, "phones were on the second already"
            first.kill()
            acked_before = len(tally.acked)

            # Dina's phone reconnects through the front by itself (so quickly that its
            # "Reconnecting…" notice, held back for a second, may never show), and she goes on.
            await eventually(
                lambda: front.connections[second.port] > PHONES // 2, "phones on the survivor"
            )
            await expect(dina.locator("#connection")).to_be_hidden(timeout=LIVE)
            await field.fill("Dina's idea after the failover")
            await dina.get_by_role("button", name="Send").click()
            await expect(dina.locator("#vote-status")).to_have_text(
                "Your answer is saved.", timeout=LIVE
            )
            await asyncio.wait_for(voting, 300)
            await facilitator.go_to(END)
            await expect(dina.locator("#stage .slide-title")).to_have_text(
                "Thank you", timeout=LIVE
            )
            await facilitator.go_to(OPEN)

        acked = [*tally.acked.values(), "Dina's first idea", "Dina's idea after the failover"]
        await eventually(
            lambda: Counter(projector.texts()) == Counter(acked),
            "the projector shows exactly the acknowledged ideas",
        )
        await projector.stop()
        rows = await facilitator.csv_rows()
        found = Counter(open_texts(rows))
        lost = [text for text in acked if text not in found]
        record(
            "failover-one-of-two-processes",
            {
                "processes": 2,
                "phones": PHONES + 1,
                "votes_acked": len(acked),
                "acked_before_kill": acked_before,
                "votes_found_csv": sum(found.values()),
                "votes_lost": len(lost),
                "counted_twice": sum(n - 1 for n in found.values() if n > 1),
                "reconnects": tally.reconnects,
                "connections_to_survivor": front.connections[second.port],
            },
        )
        assert not lost, f"{len(lost)} acknowledged votes are missing: {lost[:5]}"
        assert found == Counter(acked)
        assert tally.reconnects >= PHONES, "every phone on the dead process had to move"
        assert front.connections[second.port] >= PHONES
    finally:
        await front.stop()
