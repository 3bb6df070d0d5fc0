"""The presenter's controls as plain form posts (a console without JavaScript): the
join screen and hidden results are the room's, so the projector page follows them."""

from __future__ import annotations

from tests.web.conftest import World, csrf_of


def projector_page(world: World, room: str) -> str:
    return world.client.get(f"/projector/{room}").text


def test_the_join_screen_button_works_without_javascript(world: World) -> None:
    room, _code = world.start_run()
    assert 'class="join"' in projector_page(world, room)  # the first item: automatic
    console = world.client.get(f"/console/room/{room}").text
    assert 'id="btn-join" class="secondary toggle" aria-pressed="true"' in console
    world.act(room, "join", shown="0")
    assert 'class="join off"' in projector_page(world, room)
    console = world.client.get(f"/console/room/{room}").text
    assert 'aria-pressed="false"' in console and 'name="shown" value="1"' in console
    world.act(room, "next")
    world.act(room, "join", shown="1")
    assert 'class="join"' in projector_page(world, room)
    world.act(room, "next")
    assert 'class="join off"' in projector_page(world, room)


def test_a_join_action_that_does_not_say_on_or_off_is_refused_and_says_why(
    world: World,
) -> None:
    room, _code = world.start_run()
    csrf = csrf_of(world.client.get(f"/console/room/{room}").text)
    reply = world.client.post(
        f"/console/room/{room}", data={"csrf": csrf, "action": "join", "shown": "maybe"}
    )
    assert reply.status_code == 409
    assert "Say whether to show the join screen." in reply.text
    assert 'id="console-error" class="console-error" role="alert">' in reply.text


def test_hide_results_hides_a_live_question_on_the_projector(world: World) -> None:
    room, _code = world.start_run()
    world.go_to(room, "herkennen")  # results: live
    assert "hidden-results" not in projector_page(world, room)
    world.act(room, "hide", question_id="herkennen")
    assert "hidden-results" in projector_page(world, room)
    console = world.client.get(f"/console/room/{room}").text
    assert "results hidden on the projector" in console and "Show results" in console
    world.act(room, "show", question_id="herkennen")
    assert "hidden-results" not in projector_page(world, room)
