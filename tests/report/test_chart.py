"""The report's chart geometry (poll/questions/_chart.py): bars in proportion, columns
side by side, and a word cloud whose words stay inside the chart and never overlap,
the same every time."""

from __future__ import annotations

from poll.questions._chart import (
    BAR_LENGTH,
    CHARACTER,
    CLOUD_GAP,
    COLUMN_HEIGHT,
    WIDTH,
    at_share,
    clip,
    cloud,
    columns,
    hbars,
)


def test_bars_are_in_proportion_and_long_labels_are_cut() -> None:
    rows = [{"label": "x" * 50, "percent": 100.0}, {"label": "b", "percent": 25.0}]
    chart = hbars(rows, value="percent", maximum=100.0)
    assert [row["length"] for row in chart["rows"]] == [BAR_LENGTH, BAR_LENGTH / 4]
    assert chart["rows"][0]["short"] == clip("x" * 50) and chart["rows"][0]["short"].endswith("…")
    assert chart["rows"][0]["label"] == "x" * 50  # the table keeps it whole
    assert (
        hbars([{"label": "a", "percent": 0}], value="percent", maximum=0)["rows"][0]["length"] == 0
    )


def test_columns_sit_side_by_side_and_the_mean_between_them() -> None:
    steps = [{"value": v, "percent": p} for v, p in ((1, 10.0), (2, 40.0), (3, 50.0))]
    chart = columns(steps, value="percent", maximum=50.0)
    xs = [step["x"] for step in chart["steps"]]
    assert xs == sorted(xs)
    heights = [step["height"] for step in chart["steps"]]
    assert heights == [COLUMN_HEIGHT / 5, COLUMN_HEIGHT * 4 / 5, COLUMN_HEIGHT]
    assert at_share(chart, 0.0) == chart["steps"][0]["middle"]
    assert at_share(chart, 1.0) == chart["steps"][-1]["middle"]


def test_the_word_cloud_keeps_its_words_apart_and_inside() -> None:
    words = [
        {"text": word, "level": level}
        for word, level in (
            ("Busy", 6),
            ("collaboration", 5),
            ("fun", 4),
            ("Hectic", 3),
            ("calm", 2),
            ("stroopwafels", 2),
            ("deadline", 1),
            ("coffee", 1),
            ("onboarding", 1),
        )
    ]
    layout = cloud(words)
    assert layout == cloud(words)  # deterministic
    placed = layout["words"]
    assert [w["text"] for w in placed] == [w["text"] for w in words]  # most frequent first
    boxes = []
    for word in placed:
        width = len(word["text"]) * word["size"] * CHARACTER
        assert word["x"] >= 0 and word["x"] + width <= WIDTH
        assert word["y"] <= layout["height"]
        boxes.append((word["x"], word["y"] - word["size"], word["x"] + width, word["y"]))
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            apart = a[2] + CLOUD_GAP / 2 <= b[0] or b[2] + CLOUD_GAP / 2 <= a[0]
            assert apart or a[3] <= b[1] or b[3] <= a[1], (a, b)
    assert placed[0]["size"] > placed[-1]["size"]
