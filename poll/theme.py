"""A session's look: light or dark, an accent colour, a logo.

`theme:` in a session of the script:

    theme:
      mode: dark            # or light (the default)
      accent: "#f4b400"     # quoted: in YAML a bare # starts a comment
      logo: logo.svg        # PNG, JPEG, WebP or SVG, relative to sessions.yaml

The accent must reach WCAG AA's 4.5:1 contrast against the mode's background
(it colours text and bars), checked when the script loads. Pages link a small
stylesheet that sets CSS custom properties; its URL is named by its content
(`/theme/<mode>-<accent>-<digest>.css`) and any process rebuilds it from the
name, so it is cached for ever and needs no shared state.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Literal

from poll.media import IMAGE_KINDS, media_path
from poll.spec import SpecReader, kind_of

Mode = Literal["light", "dark"]
MODES: tuple[Mode, ...] = ("light", "dark")
#: WCAG AA for normal text.
MIN_CONTRAST = 4.5

#: Background, text and secondary text of each mode (all pass AA on their background).
PALETTES: dict[Mode, dict[str, str]] = {
    "light": {"bg": "#ffffff", "fg": "#1b1b1f", "muted": "#595961"},
    "dark": {"bg": "#15161a", "fg": "#f3f3f5", "muted": "#a8a8b3"},
}
#: The accent when a theme gives none.
DEFAULT_ACCENTS: dict[Mode, str] = {"light": "#1d5fb8", "dark": "#7fb6ff"}

_COLOUR = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_CSS_NAME = re.compile(r"(light|dark)-([0-9a-f]{6})-([0-9a-f]{12})\.css")


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(colour: str) -> float:
    """Relative luminance of `#rrggbb` (WCAG 2)."""
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two `#rrggbb` colours, from 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def normalise(colour: str) -> str | None:
    """`#rgb` or `#rrggbb` as lowercase `#rrggbb`; None for anything else."""
    match = _COLOUR.fullmatch(colour.strip())
    if match is None:
        return None
    digits = match.group(1).lower()
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return f"#{digits}"


@dataclass(frozen=True)
class Theme:
    mode: Mode = "light"
    accent: str = DEFAULT_ACCENTS["light"]
    #: The logo's content name in the media folder, if any.
    logo: str | None = None

    @property
    def accent_text(self) -> str:
        """Black or white, whichever reads better on the accent."""
        return (
            "#000000"
            if contrast(self.accent, "#000000") >= contrast(self.accent, "#ffffff")
            else "#ffffff"
        )

    def css(self) -> str:
        palette = PALETTES[self.mode]
        return (
            ":root {\n"
            f"  color-scheme: {self.mode};\n"
            f"  --accent: {self.accent};\n"
            f"  --accent-text: {self.accent_text};\n"
            f"  --bg: {palette['bg']};\n"
            f"  --fg: {palette['fg']};\n"
            f"  --muted: {palette['muted']};\n"
            "}\n"
        )

    @property
    def css_path(self) -> str:
        digest = hashlib.sha256(self.css().encode()).hexdigest()[:12]
        return f"/theme/{self.mode}-{self.accent[1:]}-{digest}.css"

    def view(self) -> dict[str, Any]:
        """What a room's snapshot tells every page of the room (`room.theme`)."""
        return {
            "mode": self.mode,
            "accent": self.accent,
            "accent_text": self.accent_text,
            "logo": media_path(self.logo) if self.logo else None,
            "css": self.css_path,
        }

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"mode": self.mode, "accent": self.accent}
        if self.logo:
            spec["logo"] = self.logo
        return spec


def theme_from_css_name(name: str) -> Theme | None:
    """The theme a `/theme/…css` name stands for, or None for a name no theme has."""
    match = _CSS_NAME.fullmatch(name)
    if match is None:
        return None
    theme = Theme(mode=match.group(1), accent=f"#{match.group(2)}")  # type: ignore[arg-type]
    return theme if theme.css_path == f"/theme/{name}" else None


THEME_KEYS = frozenset({"mode", "accent", "logo"})


def read_theme(session: SpecReader) -> Theme | None:
    """A session's `theme:`, checked (the accent's contrast included); None if absent
    or wrong (problems recorded)."""
    if "theme" not in session.data:
        return None
    raw = session.data["theme"]
    if not isinstance(raw, dict):
        session.error("theme", f"must be a mapping with mode, accent and logo, not {kind_of(raw)}")
        return None
    spec = session.at("theme")
    ok = spec.check_keys(THEME_KEYS)
    mode: Mode = spec.one_of("mode", MODES, default="light")
    accent = DEFAULT_ACCENTS[mode]
    if "accent" in raw:
        value = raw["accent"]
        colour = normalise(value) if isinstance(value, str) else None
        if value is None:
            spec.error(
                "accent",
                "is empty: in YAML a # starts a comment, so quote the colour, "
                'like accent: "#1d5fb8"',
            )
            ok = False
        elif colour is None:
            spec.error("accent", f'must be a colour like "#1d5fb8", not {value!r}')
            ok = False
        else:
            background = PALETTES[mode]["bg"]
            ratio = contrast(colour, background)
            if ratio < MIN_CONTRAST:
                better = "darker" if mode == "light" else "lighter"
                spec.error(
                    "accent",
                    f"{colour} has a contrast of {ratio:.1f}:1 against the {mode} "
                    f"background {background}; text needs at least {MIN_CONTRAST}:1 "
                    f"(WCAG AA): choose a {better} colour",
                )
                ok = False
            accent = colour
    logo = None
    if raw.get("logo") is not None:
        file = spec.file("logo", IMAGE_KINDS)
        if file is None:
            ok = False
        else:
            logo = file.name
    return Theme(mode=mode, accent=accent, logo=logo) if ok else None
