"""The projector, made for a room of 60: every screen of the sample session
("Team day: every question type", from the repository's sessions.yaml) at 1920×1080,
1280×720 and 1024×768 has no text under 28px at 1080p (in proportion below), no axe
violation of any impact (contrast included, in the light and the dark colours), and
the layout of its stored picture. The open question's wall shows every answer at 60,
150 and 300 answers, page by page, none clipped; the facilitator features one card
full screen from the console; F and the button toggle full screen; the pointer hides
when idle. Phones and the facilitator speak the live protocol (tests.support).

POLL_SCREENSHOTS=1 also writes the README's picture of the projector
(docs/images/projector.png)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.browser.projector_checks import check_screen, small_texts
from tests.browser.test_session import LIVE, expect, violations
from tests.support.artifacts import readme_image
from tests.support.facilitator import Facilitator
from tests.support.phones import Phone, Tally
from tests.support.servers import PollServer
from tests.support.waiting import eventually_sync

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class Loop:
    """An event loop in a thread of its own, for the protocol-level phones and
    facilitator beside Playwright's synchronous browser."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 240) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture
def sample_server(tmp_path: Path) -> Iterator[PollServer]:
    running = PollServer(tmp_path, f"sqlite:///{tmp_path}/poll.db", sessions=ROOT / "sessions.yaml")
    running.start()
    yield running
    running.stop()


class Room:
    """A run with its facilitator, phones and a projector page in Chromium."""

    def __init__(
        self, loop: Loop, browser: Any, server: PollServer, session: str, motion: str = "reduce"
    ) -> None:
        self.loop = loop
        self.server = server
        self.facilitator = Facilitator(server.url)
        loop.run(self.facilitator.sign_in())
        self.room_id, self.code = loop.run(self.facilitator.start_run(session))
        self.tally = Tally()
        self.phones: list[Phone] = []
        self.context = browser.new_context(
            viewport={"width": 1920, "height": 1080}, locale="en-US", reduced_motion=motion
        )
        cookie = self.facilitator.client.cookies["poll_console"]
        self.context.add_cookies([{"name": "poll_console", "value": cookie, "url": server.url}])
        self.projector = self.context.new_page()
        self.projector.goto(f"{server.url}/projector/{self.room_id}")
        self.sent = 0

    def join(self, count: int) -> list[Phone]:
        phones = [Phone(f"phone-{len(self.phones) + n}", [self.server.url], self.code, self.tally)
                  for n in range(count)]  # fmt: skip

        async def all_join() -> None:
            await asyncio.gather(*(phone.join() for phone in phones))

        self.loop.run(all_join())
        self.phones += phones
        return phones

    def votes(self, question: str, answers: list[tuple[Phone, dict[str, Any]]]) -> None:
        async def send() -> None:
            # One phone's answers in order (its own socket); the phones side by side.
            by_phone: dict[Phone, list[dict[str, Any]]] = {}
            for phone, answer in answers:
                by_phone.setdefault(phone, []).append(answer)

            async def one(phone: Phone, theirs: list[dict[str, Any]]) -> None:
                for answer in theirs:
                    self.sent += 1
                    await phone.vote(question, answer, f"s{self.sent}-{phone.name}")

            refused = len(self.tally.refused_final)
            await asyncio.gather(*(one(phone, theirs) for phone, theirs in by_phone.items()))
            assert len(self.tally.refused_final) == refused, self.tally.refused_final[refused:]

        self.loop.run(send())

    def act(self, action: str, **fields: Any) -> None:
        self.loop.run(self.facilitator.act(action, **fields))

    def go(self, item_id: str) -> None:
        self.loop.run(self.facilitator.go_to(item_id))

    def close(self) -> None:
        async def close_all() -> None:
            for phone in self.phones:
                await phone.close()
            await self.facilitator.aclose()

        self.loop.run(close_all())
        self.context.close()


def test_every_screen_of_the_sample_session_is_made_for_the_room(
    browser: Any, sample_server: PollServer, loop: Loop, artifacts: Path
) -> None:
    room = Room(loop, browser, sample_server, "team-day")
    projector = room.projector
    screen = projector.locator("#screen")
    problems: list[str] = []

    def check(name: str) -> None:
        problems.extend(check_screen(projector, name, artifacts))

    ann, bo, cy = room.join(3)
    expect(projector.locator("#join")).to_be_visible(timeout=LIVE)
    check("join")
    projector.keyboard.press("j")
    expect(projector.locator("#join")).to_be_hidden()
    check("slide")

    room.go("one-word")
    room.votes(
        "one-word",
        [
            (ann, {"words": ["Busy", "fun", "growth"]}),
            (bo, {"words": ["busy!", "Learning"]}),
            (cy, {"words": ["BUSY", "fun", "calm"]}),
        ],
    )
    expect(screen.locator(".wordcloud-cloud li[data-key=busy]")).to_have_count(1, timeout=LIVE)
    check("wordcloud")

    room.go("on-track")
    votes = [(ann, {"choice": "yes"}), (bo, {"choice": "yes"}), (cy, {"choice": "no"})]
    room.votes("on-track", votes)
    expect(screen.locator(".answer-count")).to_have_text("3 people answered", timeout=LIVE)
    check("yesno-hidden")
    room.act("show", question_id="on-track")
    columns = screen.locator("ul.bars.big.vertical .bar-row")
    expect(columns).to_have_count(2, timeout=LIVE)
    check("yesno")
    # The columns fill the screen's height: the bars stand over its lower half.
    box = screen.locator("ul.bars.big").bounding_box()
    assert box and box["height"] > 0.5 * 1080 and box["y"] < 0.3 * 1080, box

    room.go("best-part")
    room.votes(
        "best-part",
        [
            (ann, {"choices": ["pairing"]}),
            (bo, {"choices": ["pairing"]}),
            (cy, {"choices": ["_other"], "other": "Mob programming on Fridays"}),
        ],
    )
    expect(screen.locator("ul.cards.small li")).to_have_count(1, timeout=LIVE)
    check("choice")

    room.go("how-it-felt")
    ratings = (
        "our-workload-is-manageable",
        "our-meetings-are-useful",
        "i-learn-something-new-every-week",
    )
    room.votes(
        "how-it-felt",
        [(phone, {"ratings": {s: (n + i) % 5 + 1 for i, s in enumerate(ratings)}})
         for n, phone in enumerate((ann, bo, cy))],
    )  # fmt: skip
    expect(screen.locator(".scale-mean strong").first).to_be_visible(timeout=LIVE)
    check("scale")

    room.go("next-focus")
    room.votes(
        "next-focus",
        [
            (ann, {"rank-1": "test-automation", "rank-2": "onboarding", "rank-3": "documentation"}),
            (
                bo,
                {"rank-1": "onboarding", "rank-2": "test-automation", "rank-3": "customer-visits"},
            ),
        ],
    )
    expect(screen.locator("ol.ranking-bars .bar-row").first).to_contain_text(
        re.compile("Test automation|Onboarding"), timeout=LIVE
    )
    check("ranking")

    room.go("one-change")
    room.votes(
        "one-change",
        [
            (ann, {"text": "Fewer meetings on Mondays"}),
            (bo, {"text": "Pair on every release"}),
            (cy, {"text": "A quiet room for focus work"}),
            (ann, {"text": "Demo every sprint"}),
        ],
    )
    expect(screen.locator("ul.cards li")).to_have_count(4, timeout=LIVE)
    check("open")

    room.go("ask-the-lead")
    room.votes("ask-the-lead", [(ann, {"text": "When do we hire the next tester?", "name": "Ann"})])
    # The console approves it (its snapshot may lag a moment behind the phone's ack).
    asked: list[dict[str, Any]] = []

    def on_the_console() -> bool:
        console = room.loop.run(room.facilitator.snapshot("console"))
        here = console["item"]["id"] == "ask-the-lead"
        asked[:] = console["results"]["questions"] if here else []
        return bool(asked)

    eventually_sync(on_the_console, "the question on the console", within=LIVE / 1000 * 4)
    ref = asked[0]["ref"]
    room.act("mark", question_id="ask-the-lead", key=f"state:{ref}", value="approved")
    room.votes("ask-the-lead", [(bo, {"up": ref}), (cy, {"up": ref})])
    expect(screen.locator(".qa-wall")).to_contain_text("next tester", timeout=LIVE)
    expect(screen.locator(".qa-wall")).to_contain_text("2 votes", timeout=LIVE)
    check("qa")

    room.go("releases")
    expect(screen.locator(".quiz-tiles li")).to_have_count(3, timeout=LIVE)
    check("quiz")
    room.votes(
        "releases",
        [
            (ann, {"choice": "twelve", "nickname": "Ann"}),
            (bo, {"choice": "four", "nickname": "Bo"}),
            (cy, {"choice": "twelve", "nickname": "Cy"}),
        ],
    )
    room.act("close", question_id="releases")
    room.act("show", question_id="releases")
    expect(screen.locator(".quiz-right")).to_contain_text("Twelve", timeout=LIVE)
    check("quiz-answer")
    room.act("mark", question_id="releases", key="leaderboard", value="shown")
    expect(screen.locator("ol.standings li")).to_have_count(3, timeout=LIVE)
    check("quiz-leaderboard")

    room.go("coffee")
    room.votes("coffee", [(ann, {"choice": "stroopwafels"}), (bo, {"choice": "stroopwafels"})])
    room.go("standings")
    expect(screen.locator(".podium-name")).to_have_count(3, timeout=LIVE)
    check("podium")
    picture = readme_image("projector.png")
    if picture is not None:
        room.go("best-part")
        room.act("show", question_id="best-part")
        expect(screen.locator("ul.bars.big")).to_be_visible(timeout=LIVE)
        projector.wait_for_timeout(300)
        projector.screenshot(path=str(picture))

    room.act("end")
    expect(screen.locator(".ended-screen")).to_be_visible(timeout=LIVE)
    # The end says thank you, and no longer where to join.
    expect(projector.locator(".join-at")).to_be_hidden()
    expect(projector.locator("#join")).to_be_hidden()
    expect(projector.locator("#footer-count")).to_be_attached()
    check("ended")
    room.close()
    assert not problems, "\n".join(problems)


def visible_cards(page: Any) -> list[dict[str, Any]]:
    """The wall's cards on the screen now: text, whether inside the list and unclipped."""
    return list(
        page.evaluate(
            """() => {
      const list = document.querySelector('.wall ul.cards');
      const box = list.getBoundingClientRect();
      return [...list.querySelectorAll('li')].filter(li => li.checkVisibility()).map(li => {
        const r = li.getBoundingClientRect();
        const inside = r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
          && r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
        const fits = li.scrollWidth <= li.clientWidth + 1
          && li.scrollHeight <= li.clientHeight + 1;
        return { text: li.textContent, inside, fits,
                 size: parseFloat(getComputedStyle(li).fontSize) };
      });
    }"""
        )
    )


def test_the_wall_shows_every_answer_at_60_150_and_300(
    browser: Any, server: PollServer, loop: Loop, artifacts: Path
) -> None:
    room = Room(loop, browser, server, "drill")
    projector = room.projector
    phones = room.join(15)
    room.go("ideas")
    long_word = "https://example.org/" + "averyveryverylongpathwithoutanybreak" * 3
    sent: list[str] = []
    for total in (60, 150, 300):
        answers = []
        for n in range(len(sent), total):
            text = long_word if n == 0 else f"Idea {n + 1}: " + "more trees " * (n % 4)
            answers.append((phones[n % len(phones)], {"text": text.strip()}))
            sent.append(text.strip())
        room.votes("ideas", answers)
        pages_label = projector.locator(".wall-pages")
        expect(pages_label).to_have_text(re.compile(r"^Page \d+ of \d+$"), timeout=LIVE)
        expect(projector.locator(".wall ul.cards > li")).to_have_count(total, timeout=LIVE)
        projector.wait_for_timeout(200)
        pages = int(re.findall(r"\d+", pages_label.inner_text())[1])
        assert pages >= 2
        seen: set[str] = set()
        for page in range(pages):
            expect(pages_label).to_contain_text(f"of {pages}")
            cards = visible_cards(projector)
            assert cards, f"{total} answers: page {page + 1} is empty"
            assert all(card["inside"] and card["fits"] for card in cards), (total, page, cards)
            assert all(card["size"] >= 28 for card in cards), cards
            seen |= {card["text"] for card in cards}
            assert not small_texts(projector)
            if page == 0 and total == 150:
                found = violations(projector)
                assert not found, found
            if page == 0 and total == 300:
                projector.screenshot(path=str(artifacts / "projector-wall-300.png"))
            projector.keyboard.press("ArrowDown")
        assert seen == set(sent), f"{total} answers: {len(set(sent) - seen)} never shown"
        # Round the pages: back on the first, which holds the long word, wrapped.
        expect(pages_label).to_have_text(f"Page 1 of {pages}")
    projector.keyboard.press("ArrowUp")
    expect(projector.locator(".wall-pages")).to_contain_text("Page ")

    # The facilitator features the long one from the console's list: full screen.
    console = room.context.new_page()
    console.goto(f"{server.url}/console/room/{room.room_id}")
    card = console.locator("ul.texts li", has_text="averyvery").first
    card.get_by_role("button", name=re.compile("^Feature on the projector")).click()
    featured = projector.locator(".featured-card blockquote")
    expect(featured).to_contain_text("averyvery", timeout=LIVE)
    box = projector.locator(".featured-card").bounding_box()
    assert box and box["height"] > 0.6 * 1080 and box["width"] > 0.8 * 1920, box
    quote = featured.bounding_box()
    assert quote and quote["x"] >= 0 and quote["x"] + quote["width"] <= 1920, quote
    assert projector.evaluate(
        "() => { const q = document.querySelector('.featured-card blockquote');"
        " return q.scrollWidth <= q.clientWidth + 1; }"
    )
    projector.screenshot(path=str(artifacts / "projector-featured.png"))
    expect(console.locator("ul.texts li", has_text="averyvery").first).to_contain_text(
        "on the projector", timeout=LIVE
    )
    console.locator("ul.texts li", has_text="averyvery").first.get_by_role(
        "button", name=re.compile("^Back to the wall")
    ).click()
    expect(projector.locator(".wall")).to_be_visible(timeout=LIVE)
    room.close()


def test_full_screen_by_key_and_button_and_the_pointer_hides_when_idle(
    browser: Any, server: PollServer, loop: Loop
) -> None:
    room = Room(loop, browser, server, "drill")
    projector = room.projector
    body = projector.locator("body")
    button = projector.locator("#fullscreen")
    expect(button).to_be_visible()
    projector.keyboard.press("f")
    expect(body).to_have_class(re.compile(r"\bfullscreen\b"), timeout=LIVE)
    expect(button).to_be_hidden()
    projector.keyboard.press("f")
    expect(body).not_to_have_class(re.compile(r"\bfullscreen\b"), timeout=LIVE)
    button.click()
    expect(body).to_have_class(re.compile(r"\bfullscreen\b"), timeout=LIVE)
    projector.keyboard.press("F")
    expect(body).not_to_have_class(re.compile(r"\bfullscreen\b"), timeout=LIVE)

    projector.mouse.move(200, 200)
    projector.mouse.move(300, 260)
    expect(body).not_to_have_class(re.compile(r"\bidle\b"))
    expect(body).to_have_class(re.compile(r"\bidle\b"), timeout=8000)  # after ~3 s still
    assert projector.evaluate("getComputedStyle(document.querySelector('main')).cursor") == "none"
    projector.mouse.move(500, 500)
    expect(body).not_to_have_class(re.compile(r"\bidle\b"))
    room.close()


@pytest.mark.parametrize("motion", ["no-preference", "reduce"])
def test_bars_grow_as_votes_arrive_unless_the_computer_asks_for_less_motion(
    browser: Any, server: PollServer, loop: Loop, motion: str
) -> None:
    room = Room(loop, browser, server, "drill", motion=motion)
    projector = room.projector
    first, second = room.join(2)
    room.go("ready")
    expect(projector.locator("ul.bars.big.vertical .bar-row")).to_have_count(2, timeout=LIVE)
    # Every transition a bar starts, as the browser reports it.
    projector.evaluate(
        "() => { window.grown = []; document.addEventListener('transitionrun', (event) => {"
        " if (event.target.matches('[data-grow]')) window.grown.push(event.propertyName); }); }"
    )
    values = projector.locator("ul.bars.big .bar-value")
    room.votes("ready", [(first, {"choice": "yes"})])
    expect(values.first).to_contain_text("1 (100%)", timeout=LIVE)
    room.votes("ready", [(second, {"choice": "no"})])
    expect(values.nth(1)).to_contain_text("1 (50%)", timeout=LIVE)
    if motion == "reduce":
        # Two frames: time enough for a transition to have started, had there been one.
        projector.evaluate(
            "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
        )
        assert projector.evaluate("window.grown") == []
    else:
        projector.wait_for_function("window.grown.includes('height')", timeout=LIVE)
    room.close()


def test_every_screen_of_the_dutch_deck_session_is_made_for_the_room(
    browser: Any, sample_server: PollServer, loop: Loop, artifacts: Path
) -> None:
    """The Dutch sample session ("Gemengde wijken"): its theme (accent, logo, light), the
    pages of its PDF deck and the questions between them, at every size."""
    room = Room(loop, browser, sample_server, "gemengde-wijken")
    projector = room.projector
    screen = projector.locator("#screen")
    pages = [item for item in room.facilitator.items if item.startswith("dia")]
    assert len(pages) == 11, room.facilitator.items
    problems: list[str] = []

    def check(name: str) -> None:
        problems.extend(check_screen(projector, f"nl-{name}", artifacts, stock_dark=False))

    def page_shown(item_id: str) -> None:
        room.go(item_id)
        picture = screen.locator(".picture-slide figure.picture img")
        expect(picture).to_be_visible(timeout=LIVE)
        # The page's pixels are in before the layout is taken.
        projector.wait_for_function(
            "() => { const i = document.querySelector('#screen figure.picture img');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=LIVE,
        )

    ann, bo, cy = room.join(3)
    expect(projector.locator("#join")).to_be_visible(timeout=LIVE)
    # The session's logo is on the join screen, and the theme's stylesheet is in.
    expect(projector.locator("#join img.join-logo")).to_be_visible()
    assert projector.evaluate("document.querySelector('#join img.join-logo').naturalWidth") > 0
    assert projector.locator("link[href^='/theme/light-0b5e4b-']").count() == 1
    check("join")
    projector.keyboard.press("j")
    expect(projector.locator("#join")).to_be_hidden()

    page_shown(pages[0])
    check("deck-first")
    page_shown(pages[4])
    check("deck-middle")

    room.go("herkennen")
    room.votes("herkennen", [(ann, {"choice": "yes"}), (bo, {"choice": "yes"}),
                             (cy, {"choice": "no"})])  # fmt: skip
    room.act("hide", question_id="herkennen")
    expect(screen.locator(".answer-count")).to_be_visible(timeout=LIVE)
    expect(screen.locator("ul.bars.big")).to_have_count(0, timeout=LIVE)
    check("yesno-hidden")
    room.act("show", question_id="herkennen")
    expect(screen.locator("ul.bars.big.vertical .bar-row")).to_have_count(2, timeout=LIVE)
    check("yesno")

    room.go("aanvullende-vragen")
    room.votes(
        "aanvullende-vragen",
        [
            (ann, {"text": "Hoe betrekken we bewoners die niet naar bijeenkomsten komen?"}),
            (bo, {"text": "Wat werkt in andere steden?"}),
            (cy, {"text": "Welke rol hebben woningcorporaties?"}),
            (ann, {"text": "Hoe meten we inclusie?"}),
        ],
    )
    expect(screen.locator("ul.cards li")).to_have_count(4, timeout=LIVE)
    check("open")

    room.go("huidige-netwerken")
    room.votes("huidige-netwerken", [(ann, {"choices": ["voldoende"]}),
                                     (bo, {"choices": ["nieuw-aanbod-nodig"]}),
                                     (cy, {"choices": ["nieuw-aanbod-nodig"]})])  # fmt: skip
    expect(screen.locator("ul.bars.big .bar-row")).to_have_count(2, timeout=LIVE)
    check("choice-networks")

    page_shown(pages[9])
    check("deck-part-two")

    room.go("met-wie")
    room.votes("met-wie", [(ann, {"choices": ["vakgenoten", "bewoners"]}),
                           (bo, {"choices": ["beleidsmakers", "bewoners", "bestuurders"]}),
                           (cy, {"choices": ["uitvoerend-professionals"]})])  # fmt: skip
    expect(screen.locator("ul.bars.big .bar-row")).to_have_count(5, timeout=LIVE)
    check("choice-with-whom")

    room.go("schaalniveau")
    room.votes("schaalniveau", [(ann, {"choices": ["lokaal"]}), (bo, {"choices": ["regionaal"]}),
                                (cy, {"choices": ["lokaal"]})])  # fmt: skip
    expect(screen.locator("ul.bars.big .bar-row")).to_have_count(3, timeout=LIVE)
    check("choice-scale")

    room.go("manieren")
    room.votes("manieren", [(ann, {"choices": ["intervisie", "stadslabs"]}),
                            (bo, {"choices": ["_other"], "other": "Wijkwandelingen met bewoners"}),
                            (cy, {"choices": ["casusbespreking", "actie-onderzoek"]})])  # fmt: skip
    expect(screen.locator("ul.cards.small li")).to_have_count(1, timeout=LIVE)
    check("choice-ways")

    page_shown(pages[10])
    check("deck-last")

    room.act("end")
    expect(screen.locator(".ended-screen")).to_be_visible(timeout=LIVE)
    check("ended")
    room.close()
    assert not problems, "\n".join(problems)
