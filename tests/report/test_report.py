"""The results report of the sample session (every item type), played on each store: it
is valid HTML with nothing to fetch and no script, it has a chart per question whose
numbers are the summary CSV's, and texts hidden during the run stay out of it unless
the facilitator asks for them."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from typing import Any

import html5lib
import pytest

from poll.export import export_chunks
from poll.report import build_report
from poll.rooms import Room
from poll.store.base import Store
from poll.web.report import content_security_policy, render_report, stylesheet
from tests.report.sample import (
    HIDDEN_QUESTION,
    HIDDEN_TEXT,
    HIDDEN_WORD,
    PENDING_QUESTION,
    play_sample,
)

#: The question types whose part is a chart (the others are lists of texts).
CHARTED = {"choice", "yesno", "scale", "ranking", "wordcloud", "quiz"}


async def report_html(room: Room, *, include_hidden: bool = False) -> str:
    return render_report(await build_report(room, include_hidden=include_hidden))


async def summary(room: Room) -> dict[str, list[tuple[str, int, str]]]:
    """The summary CSV's rows per question id: (option, count, percent)."""
    data = b"".join([chunk async for chunk in await export_chunks(room, kind="summary")])
    rows: dict[str, list[tuple[str, int, str]]] = defaultdict(list)
    for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig"))):
        rows[row["question_id"]].append(
            (row["option"], int(row["count"]), row["percent_of_respondents"])
        )
    return rows


def parse_strict(html: str) -> Any:
    """The page as html5lib's strict parser reads it: any parse error fails the test."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(html)


def sections(document: Any) -> dict[str, Any]:
    """The report's item sections by the question type they show."""
    found: dict[str, Any] = {}
    for section in document.iter("section"):
        kind = next(c for c in section.get("class", "").split() if c.startswith("item-"))
        found.setdefault(kind.removeprefix("item-"), []).append(section)
    return found


SVG = "{http://www.w3.org/2000/svg}"


def svgs(element: Any) -> list[Any]:
    """The SVG charts inside `element` (html5lib puts them in the SVG namespace)."""
    return list(element.iter(SVG + "svg"))


def text_of(element: Any) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


async def test_the_report_is_valid_self_contained_html(store: Store) -> None:
    played = await play_sample(store)
    html = await report_html(played.room)
    document = parse_strict(html)
    # Nothing to run and nothing to fetch: no script, no link, no image or frame source.
    assert document.find(".//script") is None
    for element in document.iter():
        for attribute in ("src", "href", "action", "srcset", "poster"):
            assert element.get(attribute) is None, (element.tag, attribute)
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html
    assert "url(" not in stylesheet() and "@import" not in stylesheet()
    # Its one style block is what the served page's policy allows, and nothing else.
    styles = document.findall(".//style")
    assert len(styles) == 1 and styles[0].text == stylesheet()
    assert "script-src" not in content_security_policy(stylesheet())
    # In the session's language, with the session's facts on top.
    assert document.get("lang") == "en"
    assert document.find(".//h1").text == "Team day: every question type"
    facts = {
        text_of(div.find("dt")): text_of(div.find("dd"))
        for div in document.iter("div")
        if div.find("dt") is not None
    }
    assert facts["Participants"] == "4"
    assert facts["Duration"] in {"1 minute", "2 minutes"}
    assert re.fullmatch(r"\w+ \d{1,2}, \d{4}", facts["Date"])


async def test_every_question_has_its_part_and_slides_head_sections(store: Store) -> None:
    played = await play_sample(store)
    document = parse_strict(await report_html(played.room))
    headings = [text_of(h) for h in document.iter("h2") if "section-heading" in h.get("class", "")]
    assert headings == ["Welcome to the team day", "Quiz time"]
    found = sections(document)
    questions = played.room.session.questions
    for kind in {q.type_name for q in questions.values()}:
        count = sum(1 for q in questions.values() if q.type_name == kind)
        assert len(found.get(kind, [])) == count, kind
    for kind in CHARTED:
        for section in found[kind]:
            charts = svgs(section)
            assert charts, kind
            for chart in charts:
                # One image for a screen reader, named by its numbers; the numbers
                # also as text (a table) beside it.
                assert chart.get("role") == "img" and chart.get("aria-label"), kind
                assert chart.find(SVG + "title") is not None
            assert section.find(".//table") is not None, kind
    # The leaderboard: its players by place, nicknames only, as the standings CSV has them.
    board = found["leaderboard"][0]
    rows = [[text_of(cell) for cell in row] for row in board.find(".//tbody")]
    standings = (await played.room.standings()).entries
    assert rows == [[str(e.place), e.name, str(e.score)] for e in standings]
    assert [row[1] for row in rows] == ["Ann", "Bo"]


async def test_the_charts_numbers_are_the_summary_csv(store: Store) -> None:
    played = await play_sample(store)
    room = played.room
    report = await build_report(room)
    csv_rows = await summary(room)
    document = parse_strict(render_report(report))
    by_prompt = {
        text_of(s.find("h2") if s.find("h2") is not None else s.find("h3")): s
        for s in document.iter("section")
    }
    for question in room.session.questions.values():
        if question.type_name not in {"choice", "yesno", "quiz"}:
            continue
        section = by_prompt[question.prompt]
        table = [[text_of(cell) for cell in row] for row in section.find(".//tbody")]
        expected = csv_rows[question.id]
        assert len(table) == len(expected), question.id
        for (label, count, percent), (cell, *numbers) in zip(expected, table, strict=True):
            assert cell.startswith(label.removesuffix(" (correct)")), (label, cell)
            assert numbers == [str(count), f"{percent}%"], question.id
        # The chart's name carries the same counts.
        name = svgs(section)[0].get("aria-label")
        for label, count, percent in expected:
            assert f"{label.removesuffix(' (correct)')} {count} · {percent}%" in name
    # The ranking's order and points, and the scale's counts per step.
    ranking = by_prompt["What should we work on first next quarter?"]
    ranked = [[text_of(c) for c in row][:3] for row in ranking.find(".//tbody")]
    assert [(r[1], int(r[2])) for r in ranked] == [
        (label, count) for label, count, _ in csv_rows["next-focus"]
    ]
    scale = by_prompt["How much do you agree?"]
    steps = [int(text_of(row[1])) for table in scale.iter("tbody") for row in table]
    assert steps == [count for _, count, _ in csv_rows["how-it-felt"]]
    assert "Mean 3.7" in text_of(scale)
    # The word cloud: each visible word once, sized by its count.
    cloud = svgs(by_prompt["The last quarter in a word or two?"])[0]
    sizes = {text_of(w): float(w.get("font-size")) for w in cloud.iter(SVG + "text")}
    assert set(sizes) == {"Busy", "fun", "Hectic", "calm"}
    assert sizes["Busy"] > sizes["fun"] == sizes["calm"]


async def test_hidden_texts_stay_out_unless_asked_for(store: Store) -> None:
    played = await play_sample(store)
    shared = await report_html(played.room)
    for text in (HIDDEN_TEXT, HIDDEN_WORD, HIDDEN_QUESTION, PENDING_QUESTION):
        assert text not in shared
    assert "Fewer meetings on Monday" in shared and "Lunch walks" in shared
    assert "When is the next team outing?" in shared
    # No participant id, nor its pseudonym, is anywhere in it.
    for who in ("phone-ann", "phone-bo", "phone-cy", "phone-dee"):
        assert who not in shared
    assert not re.search(r"\bp-[0-9a-f]{8}\b", shared)

    own = await report_html(played.room, include_hidden=True)
    parse_strict(own)
    for text in (HIDDEN_TEXT, HIDDEN_WORD, HIDDEN_QUESTION, PENDING_QUESTION):
        assert text in own
    assert "This copy includes the answers you hid" in own


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_the_report_speaks_the_sessions_language(store: Store) -> None:
    from poll.rooms import Rooms
    from poll.script import load_script
    from tests.report.sample import ROOT

    script = load_script(ROOT / "sessions.yaml")
    dutch = next(s for s in script.sessions.values() if s.language == "nl")
    rooms = Rooms(store, lambda: script)
    room = await rooms.create(dutch.id)
    await room.go(dutch.index_of("herkennen"))
    for who, choice in (("p1", "yes"), ("p2", "yes"), ("p3", "no")):
        await room.vote(who, "herkennen", f"s-{who}", {"choice": choice})
    await room.end()
    document = parse_strict(await report_html(room))
    assert document.get("lang") == "nl"
    text = text_of(document)
    assert "Deelnemers" in text and "Datum" in text and "3 mensen hebben geantwoord" in text
    # Dutch numbers: a decimal comma; the month in Dutch.
    assert "Ja 2 · 66,7%" in svgs(document)[0].get("aria-label")
    assert re.search(
        r"\d{1,2} (januari|februari|maart|april|mei|juni|juli|augustus|"
        r"september|oktober|november|december) \d{4}",
        text,
    )
