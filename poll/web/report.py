"""The results report as one self-contained HTML page (see `poll.report` for its content).

One file that can be mailed, archived or printed to PDF: its CSS is inline, its
charts are inline SVG drawn on the server by each question type (the `report`
macro of `templates/questions/<type>.html`), and it has no script and fetches
nothing. The same bytes are what `poll report` writes, what the console's
Report link shows and what a shared results link serves; served, the page gets
a Content-Security-Policy of its own that allows exactly its one style block
and nothing else (no script, no connection, no form).
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache

from babel.dates import format_date, format_time
from markupsafe import Markup
from starlette.responses import HTMLResponse

from poll.i18n import as_lang
from poll.report import Report
from poll.web.pages import environment
from poll.web.resources import resource_dir

#: The page's stylesheet, inlined into its one <style> element.
STYLESHEET = ("report", "report.css")


@cache
def stylesheet() -> str:
    return (resource_dir("templates").joinpath(*STYLESHEET)).read_text(encoding="utf-8")


def style_hash(css: str) -> str:
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def content_security_policy(css: str) -> str:
    """Nothing but the page's own style block: no script, no fetch, no form, no frame."""
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {style_hash(css)}",
            "img-src data:",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def render_report(report: Report) -> str:
    """The report page's HTML, in the session's language."""
    lang = as_lang(report.language)
    env = environment(lang)
    started = report.started
    return env.get_template("report/page.html").render(
        report=report,
        css=Markup(stylesheet()),
        date=format_date(started, "long", locale=lang),
        start_time=format_time(started, "short", locale=lang),
        end_time=format_time(report.ended, "short", locale=lang) if report.ended else None,
        js_strings={},
    )


def report_response(report: Report, *, shared: bool = False) -> HTMLResponse:
    """The page as a response. `shared`: served to anyone with the link, so it is kept
    out of search engines and caches, and sends no address onwards."""
    response = HTMLResponse(render_report(report))
    response.headers["content-security-policy"] = content_security_policy(stylesheet())
    response.headers["cache-control"] = "no-store"
    response.headers["referrer-policy"] = "no-referrer"
    if shared:
        response.headers["x-robots-tag"] = "noindex, nofollow"
    return response
