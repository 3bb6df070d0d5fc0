"""A word cloud in Chromium: a phone writes its words with JavaScript (the next input
appears as she fills one) and without it (plain inputs); the projector's cloud grows with
every vote while each word keeps its place; the console hides a word, which leaves the
projector and the phones; every new screen passes an accessibility scan."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from tests.browser.test_session import LIVE, PHONE, Console, expect, shot, start_run, violations
from tests.support.scripts import number_of
from tests.support.servers import PollServer

pytestmark = pytest.mark.browser

SESSION = "words"
_phones = itertools.count()


def phone_votes(server: PollServer, code: str, *answers: list[str]) -> None:
    """Each answer from another phone without JavaScript (a form post per phone)."""
    for words in answers:
        with httpx.Client(base_url=server.url, follow_redirects=False) as phone:
            page = phone.get(f"/r/{code}").text
            token = re.search(r'name="token" value="([^"]+)"', page)
            question = re.search(r'name="question_id" value="([^"]+)"', page)
            assert token and question
            data = {
                "token": token.group(1),
                "question_id": question.group(1),
                "submission_id": f"p{next(_phones)}",
                "words": words,
            }
            assert phone.post(f"/r/{code}", data=data).status_code == 303


def cloud_word(projector: Any, text: str) -> Any:
    return projector.locator(".wordcloud-stage span", has_text=re.compile(f"^{re.escape(text)}$"))


def centre(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box, "the word is not on the screen"
    return (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def font_size(locator: Any) -> float:
    return float(locator.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def settled(projector: Any) -> None:
    """Wait until the cloud's words have finished growing (their transitions ended)."""
    projector.wait_for_function(
        "() => [...document.querySelectorAll('.wordcloud-stage span')]"
        ".every(e => e.getAnimations().length === 0)",
        timeout=LIVE,
    )


def overlapping(projector: Any) -> list[str]:
    """Pairs of the cloud's words whose boxes overlap (by more than a pixel)."""
    found: list[str] = projector.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll('.wordcloud-stage span')]
            .map(e => [e.textContent, e.getBoundingClientRect()]);
          const out = [];
          boxes.forEach(([a, r], i) => boxes.slice(i + 1).forEach(([b, s]) => {
            const x = Math.min(r.right, s.right) - Math.max(r.left, s.left);
            const y = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
            if (x > 1 && y > 1) out.push(`${a} / ${b}`);
          }));
          return out;
        }"""
    )
    return found


def test_words_from_phones_grow_a_cloud_whose_words_keep_their_places(
    browser: Any, server: PollServer, artifacts: Path
) -> None:
    console_page, code = start_run(browser, server, "Words for the square")
    console = Console(console_page)
    console.go(number_of("one-word", SESSION))
    console.go(number_of("square-words", SESSION))  # going there opens it
    projector = console_page.context.new_page()
    projector.set_viewport_size({"width": 1920, "height": 1080})
    projector.goto(
        server.url + (console_page.locator("#open-projector").get_attribute("href") or "")
    )
    projector.keyboard.press("j")  # the first item shows the join screen over it: off
    expect(projector.locator("#join")).to_be_hidden(timeout=LIVE)
    expect(projector.locator("#screen")).to_contain_text("No words yet.")

    # A phone with JavaScript: one input at first, the next appears as she writes.
    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    phone.goto(f"{server.url}/r/{code}")
    first, second, third = (phone.get_by_label(f"Word {n}") for n in (1, 2, 3))
    expect(first).to_be_visible(timeout=LIVE)
    expect(second).to_be_hidden()
    first.fill("Trees")
    expect(second).to_be_visible()
    expect(third).to_be_hidden()
    second.click()
    second.type("benches")
    second.press("Enter")  # the next word, not sending
    expect(third).to_be_focused()
    expect(phone.locator("#vote-status")).to_have_text("")
    expect(phone.locator(".wordcloud-counter")).to_have_text("2 of 3 words")
    shot(phone, artifacts, "phone-wordcloud-form")
    assert not violations(phone)
    phone.get_by_role("button", name="Send answer").click()
    expect(phone.locator("#vote-status")).to_have_text("Your answer is saved.", timeout=LIVE)
    # Redrawn for her answer: her words in the inputs, the empty third one out of sight.
    expect(first).to_have_value("Trees", timeout=LIVE)
    expect(second).to_have_value("benches")
    expect(third).to_be_visible()  # one past the last word she wrote
    expect(phone.get_by_role("button", name="Change answer")).to_be_visible()

    # The projector: her words in the cloud.
    trees = cloud_word(projector, "Trees")
    expect(trees).to_be_visible(timeout=LIVE)
    expect(cloud_word(projector, "benches")).to_be_visible()
    settled(projector)
    where = centre(trees)
    size = font_size(trees)

    # A new word arrives: Trees stays where it was.
    phone_votes(server, code, ["Water", "light"])
    expect(cloud_word(projector, "Water")).to_be_visible(timeout=LIVE)
    settled(projector)
    assert centre(trees) == pytest.approx(where, abs=1)
    # Trees gets more votes (in other spellings): it grows, in the same place.
    phone_votes(server, code, ["Trees!", "water"], ["TREES", "Light"], ["trees"])
    expect(projector.locator(".wordcloud-cloud li[data-key=trees]")).to_have_attribute(
        "data-count", "4", timeout=LIVE
    )
    settled(projector)
    assert centre(trees) == pytest.approx(where, abs=1)
    assert font_size(trees) > size
    # Another word gets votes: Trees stays put again.
    where_water = centre(cloud_word(projector, "Water"))
    phone_votes(server, code, ["light"], ["Light", "quiet"])
    expect(projector.locator(".wordcloud-cloud li[data-key=light]")).to_have_attribute(
        "data-count", "4", timeout=LIVE
    )
    settled(projector)
    assert centre(trees) == pytest.approx(where, abs=1)
    assert centre(cloud_word(projector, "Water")) == pytest.approx(where_water, abs=1)
    assert not overlapping(projector)

    # Many more phones: the cloud fills, the first words still where they were.
    vocabulary = [
        "shade", "play", "market", "music", "safe", "green", "meeting", "coffee", "bikes",
        "flowers", "fountain", "quiet", "art", "chess", "kids", "dogs", "picnic", "open space",
        "benches", "sun", "history", "community", "terrace", "lights at night",
    ]  # fmt: skip
    answers = [
        [vocabulary[(n * 7) % len(vocabulary)], vocabulary[(n * n) % len(vocabulary)], "Trees"]
        for n in range(30)
    ]
    phone_votes(server, code, *answers)
    expect(projector.locator(".wordcloud-cloud li[data-key=trees]")).to_have_attribute(
        "data-count", "34", timeout=LIVE
    )
    settled(projector)
    assert centre(trees) == pytest.approx(where, abs=1)
    assert centre(cloud_word(projector, "Water")) == pytest.approx(where_water, abs=1)
    assert not overlapping(projector)
    # Every listed word is in the picture, and the most frequent is the largest.
    listed = projector.locator(".wordcloud-cloud li").count()
    expect(projector.locator(".wordcloud-stage span")).to_have_count(listed)
    sizes = projector.evaluate(
        "() => [...document.querySelectorAll('.wordcloud-stage span')]"
        ".map(e => [e.textContent, parseFloat(getComputedStyle(e).fontSize)])"
    )
    assert max(sizes, key=lambda pair: pair[1])[0] == "Trees"
    # Every word stays readable from the back of the room.
    smallest = projector.evaluate(
        "() => Math.min(...[...document.querySelectorAll('.wordcloud-stage span')]"
        ".map(e => parseFloat(getComputedStyle(e).fontSize)))"
    )
    assert smallest >= 20
    shot(projector, artifacts, "projector-wordcloud")
    assert not violations(projector)

    # The console hides a word: it leaves the projector, and the phones once shown.
    console_page.get_by_role("button", name="Hide light", exact=True).click()
    expect(cloud_word(projector, "light")).to_have_count(0, timeout=LIVE)
    expect(projector.locator(".wordcloud-cloud li[data-key=light]")).to_have_count(0)
    settled(projector)
    assert centre(trees) == pytest.approx(where, abs=1)
    expect(console_page.locator(".wordcloud-table tr.hidden-word")).to_contain_text("light")
    shot(console_page, artifacts, "console-wordcloud")
    # She starts changing her words; the redraw for the results keeps each in its input.
    third.fill("quiet")
    console.click("Show results")
    cloud_on_phone = phone.locator(".wordcloud-phone")
    light_on_phone = cloud_on_phone.locator(".wordcloud-word", has_text=re.compile("^light$"))
    expect(cloud_on_phone).to_contain_text("Trees", timeout=LIVE)
    expect(light_on_phone).to_have_count(0)
    assert [first.input_value(), second.input_value(), third.input_value()] == [
        "Trees",
        "benches",
        "quiet",
    ]
    expect(third).to_be_focused()  # where she was typing, not the first input of the list
    phone.locator("#results").scroll_into_view_if_needed()
    shot(phone, artifacts, "phone-wordcloud-results")
    assert not violations(phone)
    # Shown again, it comes back.
    console_page.get_by_role("button", name="Show light", exact=True).click()
    expect(cloud_word(projector, "light")).to_be_visible(timeout=LIVE)
    expect(light_on_phone).to_have_count(1, timeout=LIVE)

    # Without the page script the same form is three plain inputs (axe runs as a page
    # script, so only poll's own scripts are blocked, as in the whole-session test).
    plain = browser.new_context(viewport=PHONE, is_mobile=True)
    plain.route("**/static/**/*.js", lambda route: route.abort())
    plain_phone = plain.new_page()
    plain_phone.goto(f"{server.url}/r/{code}")
    for n in (1, 2, 3):
        expect(plain_phone.get_by_label(f"Word {n}")).to_be_visible()
    plain_phone.get_by_label("Word 1").fill("Shade")
    plain_phone.get_by_label("Word 3").fill("fountain")
    shot(plain_phone, artifacts, "phone-wordcloud-nojs")
    assert not violations(plain_phone)
    plain_phone.get_by_role("button", name="Send answer").click()
    expect(plain_phone.locator("#vote-status")).to_have_text("Your answer is saved.")
    expect(plain_phone.get_by_label("Word 1")).to_have_value("Shade")
    expect(plain_phone.get_by_label("Word 2")).to_have_value("fountain")
    plain.close()
    console_page.context.close()
