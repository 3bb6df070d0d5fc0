"""Geometry of the results report's charts, which each type's `report` macro draws as SVG.

The numbers (positions and lengths in SVG user units) are worked out here, on
the server, so that a report needs no script to be read or printed; what the
charts say in words (labels, counts, percentages) the templates write, in the
session's language. Layouts are deterministic: the same results draw the same
picture, in every process and every run of the report.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The width of every chart, in SVG units (the page scales it to fit).
WIDTH = 640
#: Horizontal bars: the label column, where bars start, their longest length.
LABEL_END = 228
BAR_START = 240
BAR_LENGTH = 300
ROW = 32
BAR = 20
#: A label longer than this is cut with an ellipsis in the chart (the table under
#: the chart has it whole).
LABEL_CHARACTERS = 32
#: Vertical columns (a scale's distribution): their tallest height and widest width.
COLUMN_HEIGHT = 140
COLUMN_WIDTH = 44
#: A word cloud: font sizes from the smallest to the largest level, line spacing.
CLOUD_SMALLEST, CLOUD_STEP, CLOUD_LEVELS = 14, 7, 6
CLOUD_GAP = 14
#: An average bold character's width as a share of the font size (a sans-serif face;
#: a little generous, so that words never overlap).
CHARACTER = 0.7


def clip(text: str, limit: int = LABEL_CHARACTERS) -> str:
    """`text` cut to `limit` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def hbars(rows: Sequence[Mapping[str, Any]], *, value: str, maximum: float) -> dict[str, Any]:
    """Horizontal bars, one per row, as long as `row[value]` is of `maximum` (a bar of
    `maximum` fills the track). Each row keeps its own keys and gets `y` (its top),
    `length`, `short` (the label as the chart shows it) and `text_y` (its baseline)."""
    drawn = []
    for index, row in enumerate(rows):
        amount = float(row.get(value) or 0)
        length = round(BAR_LENGTH * amount / maximum, 1) if maximum > 0 else 0.0
        top = 6 + index * ROW
        drawn.append(
            dict(row)
            | {
                "y": top,
                "length": max(length, 0.0),
                "short": clip(str(row.get("label", ""))),
                "text_y": top + BAR - 5,
                "value_x": BAR_START + max(length, 0.0) + 8,
            }
        )
    return {
        "width": WIDTH,
        "height": 12 + ROW * len(rows),
        "label_end": LABEL_END,
        "bar_start": BAR_START,
        "track": BAR_LENGTH,
        "bar": BAR,
        "rows": drawn,
    }


def columns(steps: Sequence[Mapping[str, Any]], *, value: str, maximum: float) -> dict[str, Any]:
    """Vertical columns side by side, one per step, as tall as `step[value]` is of
    `maximum`; each step gets `x` (its left), `top`, `height` and `middle`."""
    count = max(len(steps), 1)
    slot = min(COLUMN_WIDTH + 16, (WIDTH - 40) / count)
    width = min(COLUMN_WIDTH, slot - 8)
    left = (WIDTH - slot * count) / 2
    base = 30 + COLUMN_HEIGHT  # room above the tallest column for its count
    drawn = []
    for index, step in enumerate(steps):
        amount = float(step.get(value) or 0)
        height = round(COLUMN_HEIGHT * amount / maximum, 1) if maximum > 0 else 0.0
        x = round(left + index * slot + (slot - width) / 2, 1)
        drawn.append(
            dict(step)
            | {
                "x": x,
                "top": round(base - height, 1),
                "height": height,
                "middle": round(x + width / 2, 1),
            }
        )
    return {
        "width": WIDTH,
        "height": base + 56,
        "base": base,
        "column": round(width, 1),
        "left": round(left, 1),
        "right": round(left + slot * count, 1),
        "steps": drawn,
    }


def at_share(chart: Mapping[str, Any], share: float) -> float:
    """The x of a point `share` (0 to 1) of the way from a column chart's first
    column's middle to its last's (where a scale's mean sits between min and max)."""
    steps = chart["steps"]
    if not steps:
        return 0.0
    first, last = float(steps[0]["middle"]), float(steps[-1]["middle"])
    return round(first + (last - first) * share, 1)


def cloud(words: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Words laid out as a cloud: in the order given (most frequent first), each at
    the font size of its `level` (1 to 6), filled line by line and each line centred.
    Every word gets `x`, `y` (its baseline) and `size`."""
    lines: list[list[dict[str, Any]]] = [[]]
    widths = [0.0]
    for word in words:
        size = CLOUD_SMALLEST + CLOUD_STEP * (min(max(int(word.get("level", 1)), 1), 6) - 1)
        width = len(str(word["text"])) * size * CHARACTER
        if lines[-1] and widths[-1] + CLOUD_GAP + width > WIDTH - 20:
            lines.append([])
            widths.append(0.0)
        gap = CLOUD_GAP if lines[-1] else 0.0
        lines[-1].append(dict(word) | {"size": size, "offset": widths[-1] + gap})
        widths[-1] += gap + width
    placed: list[dict[str, Any]] = []
    y = 8.0
    for line, width in zip(lines, widths, strict=True):
        if not line:
            continue
        tallest = max(word["size"] for word in line)
        y += tallest
        start = (WIDTH - width) / 2
        for word in line:
            offset = word.pop("offset")
            placed.append(word | {"x": round(start + offset, 1), "y": round(y, 1)})
        y += tallest * 0.3
    return {"width": WIDTH, "height": round(y + 10, 1), "words": placed}
