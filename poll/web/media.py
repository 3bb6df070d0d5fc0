"""The files slides show, and the theme stylesheets, served for ever from their content names.

- `/media/<sha256>.<png|jpg|webp|svg>`: an image (or logo) of the media folder;
- `/media/<sha256>/<page>/<width>.png`: a page of a PDF of the media folder,
  rendered at one of `PAGE_WIDTHS` on first request, then kept on disk;
- `/theme/<mode>-<accent>-<digest>.css`: a theme's custom properties.

A URL names its content, so a response never changes: browsers keep it a year
without asking again. Nothing else is served from here: only names of the form
above, only files of the media folder, only the widths poll renders; anything
else is a 404. A page is rendered in a thread (PDFium is slow and not
thread-safe), and requests for a page being rendered wait for that one render
(`poll.web.renderer`).
"""

from __future__ import annotations

import re

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from poll.media import (
    CONTENT_NAME,
    IMAGE_KINDS,
    MEDIA_TYPES,
    PAGE_WIDTHS,
)
from poll.theme import theme_from_css_name
from poll.web.state import poll_state

FOR_EVER = "public, max-age=31536000, immutable"
#: An SVG opened on its own is a document that could run script: never let it.
MEDIA_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; object-src 'none'; "
    "frame-ancestors 'none'; sandbox"
)
_DIGEST = re.compile(r"[0-9a-f]{64}")


async def media_file(request: Request) -> Response:
    name = str(request.path_params["name"])
    match = CONTENT_NAME.fullmatch(name)
    if match is None or match.group(2) not in IMAGE_KINDS:
        raise HTTPException(404)
    path = poll_state(request).settings.data_dir / "media" / name
    if not path.is_file():
        raise HTTPException(404)
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[match.group(2)],
        headers={"cache-control": FOR_EVER, "content-security-policy": MEDIA_CSP},
    )


async def pdf_page(request: Request) -> Response:
    digest = str(request.path_params["digest"])
    page, width = int(request.path_params["page"]), int(request.path_params["width"])
    if not _DIGEST.fullmatch(digest) or width not in PAGE_WIDTHS or not 1 <= page <= 10_000:
        raise HTTPException(404)
    path = await poll_state(request).pages.page(digest, page, width)
    if path is None:
        raise HTTPException(404)
    return FileResponse(
        path,
        media_type="image/png",
        headers={"cache-control": FOR_EVER, "content-security-policy": MEDIA_CSP},
    )


async def theme_css(request: Request) -> Response:
    theme = theme_from_css_name(str(request.path_params["name"]))
    if theme is None:
        raise HTTPException(404)
    return Response(theme.css(), media_type="text/css", headers={"cache-control": FOR_EVER})


def routes() -> list[BaseRoute]:
    return [
        Route("/media/{name:str}", media_file, name="media_file"),
        Route("/media/{digest:str}/{page:int}/{width:int}.png", pdf_page, name="pdf_page"),
        Route("/theme/{name:str}", theme_css, name="theme_css"),
    ]
