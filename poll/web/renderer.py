"""PDF pages rendered once each: per page and width, in a thread, kept on disk.

Phones never ask for a page (their slide screen shows its title only), so the
renders a run costs are those of the projector and the console: at most one per
page and width, then a file read like any static file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from poll.media import pdf_pages, render_page, store_copy


class PageRenderer:
    """Renders PDF pages of the media folder once each (per page and width) and
    keeps them in `<media>/pages/`; counts its renders (`renders`)."""

    def __init__(self, media_dir: Path) -> None:
        self.media_dir = media_dir
        self.cache_dir = media_dir / "pages"
        self.renders = 0
        #: Pages of each PDF asked for: a page it lacks is refused without opening it again.
        self._pages: dict[str, int] = {}
        self._pending: dict[tuple[str, int, int], asyncio.Task[Path | None]] = {}

    async def page(self, digest: str, page: int, width: int) -> Path | None:
        """The rendered page's file, or None if there is no such PDF or page."""
        cached = self.cache_dir / f"{digest}-{page}-{width}.png"
        if cached.is_file():
            return cached
        source = self.media_dir / f"{digest}.pdf"
        if not source.is_file():
            return None
        if digest not in self._pages:
            self._pages[digest] = await asyncio.to_thread(_count, source)
        if page > self._pages[digest]:
            return None
        key = (digest, page, width)
        task = self._pending.get(key)
        if task is None:
            # A task of its own: a viewer who leaves cancels only her wait, not the render.
            task = asyncio.create_task(self._render(source, page, width, cached))
            self._pending[key] = task
            task.add_done_callback(lambda _: self._pending.pop(key, None))
        return await asyncio.shield(task)

    async def _render(self, source: Path, page: int, width: int, cached: Path) -> Path | None:
        self.renders += 1
        png = await asyncio.to_thread(render_page, source, page, width)
        if png is None:
            return None
        await asyncio.to_thread(store_copy, self.cache_dir, cached.name, png)
        return cached


def _count(source: Path) -> int:
    return pdf_pages(source.read_bytes())
