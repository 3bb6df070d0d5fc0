"""Redis goes away during a vote burst while two server processes share it.

Either Redis is restarted (SIGTERM, then started again on its append-only
file), or every client connection is cut with CLIENT KILL, again and again for
a few seconds. The phones keep voting; each vote is either acknowledged after
Redis stored it, or refused with "retry" and sent again with the same
submission id. Afterwards both processes have resubscribed: the projectors left
open on each of them show exactly the acknowledged votes, and so does a fresh
projector and the CSV.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fault.conftest import OPEN, SESSION, burst, open_texts, record
from tests.support.browser import async_expect as expect
from tests.support.browser import chromium, phone_page
from tests.support.facilitator import Facilitator
from tests.support.phones import Tally, Watcher, phones_for
from tests.support.processes import Reaper
from tests.support.servers import PollServer, RedisServer, need_redis_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

PHONES = 60
OUTAGE_AFTER = 300  # acknowledged votes before Redis goes away
LIVE = 60_000


async def cut_connections(redis: RedisServer, seconds: float) -> int:
    """CLIENT KILL every normal and pub/sub connection, repeatedly, for `seconds`."""
    killed = 0
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        for kind in ("normal", "pubsub"):
            killed += int(await redis.command("CLIENT", "KILL", "TYPE", kind, "SKIPME", "yes"))
        await asyncio.sleep(0.05)
    return killed


@pytest.mark.parametrize("outage", ["restart", "client-kill"])
async def test_redis_outage_mid_burst_with_two_processes(
    tmp_path: Path, reaper: Reaper, facilitator_for: Any, outage: str
) -> None:
    need_redis_server()
    redis = RedisServer(tmp_path, reaper)
    await redis.start()
    one = PollServer(tmp_path, redis.url, reaper=reaper, name="one")
    two = PollServer(tmp_path, redis.url, reaper=reaper, name="two")
    await asyncio.gather(one.astart(), two.astart())
    facilitator: Facilitator = await facilitator_for(one.url)
    await facilitator.start_run(SESSION)
    await facilitator.go_to(OPEN)

    # A projector stays open on each process for the whole drill.
    watchers = [
        Watcher(facilitator.ws_url("projector", server.url), facilitator.cookie)
        for server in (one, two)
    ]
    for watcher in watchers:
        watcher.start()
    tally = Tally()
    phones = await phones_for(PHONES, [one.url, two.url], facilitator.code, tally)

    async with chromium() as browser:
        carla = await phone_page(browser, f"{two.url}/r/{facilitator.code}")
        field = carla.get_by_label("Write your answer")
        await expect(field).to_be_visible(timeout=LIVE)

        voting = asyncio.create_task(burst(phones))
        await eventually(lambda: len(tally.acked) >= OUTAGE_AFTER, f"{OUTAGE_AFTER} acked votes")
        assert not voting.done(), "the burst ended before the outage: nothing was tested"
        acked_before = len(tally.acked)
        killed = 0
        if outage == "restart":
            redis.stop()
            # Carla sends an idea while Redis is down: "not saved, trying again", never "saved".
            await field.fill("Carla's idea during the outage")
            await carla.get_by_role("button", name="Send").click()
            await expect(carla.locator("#vote-status")).to_have_text(
                re.compile("^(Not saved yet, trying again…|Sending…)$"), timeout=LIVE
            )
            await eventually(lambda: tally.refused_retry > 0, "a vote refused with retry")
            await expect(carla.locator("#vote-status")).to_have_text(
                "Not saved yet, trying again…", timeout=LIVE
            )
            await redis.start()
        else:
            killed = await cut_connections(redis, 3.0)
            await field.fill("Carla's idea after the cuts")
            await carla.get_by_role("button", name="Send").click()
        await expect(carla.locator("#vote-status")).to_have_text(
            "Your answer is saved.", timeout=LIVE
        )
        await asyncio.wait_for(voting, 300)
        carla_text = await carla.locator("ul.mine li").last.inner_text()

    acked = [*tally.acked.values(), carla_text]
    # Both processes resubscribed: the projectors left open catch up with every vote.
    for watcher in watchers:
        await eventually(
            lambda w=watcher: Counter(w.texts()) == Counter(acked),  # type: ignore[misc]
            "a projector left open shows exactly the acknowledged ideas",
        )
    fresh = await facilitator.snapshot("projector", two.url)
    on_screen = Counter(entry["text"] for entry in fresh["results"]["texts"])
    rows = await facilitator.csv_rows()
    found = Counter(open_texts(rows))
    lost = [text for text in acked if text not in found]

    # Pub/sub is back on both: a vote on one process reaches the projector on the
    # other, which has no local activity that would make it read the room anyway.
    for sender, screen in ((one, watchers[1]), (two, watchers[0])):
        [late] = await phones_for(1, [sender.url], facilitator.code, Tally())
        text = f"late idea via {sender.name}"
        await late.vote(OPEN, {"text": text}, f"late-{sender.name}")
        await late.close()
        await eventually(lambda s=screen, t=text: t in s.texts(), f"{text} on the other screen")
    await asyncio.gather(*(watcher.stop() for watcher in watchers))

    record(
        f"redis-{outage}",
        {
            "processes": 2,
            "phones": PHONES + 1,
            "votes_acked": len(acked),
            "acked_before_outage": acked_before,
            "votes_found_csv": sum(found.values()),
            "votes_lost": len(lost),
            "counted_twice": sum(n - 1 for n in found.values() if n > 1),
            "refused_retry": tally.refused_retry,
            "reconnects": tally.reconnects,
            "connections_killed": killed,
            "projector_reconnects": [w.reconnects for w in watchers],
        },
    )
    assert not lost, f"{len(lost)} acknowledged votes are missing: {lost[:5]}"
    assert found == Counter(acked), "the CSV holds exactly the acknowledged votes, once each"
    assert on_screen == Counter(acked)
    assert not tally.refused_final, tally.refused_final[:3]
    if outage == "restart":
        assert tally.refused_retry + tally.reconnects > 0, "the outage never reached a phone"
