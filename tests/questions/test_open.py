"""An open question's featured card: the one mark it takes, and who sees the card."""

from __future__ import annotations

from poll.answers import Aggregate, TextEntry
from poll.questions.open import FEATURED, Open


def question() -> Open:
    return Open(id="idea", title="Your idea?", max_answers=3)


def aggregate(featured: str | None, hidden: bool = False) -> Aggregate:
    texts = (TextEntry("r1", "More trees"), TextEntry("r2", "Benches", hidden=hidden))
    marks = {FEATURED: featured} if featured else {}
    return Aggregate(respondents=2, texts=texts, marks=marks)


def test_the_console_may_feature_one_card_or_none_and_set_no_other_mark() -> None:
    open_question = question()
    assert open_question.mark_allowed("featured", "r2")
    assert open_question.mark_allowed("featured", None)
    assert not open_question.mark_allowed("featured", "r 2; drop")
    assert not open_question.mark_allowed("pinned", "r2")
    assert not open_question.mark_allowed("hide:r2", "1")


def test_the_projector_gets_the_featured_card_and_phones_never_do() -> None:
    open_question = question()
    shown = open_question.results_for(aggregate("r2"), "projector")
    assert shown["featured"] == {"ref": "r2", "text": "Benches", "hidden": False}
    assert open_question.results_for(aggregate(None), "projector")["featured"] is None
    assert "featured" not in open_question.results_for(aggregate("r2"), "participant")


def test_a_featured_card_hidden_later_leaves_the_projector_but_stays_marked_in_the_console() -> (
    None
):
    open_question = question()
    assert open_question.results_for(aggregate("r2", hidden=True), "projector")["featured"] is None
    console = open_question.results_for(aggregate("r2", hidden=True), "console")["featured"]
    assert console == {"ref": "r2", "text": "Benches", "hidden": True}
