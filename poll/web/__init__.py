"""The web layer: Starlette app, pages, websockets, auth, translations, CSV."""

from __future__ import annotations

from poll.web.app import create_app

__all__ = ["create_app"]
