"""The facilitator's own files that slides show: images, PDF pages, a theme's logo.

A script names a file by its path, relative to `sessions.yaml`. Loading the
script checks the file (it exists, it is what its name says, it is not too
large, a PDF opens without a password) and, for a server, copies it into the
media folder of the data dir under the SHA-256 of its bytes. The item keeps that
content name, not the path: a room's copy of its session points at the copy, so
editing or deleting the original later changes no past run, and a URL named by
the content may be cached for ever.

A room's copy of a session is read back with `MediaFiles.room_copy()`, which
takes content names as they are and opens no file.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
import threading
import warnings
import xml.etree.ElementTree as ElementTree
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: What a file's content name ends with, by kind, and the type it is served as.
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
}
IMAGE_KINDS = frozenset({"png", "jpg", "webp", "svg"})
PDF_KINDS = frozenset({"pdf"})

#: A content name: the SHA-256 of the bytes and the kind.
CONTENT_NAME = re.compile(r"([0-9a-f]{64})\.(png|jpg|webp|svg|pdf)")

MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_PDF_BYTES = 100 * 1024 * 1024
#: Pixels an image may have: a small file may still decompress into gigabytes.
MAX_IMAGE_PIXELS = 50_000_000

_SUFFIXES = {
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".webp": "webp",
    ".svg": "svg",
    ".pdf": "pdf",
}
_PILLOW_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
_KIND_NAMES = {"png": "PNG", "jpg": "JPEG", "webp": "WebP", "svg": "SVG", "pdf": "PDF"}


#: PDFium is not thread-safe: every call into it, from any thread, holds this lock.
PDFIUM_LOCK = threading.Lock()

#: The widths PDF pages are rendered at: a projector's screen picks the one that fits.
PAGE_WIDTHS = (1024, 1280, 1920)


class MediaError(Exception):
    """A file a script names cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class MediaFile:
    """A checked file, known by its content name (`<sha256>.<kind>`)."""

    name: str
    #: Pages of a PDF (0 for an image, and for a room's copy, which opens nothing).
    pages: int = 0
    #: The file's own path, for reading page texts while the script loads, and its
    #: modification time and size when it was read.
    source: Path | None = None
    stamp: tuple[int, int] | None = None

    @property
    def kind(self) -> str:
        return self.name.rsplit(".", 1)[1]

    @property
    def digest(self) -> str:
        return self.name.split(".", 1)[0]


def kinds_text(kinds: Collection[str]) -> str:
    names = [_KIND_NAMES[k] for k in sorted(kinds, key=list(_KIND_NAMES).index)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def _image_kind(data: bytes) -> str:
    """The kind an image's bytes really are; raises MediaError for anything else."""
    from PIL import Image, UnidentifiedImageError

    too_big = f"has more than {MAX_IMAGE_PIXELS // 1_000_000} megapixels: scale it down"
    try:
        with warnings.catch_warnings():
            # Pillow warns of (and past twice its limit refuses) a decompression bomb.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind = _PILLOW_FORMATS.get(image.format or "")
                if kind is None:
                    raise MediaError(f"is a {image.format} image; use PNG, JPEG, WebP or SVG")
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise MediaError(f"is {width}×{height} pixels, so it {too_big}")
                image.verify()
                return kind
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise MediaError(too_big) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        if _looks_like_svg(data):
            return "svg"
        raise MediaError("is not a PNG, JPEG, WebP or SVG image (or it is damaged)") from exc


def _looks_like_svg(data: bytes) -> bool:
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError):
        return False
    return root.tag in {"svg", "{http://www.w3.org/2000/svg}svg"}


def pdf_pages(data: bytes) -> int:
    """The number of pages of a PDF; raises MediaError when it cannot be opened."""
    import pypdfium2

    try:
        with PDFIUM_LOCK:
            document = pypdfium2.PdfDocument(data)
    except pypdfium2.PdfiumError as exc:
        reason = str(exc).lower()
        if "password" in reason:
            raise MediaError(
                "is encrypted with a password; export it again without a password"
            ) from None
        raise MediaError(f"cannot be read as a PDF ({exc}); export it again") from None
    try:
        with PDFIUM_LOCK:
            pages = len(document)
    finally:
        with PDFIUM_LOCK:
            document.close()
    if pages == 0:
        raise MediaError("is a PDF without pages")
    return pages


def page_text(path: Path, page: int, limit: int = 1000) -> str:
    """The text of one page (1-based) of a PDF, a line per line of text with its
    spaces squeezed: a slide's text alternative for screen readers (and its first
    line, usually the slide's title, what lists call it)."""
    import pypdfium2

    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(path)
        try:
            pdf_page = document[page - 1]
            textpage = pdf_page.get_textpage()
            try:
                raw: str = textpage.get_text_bounded()
            finally:
                textpage.close()
                pdf_page.close()
        finally:
            document.close()
    lines = (" ".join(line.split()) for line in raw.splitlines())
    text = "\n".join(line for line in lines if line)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_page(path: Path, page: int, width: int) -> bytes | None:
    """One page (1-based) of a PDF as PNG, fitted into a 16:9 box `width` pixels
    wide (a portrait page is as tall as the box); None if the PDF has no such page.
    Slow (tenths of a second): call it in a thread, once per page and width."""
    import pypdfium2

    box_width, box_height = width, round(width * 9 / 16)
    with PDFIUM_LOCK:
        document = pypdfium2.PdfDocument(path)
        try:
            if not 1 <= page <= len(document):
                return None
            pdf_page = document[page - 1]
            try:
                page_width, page_height = pdf_page.get_size()
                scale = min(box_width / page_width, box_height / page_height)
                bitmap = pdf_page.render(scale=scale, may_draw_forms=False)
                image = bitmap.to_pil()
            finally:
                pdf_page.close()
        finally:
            document.close()
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


#: What files were found to be, by path, modification time and size: a script that
#: is read again (after an edit, by a server) does not hash an unchanged deck again.
_KNOWN: dict[tuple[Path, int, int], tuple[str, int]] = {}
_TEXTS: dict[tuple[Path, int, int, int], str] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_LIMIT = 4096


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def text_of_page(file: MediaFile, page: int) -> str:
    """`page_text` of a checked PDF, read once per version of the file."""
    if file.source is None:
        return ""
    if file.stamp is None:
        return page_text(file.source, page)
    key = (file.source, *file.stamp, page)
    with _CACHE_LOCK:
        known = _TEXTS.get(key)
    if known is None:
        known = page_text(file.source, page)
        with _CACHE_LOCK:
            _remember(_TEXTS, key, known)
    return known


def content_name(data: bytes, kind: str) -> str:
    return f"{hashlib.sha256(data).hexdigest()}.{kind}"


def check_file(path: Path, kinds: Collection[str]) -> tuple[bytes, str, int]:
    """Read and check one file: its bytes, its kind and (for a PDF) its pages."""
    expected = kinds_text(kinds)
    kind = _SUFFIXES.get(path.suffix.lower())
    if kind is None or kind not in kinds:
        raise MediaError(f"{path.name!r} is not a {expected} file (by its name)")
    limit = MAX_PDF_BYTES if kind == "pdf" else MAX_IMAGE_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            raise MediaError(
                f"{path.name!r} is {size / 1024 / 1024:.1f} MB; at most "
                f"{limit // 1024 // 1024} MB fit: make it smaller"
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise MediaError(
            f"file {str(path)!r} not found; paths are relative to the sessions file"
        ) from None
    except IsADirectoryError:
        raise MediaError(f"{str(path)!r} is a folder, not a file") from None
    except OSError as exc:
        raise MediaError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    try:
        if kind == "pdf":
            if not data.startswith(b"%PDF-"):
                raise MediaError("is not a PDF (it does not start with %PDF-)")
            return data, kind, pdf_pages(data)
        real = _image_kind(data)
    except MediaError as exc:
        raise MediaError(f"{path.name!r} {exc}") from None
    if real != kind and {real, kind} != {"jpg"}:
        raise MediaError(
            f"{path.name!r} is really a {_KIND_NAMES[real]} image; "
            f"rename it to end in .{real} or save it as {_KIND_NAMES[kind]}"
        )
    return data, kind, 0


def store_copy(folder: Path, name: str, data: bytes) -> None:
    """Keep `data` as `folder/name` unless it is there already (written whole or not
    at all: a temporary file renamed into place)."""
    target = folder / name
    if target.exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=folder, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class MediaFiles:
    """Finds the files a script names, checks them and keeps their copies.

    `base`: the folder paths are relative to (the sessions file's); `store`: the
    media folder copies go into (None: check only, as `poll check` does).
    """

    def __init__(self, base: Path | None, store: Path | None = None) -> None:
        self.base = base
        self.store = store
        self._checked: dict[Path, MediaFile] = {}
        self._seen: set[Path] = set()
        self._lock = threading.Lock()

    def _unchanged(self, path: Path, kinds: Collection[str]) -> MediaFile | None:
        """The file as an earlier read found it, if it has not changed since and its
        copy is in place."""
        stamp = _stat(path)
        if stamp is None:
            return None
        with _CACHE_LOCK:
            known = _KNOWN.get((path, *stamp))
        if known is None:
            return None
        name, pages = known
        if name.rsplit(".", 1)[1] not in kinds:
            return None  # checked again, to say what is wrong
        if self.store is not None and not (self.store / name).is_file():
            return None
        return MediaFile(name=name, pages=pages, source=path, stamp=stamp)

    @classmethod
    def room_copy(cls) -> MediaFiles:
        """For a room's copy of its session: content names only, nothing opened."""
        return cls(None)

    def paths(self) -> tuple[Path, ...]:
        """Every file found so far (checked or not), in order."""
        with self._lock:
            return tuple(sorted(self._seen))

    def resolve(self, raw: str, kinds: Collection[str]) -> MediaFile:
        if self.base is None:
            match = CONTENT_NAME.fullmatch(raw)
            if match is None or match.group(2) not in kinds:
                raise MediaError(f"{raw!r} is not the content name of a {kinds_text(kinds)}")
            return MediaFile(name=raw)
        path = (self.base / raw).resolve()
        with self._lock:
            self._seen.add(path)
            known = self._checked.get(path)
        if known is not None:
            if known.kind not in kinds:
                raise MediaError(f"{path.name!r} is not a {kinds_text(kinds)} file (by its name)")
            return known
        found = self._unchanged(path, kinds)
        if found is None:
            stamp = _stat(path)
            data, kind, pages = check_file(path, kinds)
            found = MediaFile(name=content_name(data, kind), pages=pages, source=path, stamp=stamp)
            if self.store is not None:
                store_copy(self.store, found.name, data)
            if stamp is not None:
                with _CACHE_LOCK:
                    _remember(_KNOWN, (path, *stamp), (found.name, pages))
        with self._lock:
            self._checked[path] = found
        return found


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_mtime_ns, info.st_size)


def media_path(name: str) -> str:
    """The URL path a file of the media folder is served at (`poll.web.media`)."""
    return f"/media/{name}"


def page_path(name: str, page: int, width: int) -> str:
    """The URL path of a PDF page rendered `width` pixels wide."""
    return f"/media/{name.split('.', 1)[0]}/{page}/{width}.png"
