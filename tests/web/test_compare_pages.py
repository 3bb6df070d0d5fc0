"""The console's page of a session's runs and the comparison of two of them (both stores),
in the session's language, with its downloads; only the facilitator reaches them."""

from __future__ import annotations

import csv
import io
import re

from tests.support.team_day import copy_sample
from tests.web.conftest import World, csrf_of
from tests.web.test_export import vote


def start_another(world: World, session: str) -> tuple[str, str]:
    """A further run by the facilitator, who is signed in already (another sign-in
    would give her client two session cookies)."""
    csrf = csrf_of(world.client.get("/console").text)
    response = world.client.post(
        "/console/rooms", data={"csrf": csrf, "session_id": session}, follow_redirects=False
    )
    room = response.headers["location"].rsplit("/", 1)[1]
    world.runs[room] = session
    code = re.search(r"/r/(\d{7})", world.client.get(f"/console/room/{room}").text)
    assert code
    return room, code.group(1)


def two_runs(
    world: World, session: str, question: str, first: dict[str, str], second: dict[str, str]
) -> list[str]:
    """Two runs of `session`, each with the phones' `choice` on the yes/no `question`."""
    copy_sample(world.sessions.parent)
    made = []
    for number, votes in enumerate((first, second)):
        room, code = world.start_run(session) if number == 0 else start_another(world, session)
        world.go_to(room, question)
        for person, choice in votes.items():
            vote(world, code, person, question, choice=choice)
        made.append(room)
    return made


def test_a_session_page_lists_its_runs_and_compares_two(world: World) -> None:
    first, second = two_runs(
        world,
        "team-day",
        "on-track",
        {"anna": "yes", "bram": "yes"},
        {"anna": "no", "bram": "yes", "cor": "yes"},
    )
    home = world.client.get("/console").text
    assert 'href="/console/session/team-day"' in home
    page = world.client.get("/console/session/team-day")
    assert page.status_code == 200
    rows = re.findall(r'<tr>\s*<td><input type="checkbox" name="run" value="([^"]+)"', page.text)
    assert rows == [second, first]  # newest first
    assert re.search(r'<td class="number">3</td>\s*<td class="number">3</td>', page.text)
    assert re.search(r'<td class="number">2</td>\s*<td class="number">2</td>', page.text)

    compared = world.client.get(f"/console/session/team-day/compare?run={second}&run={first}")
    assert compared.status_code == 200
    html = compared.text
    assert "Did we reach the goals we set for this quarter?" in html
    # yes: 100% then 66.7% of three; no: 0% then 33.3%.
    assert "2 · 100.0%" in html and "2 · 66.7%" in html and "1 · 33.3%" in html
    assert "-33.3 pp" in html and "+33.3 pp" in html
    assert '<rect class="mini-fill" width="66.7"' in html
    # Run 1 is the older one, whatever the order asked.
    assert html.index(first) < html.index(second)

    workbook = world.client.get(f"/console/session/team-day/runs.xlsx?run={first}&run={second}")
    assert workbook.status_code == 200 and workbook.content.startswith(b"PK")
    answers = world.client.get(f"/console/session/team-day/runs.csv?run={first}&run={second}")
    table = list(csv.DictReader(io.StringIO(answers.content.decode("utf-8-sig"))))
    assert [row["run"] for row in table] == [first] * 2 + [second] * 3
    every = world.client.get("/console/session/team-day/runs.csv?kind=summary&sep=semicolon")
    assert every.content.decode("utf-8-sig").startswith("run;run_started;room_code")


def test_a_dutch_session_is_compared_in_dutch(world: World) -> None:
    first, second = two_runs(
        world, "gemengde-wijken", "herkennen", {"anna": "yes", "bram": "no"}, {"anna": "yes"}
    )
    html = world.client.get(
        f"/console/session/gemengde-wijken/compare?run={first}&run={second}"
    ).text
    assert "gehouden sessies vergeleken" in html
    assert "+50.0 procentpunt" in html and "-50.0 procentpunt" in html


def test_comparing_needs_two_known_runs_and_the_facilitator(world: World) -> None:
    first, second = two_runs(world, "team-day", "on-track", {"anna": "yes"}, {"bram": "no"})
    one = world.client.get(f"/console/session/team-day/compare?run={first}")
    assert one.status_code == 400 and "Choose two or more runs to compare." in one.text
    assert (
        world.client.get(f"/console/session/team-day/compare?run={first}&run=nope").status_code
        == 404
    )
    assert world.client.get("/console/session/no-such-session").status_code == 404
    assert world.client.get("/console/session/team-day/runs.pdf").status_code == 404
    with world.as_("stranger") as stranger:
        for path in (
            "/console/session/team-day",
            f"/console/session/team-day/compare?run={first}&run={second}",
            "/console/session/team-day/runs.xlsx",
            "/console/session/team-day/runs.csv",
        ):
            assert stranger.get(path).status_code == 403, path


def test_a_session_without_runs_says_so(world: World) -> None:
    world.sign_in()
    page = world.client.get("/console/session/retro")
    assert page.status_code == 200
    assert "This session has no runs yet." in page.text and 'name="run"' not in page.text
