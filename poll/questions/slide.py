"""A content slide: a title and a short body in a safe Markdown subset, or a picture
of the facilitator's own (an image, or a page of her PDF deck) with optional text
beside or under it; and `deck:`, the shorthand for a range of a PDF's pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self

from markdown_it import MarkdownIt

from poll.i18n import N_
from poll.media import IMAGE_KINDS, PDF_KINDS, MediaFile, text_of_page
from poll.questions.base import Item
from poll.text import clean_text

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


#: Where a picture's text goes: none beside it ("full": under it, if any), or a column.
LAYOUTS = ("full", "left", "right")
MAX_PAGE = 10_000
#: What a page without text of its own is called, by the session's language.
_PAGE_WORD = {"nl": "pagina", "en": "page"}
_PAGES = re.compile(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?")


def _first_line(text: str, limit: int = 80) -> str:
    """What lists call a picture slide without a title: the start of its alt text."""
    line = text.strip().split("\n", 1)[0].strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _lines(text: str | None) -> str | None:
    """A text alternative cleaned line by line: its lines kept (the first names the
    slide in lists), empty ones dropped; None if nothing is left."""
    if text is None:
        return None
    lines = (clean_text(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line) or None


def _read_pages(spec: SpecReader, pages: int) -> list[int] | None:
    """`pages: 1-9` (or `3`, or `1-3, 5, 7-9`) of a PDF with `pages` pages; all when absent."""
    raw = spec.data.get("pages")
    if raw is None:
        return list(range(1, pages + 1))
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str):
        spec.error("pages", "must be a page range like 1-9, or pages like 1-3, 5")
        return None
    chosen: list[int] = []
    for part in text.split(","):
        match = _PAGES.fullmatch(part)
        if match is None:
            spec.error("pages", f"{part.strip()!r} is not a page or a range like 1-9")
            return None
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first:
            spec.error("pages", f"{part.strip()!r}: a range runs from page 1 up, like 1-9")
            return None
        if last > pages:
            spec.error("pages", f"page {last} is out of range: the PDF has {pages} pages")
            return None
        chosen.extend(range(first, last + 1))
    return chosen


def _deck_id(spec: SpecReader, file: MediaFile) -> str | None:
    raw = spec.data.get("id")
    if raw is not None:
        if not isinstance(raw, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,49}", raw):
            spec.error("id", f"id {raw!r} may hold only a-z, 0-9, '-' and '_' (at most 50)")
            return None
        return raw
    stem = file.source.stem if file.source is not None else file.digest[:12]
    slug = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-_")[:50]
    return slug or "deck"


@dataclass(frozen=True)
class Slide(Item):
    type_name: ClassVar[str] = "slide"
    keys: ClassVar[frozenset[str]] = frozenset(
        {"id", "title", "body", "image", "pdf", "page", "layout", "alt"}
    )
    label: ClassVar[str] = N_("Slide")
    shorthand: ClassVar[str | None] = "deck"
    shorthand_keys: ClassVar[frozenset[str]] = frozenset({"deck", "pages", "id"})

    body: str = ""
    #: The title shown above the slide ("" for none: a picture on its own). `title`
    #: is what lists call the slide: this heading, or the first line of `alt`.
    heading: str = ""
    #: The picture's content name in the media folder (`poll.media`), if any.
    image: str | None = None
    pdf: str | None = None
    page: int = 1
    layout: str = "full"
    #: The picture's text alternative, read by screen readers.
    alt: str = ""

    @classmethod
    def parse(cls, spec: SpecReader, item_id: str) -> Self | None:
        image = spec.file("image", IMAGE_KINDS)
        pdf = spec.file("pdf", PDF_KINDS)
        picture = image or pdf
        has_picture = any(spec.data.get(key) is not None for key in ("image", "pdf"))
        title = spec.text("title", required=not has_picture, max_length=200)
        body = (spec.text("body", default="", max_length=5000, strip=False) or "").strip("\n")
        alt = _lines(spec.text("alt", max_length=1000, strip=False))
        layout = spec.one_of("layout", LAYOUTS, default="full")
        page = spec.integer("page", default=None, minimum=1, maximum=MAX_PAGE)
        ok = not (has_picture and picture is None)
        if image is not None and pdf is not None:
            spec.error("pdf", "a slide shows one picture: give 'image' or 'pdf', not both")
            ok = False
        if not has_picture:
            for key in ("page", "layout", "alt"):
                if key in spec.data:
                    spec.error(key, f"'{key}' belongs to a slide with an 'image' or a 'pdf'")
                    ok = False
        elif "page" in spec.data and pdf is None and image is not None:
            spec.error("page", "'page' chooses a page of a 'pdf'; an image has none")
            ok = False
        if pdf is not None and page is not None and pdf.pages and page > pdf.pages:
            spec.error("page", f"page {page} is out of range: the PDF has {pdf.pages} pages")
            ok = False
        if image is not None and alt is None and title is None:
            spec.error(
                "image",
                "an image needs a text alternative for screen readers: give 'alt' "
                "(what the picture shows) or a 'title'",
            )
            ok = False
        if not ok or (title is None and not has_picture):
            return None
        if pdf is not None and alt is None:
            # The page's own text says more than its title; the title if it has none.
            alt = (
                text_of_page(pdf, page or 1)
                or title
                or cls._page_alt(pdf, page or 1, spec.language)
            )
        alt = alt if alt is not None else (title or "")
        return cls(
            id=item_id,
            title=title or _first_line(alt),
            heading=title or "",
            body=body,
            image=image.name if image else None,
            pdf=pdf.name if pdf else None,
            page=page or 1,
            layout=layout,
            alt=alt if picture else "",
        )

    @staticmethod
    def _page_alt(pdf: MediaFile, page: int, language: str) -> str:
        """A PDF page's own text, or what it is when it has none (a scan, a photo)."""
        text = text_of_page(pdf, page)
        if text:
            return text
        name = pdf.source.name if pdf.source is not None else "PDF"
        return f"{name}, {_PAGE_WORD.get(language, _PAGE_WORD['en'])} {page}"

    @classmethod
    def expand(cls, spec: SpecReader) -> list[Self]:
        """`deck: FILE` with `pages:`: one picture slide per page, with ids
        `<id>-<page>` (the deck's `id`, or the file's name)."""
        if not spec.check_keys(cls.shorthand_keys):
            return []
        pdf = spec.file("deck", PDF_KINDS, required=True)
        if pdf is None:
            return []
        pages = _read_pages(spec, pdf.pages)
        base = _deck_id(spec, pdf)
        if pages is None or base is None:
            return []
        slides = []
        for page in pages:
            alt = cls._page_alt(pdf, page, spec.language)
            slides.append(
                cls(
                    id=f"{base}-{page}",
                    title=_first_line(alt),
                    pdf=pdf.name,
                    page=page,
                    alt=alt,
                )
            )
        return slides

    @property
    def body_html(self) -> str:
        return render_markdown(self.body)

    def client_view(self) -> dict[str, Any]:
        view = super().client_view() | {"body_html": self.body_html, "heading": self.heading}
        if self.image or self.pdf:
            view["picture"] = {
                "name": self.image or self.pdf,
                "page": self.page if self.pdf else None,
                "alt": self.alt,
                "layout": self.layout,
            }
        return view

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": self.type_name, "id": self.id}
        if self.heading or not (self.image or self.pdf):
            spec["title"] = self.heading or self.title
        spec["body"] = self.body
        if self.image:
            spec |= {"image": self.image, "alt": self.alt, "layout": self.layout}
        if self.pdf:
            spec |= {"pdf": self.pdf, "page": self.page, "alt": self.alt, "layout": self.layout}
        return spec
