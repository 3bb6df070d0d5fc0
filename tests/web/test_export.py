"""Results as CSV from the console (both stores)."""

from __future__ import annotations

import csv
import io
import re

from poll.export import neutralise
from tests.web.conftest import World


def vote(world: World, code: str, person: str, question: str, **fields: object) -> None:
    with world.as_(person) as phone:
        page = phone.get(f"/r/{code}").text
        token = re.search(r'name="token" value="([^"]+)"', page)
        assert token
        data = {"token": token.group(1), "question_id": question, "submission_id": person}
        phone.post(f"/r/{code}", data={**data, **fields})


def test_answers_and_summary_csv(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "manieren")  # multiple choice with "other"
    vote(world, code, "anna", "manieren", choices=["intervisie", "stadslabs"])
    vote(world, code, "bram", "manieren", choices=["_other"], other="=HYPERLINK(1)")
    response = world.client.get(f"/console/room/{room}/results.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    # An "other" text is told from the options: the row says the option, its column the text.
    assert sorted((r["answer"], r["other_text"]) for r in rows) == [
        ("Anders, namelijk", "'=HYPERLINK(1)"),
        ("Intervisie", ""),
        ("Stadslabs", ""),
    ]
    assert {r["question_type"] for r in rows} == {"choice-multiple"}
    assert {r["room_code"] for r in rows} == {code}
    assert len({r["participant"] for r in rows}) == 2
    assert all(r["question"] == "Op welke manier(en)?" for r in rows)

    summary = world.client.get(f"/console/room/{room}/summary.csv?sep=semicolon")
    lines = summary.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("room_code;session_id;question_id")
    intervisie = next(line for line in lines if ";Intervisie;" in line)
    assert intervisie.endswith(";1;50,0;2")  # decimal comma with ';' (Dutch Excel)


def test_both_separators_side_by_side_with_distinct_names(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "schaalniveau")  # single choice
    vote(world, code, "anna", "schaalniveau", choices=["lokaal"])
    page = world.client.get(f"/console/room/{room}").text
    links = re.findall(rf'href="/console/room/{room}/([^"]+)"', page)
    files = ["results.csv", "results.csv?sep=semicolon", "summary.csv", "summary.csv?sep=semicolon"]
    assert [link for link in links if link in files] == files  # next to each other
    names = set()
    for link in files:
        response = world.client.get(f"/console/room/{room}/{link}")
        disposition = response.headers["content-disposition"]
        named = r'attachment; filename="(poll-wijken-\d{7}-[\d-]+-[a-z-]+\.csv)"'
        found = re.fullmatch(named, disposition)
        assert found, disposition
        names.add(found.group(1).split("-", 6)[-1])
        text = response.content.decode("utf-8-sig")
        if link.endswith("semicolon"):
            assert text.startswith("room_code;session_id;")
        if link.startswith("summary"):
            lokaal = next(line for line in text.splitlines() if "Lokaal" in line)
            assert "choice-single" in lokaal
            assert lokaal.endswith(";1;100,0;1" if "semicolon" in link else ",1,100.0,1")
    assert names == {
        "answers.csv",
        "answers-excel-nl.csv",
        "summary.csv",
        "summary-excel-nl.csv",
    }


def test_csv_needs_the_facilitator(world: World) -> None:
    room, _code = world.start_run()
    with world.as_("stranger") as stranger:
        assert stranger.get(f"/console/room/{room}/results.csv").status_code == 403


def test_neutralise() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("+31 6") == "'+31 6"
    assert neutralise("-x") == "'-x"
    assert neutralise("@me") == "'@me"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("gewoon") == "gewoon"
    assert neutralise(5) == "5"


def test_only_the_three_exports_exist(world: World) -> None:
    room, _code = world.start_run()
    assert world.client.get(f"/console/room/{room}/results.csv").status_code == 200
    assert world.client.get(f"/console/room/{room}/summary.csv").status_code == 200
    leaderboard = world.client.get(f"/console/room/{room}/standings.csv")
    assert leaderboard.status_code == 200  # no quiz: no players, only the header
    assert leaderboard.content.decode("utf-8-sig").splitlines() == [
        "room_code,session_id,place,nickname,score,correct,answered,seconds,participant"
    ]
    assert world.client.get(f"/console/room/{room}/anything.csv").status_code == 404


def test_the_console_downloads_a_workbook(world: World) -> None:
    from openpyxl import load_workbook

    room, code = world.start_run()
    world.go_to(room, "manieren")
    vote(world, code, "anna", "manieren", choices=["intervisie", "stadslabs"])
    vote(world, code, "bram", "manieren", choices=["_other"], other="=HYPERLINK(1)")
    index = world.client.get("/console").text
    assert f'href="/console/room/{room}/results.xlsx"' in index
    response = world.client.get(f"/console/room/{room}/results.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert response.headers["content-disposition"].endswith('.xlsx"')
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "Samenvatting"  # the session is Dutch
    rows = list(book["Samenvatting"].iter_rows(min_row=2, values_only=True))
    intervisie = next(row for row in rows if row[5] == "Intervisie")
    assert intervisie[6:9] == (1, 0.5, 2)
    with world.as_("stranger") as stranger:
        assert stranger.get(f"/console/room/{room}/results.xlsx").status_code == 403
