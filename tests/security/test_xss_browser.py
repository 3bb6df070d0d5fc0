"""XSS: hostile text in answers, "other" answers and the session script itself is shown
literally on the projector, the console and a phone in real Chromium, and never runs.

Every payload, if it ran, would call `__xss.push(…)` or `alert(…)`: a page-level hook
records both, and any dialog. A Content-Security-Policy violation counts too: the
text must be escaped, not merely stopped by the CSP.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml

from poll.questions.wordcloud import display_form
from poll.text import clean_text
from tests.security.conftest import count
from tests.support.facilitator import BlockingFacilitator
from tests.support.servers import TOKEN, PollServer

pytestmark = pytest.mark.browser

PAYLOADS = [
    "<script>__xss.push(1)</script>",
    '<img src=x onerror="__xss.push(2)">',
    "<svg onload=__xss.push(3)>",
    "<svg><script>__xss.push(4)</script></svg>",
    '"><script>__xss.push(5)</script>',
    "'><img src=x onerror=__xss.push(6)>",
    '<a href="javascript:__xss.push(7)">klik</a>',
    "javascript:__xss.push(8)",
    '<iframe src="javascript:__xss.push(9)"></iframe>',
    "<body onload=__xss.push(10)>",
    "<details open ontoggle=__xss.push(11)>",
    "&lt;script&gt;__xss.push(12)&lt;/script&gt;",
    "%3Cscript%3E__xss.push(13)%3C/script%3E",
    "\\u003cscript\\u003e__xss.push(14)\\u003c/script\\u003e",
    "{{7*7}}",
    "${7*7} #{7*7} <%= 7*7 %>",
    "{% for x in range(9) %}{{x}}{% endfor %}",
    "＜script＞__xss.push(15)＜/script＞",
    "\u202e<script>__xss.push(16)</script>",
    "<scr\u200bipt>__xss.push(17)</script>",
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss.push(18)>",
    "<input autofocus onfocus=__xss.push(19)>",
    '<object data="data:text/html,<script>parent.__xss.push(20)</script>">',
    "[klik](javascript:__xss.push(21))",
    '<div style="background:url(javascript:__xss.push(22))">x</div>',
    "</script><script>alert(23)</script>",
    "<img src=x onerror=alert(24)>",
    '" onmouseover="__xss.push(25)" x="',
    "<template><script>__xss.push(26)</script></template>",
    '<noscript><p title="</noscript><img src=x onerror=__xss.push(27)>">',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss.push(28)">',
    '<base href="javascript:__xss.push(29)//">',
    '<svg><a xlink:href="javascript:__xss.push(30)"><text y=20>x</text></a></svg>',
    '<img src="x" onerror="&#95;&#95;xss.push(31)">',
    "<IMG SRC=x OnErRoR=__xss.push(32)>",
]
HOOK = """
window.__xss = []; window.__csp = [];
window.alert = (m) => window.__xss.push('alert:' + m);
document.addEventListener('securitypolicyviolation',
  (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""
DANGEROUS = (
    "script:not([src]):not([type='application/json']), "
    "[onerror], [onload], [onclick], [onfocus], [ontoggle], "
    "[onmouseover], iframe, object, embed, base, meta[http-equiv], template, "
    "a[href^='javascript' i], [style*='javascript' i]"
)
LIVE = 8000


def xss_script() -> dict[str, Any]:
    options = [{"id": f"o{n}", "label": p[:200]} for n, p in enumerate(PAYLOADS)]
    return {
        "sessions": {
            "xss": {
                "title": PAYLOADS[0] + PAYLOADS[14],
                "language": "nl",
                "items": [
                    {"type": "slide", "id": "s", "title": (PAYLOADS[1] + PAYLOADS[14])[:200],
                     "body": "\n\n".join(PAYLOADS), "notes": "\n\n".join(PAYLOADS)},
                    {"type": "choice", "id": "c", "prompt": " ".join(PAYLOADS[:8])[:500],
                     "options": options, "other": True, "notes": "\n\n".join(PAYLOADS)},
                    {"type": "open", "id": "o", "prompt": " ".join(PAYLOADS[8:16])[:500],
                     "max_answers": 20, "max_length": 2000},
                    {"type": "wordcloud", "id": "w", "prompt": " ".join(PAYLOADS[16:24])[:500],
                     "max_words": 10, "max_length": 40},
                ],
            }
        }
    }  # fmt: skip


def start(tmp: Path) -> PollServer:
    sessions = tmp / "sessions.yaml"
    sessions.write_text(yaml.safe_dump(xss_script(), allow_unicode=True), encoding="utf-8")
    return PollServer(tmp, f"sqlite:///{tmp}/poll.db", sessions=sessions).start()


def phone_answers(url: str, code: str, question: str, answers: list[dict[str, str]]) -> None:
    with httpx.Client(base_url=url, follow_redirects=False) as phone:
        page = phone.get(f"/r/{code}").text
        token = re.search(r'name="token" value="([^"]+)"', page)
        assert token
        for n, answer in enumerate(answers):
            data = {"token": token.group(1), "question_id": question,
                    "submission_id": f"x{n}", **answer}  # fmt: skip
            assert phone.post(f"/r/{code}", data=data).status_code == 303


def nothing_ran(pages: dict[str, Any], dialogs: list[str], step: str) -> None:
    for name, page in pages.items():
        ran = page.evaluate("window.__xss")
        csp = page.evaluate("window.__csp")
        dangerous = page.evaluate(
            f"Array.from(document.body.querySelectorAll({DANGEROUS!r})).map(e => e.outerHTML)"
        )
        foreign = page.evaluate(
            "Array.from(document.scripts).filter(s => s.type !== 'application/json')"
            ".map(s => s.getAttribute('src')).filter(s => !s || !s.startsWith('/static/'))"
        )
        assert ran == [] and csp == [] and dangerous == [] and foreign == [], (
            step, name, ran, csp, dangerous, foreign,
        )  # fmt: skip
    assert dialogs == [], (step, dialogs)


def shows(page: Any, texts: list[str]) -> None:
    for text in texts:
        page.wait_for_function(
            "t => document.body.textContent.includes(t)", arg=clean_text(text), timeout=LIVE
        )


def test_hostile_text_is_shown_literally_and_never_runs(browser: Any, tmp_path: Path) -> None:
    server = start(tmp_path)
    url = server.url
    facilitator = None
    try:
        facilitator = BlockingFacilitator(url)
        room, code = facilitator.start_run("xss")
        staff = browser.new_context()
        staff.add_init_script(HOOK)
        phone_context = browser.new_context(viewport={"width": 390, "height": 844})
        phone_context.add_init_script(HOOK)
        dialogs: list[str] = []
        for context in (staff, phone_context):
            context.on(
                "page", lambda p: p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            )
        first = staff.new_page()
        first.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        first.goto(f"{url}/console?token={TOKEN}")
        first.goto(f"{url}/console/room/{room}")
        projector = staff.new_page()
        projector.goto(f"{url}/projector/{room}")
        phone = phone_context.new_page()
        phone.goto(f"{url}/r/{code}")
        pages = {"console": first, "projector": projector, "phone": phone}

        # The slide: its title (and its Markdown body and the console's notes, which are
        # HTML, so not compared).
        for page in pages.values():
            shows(page, [(PAYLOADS[1] + PAYLOADS[14])[:200]])
        nothing_ran(pages, dialogs, "slide")

        # The choice: prompt and every label literally; then everybody's "other" texts.
        facilitator.go_to("c")
        labels = [clean_text(p[:200]) for p in PAYLOADS]
        for page in pages.values():
            shows(page, [" ".join(PAYLOADS[:8])[:500], *labels])
        for payload in PAYLOADS:
            phone_answers(url, code, "c", [{"choices": "_other", "other": payload[:200]}])
            count("XSS payloads tried (other texts)")
        facilitator.act("show")
        for name in ("console", "projector"):
            shows(pages[name], [p[:200] for p in PAYLOADS])
        nothing_ran(pages, dialogs, "choice")

        # The open question: a wall of hostile cards.
        facilitator.go_to("o")
        half = len(PAYLOADS) // 2
        phone_answers(url, code, "o", [{"text": p} for p in PAYLOADS[:half]])
        phone_answers(url, code, "o", [{"text": p} for p in PAYLOADS[half:]])
        count("XSS payloads tried (open texts)", len(PAYLOADS))
        facilitator.act("show")
        for page in pages.values():
            shows(page, [" ".join(PAYLOADS[8:16])[:500]])
        for name in ("console", "projector"):
            shows(pages[name], PAYLOADS)
        # A reload renders the same texts on the server (Jinja2) instead of in JS.
        for page in pages.values():
            page.reload()
        for name in ("console", "projector"):
            shows(pages[name], PAYLOADS)
        nothing_ran(pages, dialogs, "open")

        # The word cloud: hostile words (as long as a word may be), ten per phone, shown
        # in the projector's laid-out cloud, the console's table and the phones' cloud.
        facilitator.go_to("w")
        words = [p[:40] for p in PAYLOADS]
        for start_at in range(0, len(words), 10):
            phone_answers(url, code, "w", [{"words": words[start_at : start_at + 10]}])
        count("XSS payloads tried (word cloud)", len(words))
        facilitator.act("show")
        # What is shown of a word: its spelling without the punctuation around it.
        shown = [display_form(w) for w in words if display_form(w)]
        for page in pages.values():
            shows(page, [" ".join(PAYLOADS[16:24])[:500], *shown[:20]])
        for name in ("console", "projector"):
            shows(pages[name], shown)
        pages["projector"].wait_for_selector(".wordcloud-stage span", timeout=LIVE)
        for page in pages.values():
            page.reload()
        for name in ("console", "projector"):
            shows(pages[name], shown)
        nothing_ran(pages, dialogs, "word cloud")
        count("XSS payloads tried (script: title, body, prompts, labels)", 3 * len(PAYLOADS))
        count("attacks refused: XSS payloads shown as text", 3 * len(PAYLOADS) * 3)
        staff.close()
        phone_context.close()
    finally:
        if facilitator is not None:
            facilitator.close()
        server.stop()
