"""Files a facilitator's script names, made for the tests: images and PDFs."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from PIL import Image


def png(path: Path, colour: str = "#0b5e4b", size: tuple[int, int] = (320, 180)) -> Path:
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def pdf(path: Path, pages: int = 3, password: str | None = None) -> Path:
    """A 16:9 PDF whose page N says "Page N" in big letters."""
    document = FPDF(orientation="landscape", unit="mm", format=(190.5, 338.67))
    if password is not None:
        document.set_encryption(owner_password="owner", user_password=password)
    document.set_font("Helvetica", "B", 60)
    for number in range(1, pages + 1):
        document.add_page()
        document.set_xy(30, 70)
        document.cell(200, 30, f"Page {number}")
    document.output(str(path))
    return path
