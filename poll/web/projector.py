"""The projector view (facilitator only) and its join QR code."""

from __future__ import annotations

from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.image.svg
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from poll.rooms import Room, UnknownRoom
from poll.web.guard import facilitator
from poll.web.network import join_base, short_address
from poll.web.pages import render
from poll.web.state import poll_state


async def _room(request: Request) -> Room:
    try:
        return await poll_state(request).rooms.get(str(request.path_params["room_id"]))
    except UnknownRoom:
        raise HTTPException(404) from None


def join_url(request: Request, room: Room) -> str:
    base = join_base(request, poll_state(request).settings.public_url)
    return f"{base}/r/{room.state.code}"


async def projector_page(request: Request) -> Response:
    facilitator(request)
    room = await _room(request)
    snapshot = await room.snapshot("projector")
    base = join_base(request, poll_state(request).settings.public_url)
    return render(
        request,
        "projector/room.html",
        room.session.language,
        snap=snapshot,
        address=short_address(base),
        join_url=f"{base}/r/{room.state.code}",
    )


@lru_cache(maxsize=64)
def qr_svg(data: str) -> str:
    """The QR code as SVG paths; medium error correction survives a dim beamer."""
    code = qrcode.QRCode(
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=2,
    )
    code.add_data(data)
    code.make(fit=True)
    svg: str = code.make_image().to_string(encoding="unicode")
    return svg


async def qr_code(request: Request) -> Response:
    facilitator(request)
    room = await _room(request)
    return Response(
        qr_svg(join_url(request, room)),
        media_type="image/svg+xml",
        headers={"cache-control": "private, max-age=300"},
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/projector/{room_id}", projector_page, name="projector"),
        Route("/projector/{room_id}/qr.svg", qr_code, name="projector_qr"),
    ]
