"""Page rendering: one Jinja2 environment per language, autoescaping on."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from poll.media import PAGE_WIDTHS, media_path, page_path
from poll.questions import REGISTRY
from poll.text import NICKNAME_MAX
from poll.web.i18n import Lang, as_lang, js_strings, translations
from poll.web.resources import resource_dir


@cache
def static_version() -> str:
    """A digest of every static file, appended to their URLs so browsers never run
    a stale script after an upgrade (the files themselves are cached)."""
    digest = hashlib.sha256()
    root = resource_dir("static")
    for path in sorted(root.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_version()}"


def page_srcset(name: str, page: int) -> str:
    """Every width a PDF page is rendered at, for the browser to fetch the one that
    fits its screen (`srcset`): one render per page and width, whoever asks."""
    return ", ".join(f"{page_path(name, page, width)} {width}w" for width in PAGE_WIDTHS)


def page_src(name: str, page: int, width: int = PAGE_WIDTHS[-1]) -> str:
    return page_path(name, page, width)


@cache
def type_files(suffix: str) -> dict[str, str]:
    """Each item type's own file `static/questions/<type><suffix>`, where one exists, by
    type name: its phone enhancement (".js") or its stylesheet (".css", linked on every
    page: a page may show any type, and they are small and cached)."""
    root = resource_dir("static") / "questions"
    return {
        name: static_url(f"questions/{name}{suffix}")
        for name in sorted(REGISTRY)
        if (root / f"{name}{suffix}").is_file()
    }


@cache
def environment(lang: Lang, templates: Path | None = None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates or resource_dir("templates"))),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"],
        trim_blocks=True,
        lstrip_blocks=True,
        # The templates ship with poll and change only with it: no stat() per render.
        auto_reload=False,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static=static_url,
        lang=lang,
        type_scripts=type_files(".js"),
        type_styles=list(type_files(".css").values()),
        nickname_max=NICKNAME_MAX,
        media_url=media_path,
        page_src=page_src,
        page_srcset=page_srcset,
        page_widths=PAGE_WIDTHS,
    )
    return env


def render_text(template: str, lang: str, **context: Any) -> str:
    env = environment(as_lang(lang))
    return env.get_template(template).render(js_strings=js_strings(lang), **context)


def render(
    request: Request,
    template: str,
    lang: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    return html_page(render_text(template, lang, request=request, **context), status_code)


def html_page(html: str, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(html, status_code=status_code)
    # Pages show live state: never serve one from a cache after going back.
    response.headers["cache-control"] = "no-store"
    return response
