"""A content slide: a title and a short body in a safe Markdown subset."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self

from markdown_it import MarkdownIt

from poll.i18n import N_
from poll.questions.base import Item

if TYPE_CHECKING:
    from poll.spec import SpecReader

#: Link targets a slide may use; anything else (javascript:, data:, …) stays text.
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


@cache
def _markdown() -> MarkdownIt:
    # The "zero" preset enables nothing; we switch on only the subset the
    # script format promises. html=False: raw HTML in a body is shown as text.
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["paragraph", "list", "emphasis", "link", "newline", "escape", "backticks"])
    md.validateLink = _safe_link  # type: ignore[method-assign]
    return md


def render_markdown(text: str) -> str:
    """HTML for a slide body; safe to insert unescaped (no raw HTML, safe links only)."""
    html: str = _markdown().render(text)
    return html.replace("<a href=", '<a rel="noopener noreferrer" href=')


@dataclass(frozen=True)
class Slide(Item):
    type_name: ClassVar[str] = "slide"
    keys: ClassVar[frozenset[str]] = frozenset({"id", "title", "body"})
    label: ClassVar[str] = N_("Slide")

    body: str = ""

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        title = spec.text("title", required=True, max_length=200)
        body = spec.text("body", default="", max_length=5000, strip=False)
        if title is None:
            return None
        return cls(id=item_id, title=title, body=(body or "").strip("\n"))

    @property
    def body_html(self) -> str:
        return render_markdown(self.body)

    def client_view(self) -> dict[str, Any]:
        return super().client_view() | {"body_html": self.body_html}

    def to_spec(self) -> dict[str, Any]:
        return {"type": self.type_name, "id": self.id, "title": self.title, "body": self.body}
