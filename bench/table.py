"""Every row of the load table in docs/performance.md, and its plot.

    python -m bench table [--sizes 1000 5000 10000 20000] [--redis URL] [--out DIR]
                          [--no-storm]

For each N: the baseline server (the machine's own limit), the same least
server as a bare ASGI app on uvicorn with poll's settings (what the web stack
itself costs), poll on the embedded store (one process), and poll on Redis
with two and with four worker processes, all measured by the same generator
one after another; each poll run
ends with a reconnect storm (`bench load --reconnect-storm`) unless --no-storm.
Writes the summaries to DIR/performance.json, the plot (latency percentiles
against N) to DIR/performance.png, and prints the Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from bench import clients, load

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [("sqlite", 1), ("redis", 2), ("redis", 4)]
#: The second baseline's row: bench/baseline_asgi.py, the least server on uvicorn.
STACK_BASELINE = "baseline on uvicorn"


def options(n: int, store: str, workers: int, baseline: bool, storm: bool) -> argparse.Namespace:
    return load.parser().parse_args(
        ["--participants", str(n), "--store", store, "--workers", str(workers)]
        + ([] if baseline else ["--no-baseline"])
        + (["--reconnect-storm"] if storm else [])
    )


#: Descriptors a server process needs beyond one per phone (its pages' connections,
#: the store, its files).
RESERVE = 1_000


def one_process_holds(n: int) -> bool:
    """Whether one server process may hold n phones under the open-file limit (which
    `bench load` raises as far as it may: the hard limit, or the unit's if root may)."""
    return n + RESERVE <= clients.raise_nofile(clients.UNIT_NOFILE)


async def measure_all(
    sizes: list[int], redis: str | None, storm: bool = True
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in sizes:
        base: dict[str, Any] | None = None
        single = one_process_holds(n)
        if not single:
            print(
                f"N={n}: one process may not open {n + RESERVE:,} files here: "
                "no baseline and no one-process (SQLite) row, Redis rows without ratios"
            )
        for store, workers in CONFIGS:
            if workers == 1 and not single:
                continue
            if store == "redis":
                if redis is None:
                    continue
                store = redis
            summary = await load.run(options(n, store, workers, single and base is None, storm))
            load.report(summary)
            if single and base is None:
                base = summary["baseline"]
                rows.append({"config": "baseline", "n": n, "result": base})
                # The same least server on poll's web stack: what the stack costs.
                stack = await load.run_baseline(options(n, store, workers, True, False), "uvicorn")
                load.report({"participants": n, "baseline": stack})
                rows.append(
                    {
                        "config": STACK_BASELINE,
                        "n": n,
                        "result": stack,
                        "ratio": load.ratios(stack, base),
                    }
                )
            rows.append(
                {
                    "config": f"{summary['poll']['store']}, {workers} worker"
                    + ("s" if workers > 1 else ""),
                    "n": n,
                    "result": summary["poll"],
                    "redis": summary.get("redis"),
                    "ratio": load.ratios(summary["poll"], base) if base else None,
                }
            )
    return rows


def _cell(value: float | None, ratio: float | None = None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:,.0f}{unit}"
    return f"{text} ({ratio:.1f}×)" if ratio is not None else text


def _seconds(value: float | None, ratio: float | None = None) -> str:
    if value is None:
        return "–"
    return f"{value:.1f}" + (f" ({ratio:.1f}×)" if ratio is not None else "")


def _redis(r: dict[str, Any]) -> str:
    """The Redis server's own CPU, which is not in the server's process tree."""
    cpu = r["server"].get("redis_cpu_s")
    return f"; Redis {cpu:.1f}" if cpu is not None else ""


def _share(share: float | None) -> str:
    """The generator's share of the CPU it and the server used (measured since it had one)."""
    return f" ({share:.0%})" if share is not None else ""


def _storm(r: dict[str, Any]) -> str:
    """All back after s, reconnect p99 ms, and phones not back right (lost or wrong)."""
    storm = r.get("storm")
    if not storm:
        return "–"
    wrong = storm["phones"] - storm["back"]
    back = storm["seconds_all_back"]
    p99 = storm["reconnect_ms"]["p99"]
    return (
        f"{back:.1f} s, p99 {p99:,.0f} ms, {wrong} not right"
        if back is not None
        else f"{wrong} not right"
    )


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| N | server | joined / failed | all in, s | lost / doubled | ack p99 ms "
        "| projector p99 ms | fan-out p99 ms | reconnect storm: all back, reconnect p99, wrong "
        "| peak RSS MiB | RSS per phone KiB | server CPU s; Redis's own "
        "| generator CPU s (share) | generator lag p99 ms |",
        "| ---: | --- | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: "
        "| ---: |",
    ]
    for row in rows:
        r, ratio = row["result"], row.get("ratio") or {}
        c = r["correct"]
        lost = f"{c['lost'] + c.get('csv_lost', 0)} / {c['doubled'] + c.get('csv_doubled', 0)}"
        lines.append(
            f"| {row['n']:,} | {row['config']} | {r['join']['joined']:,} / {r['join']['failed']} "
            f"| {_seconds(r['join']['seconds_all_in'], ratio.get('join_s'))} "
            f"| {lost} | {_cell(r['vote']['ack_ms']['p99'], ratio.get('ack_p99'))} "
            f"| {_cell(r['vote']['projector_ms']['p99'], ratio.get('projector_p99'))} "
            f"| {_cell(r['fanout']['ms']['p99'], ratio.get('fanout_p99'))} "
            f"| {_storm(r)} "
            f"| {_cell(r['server']['peak_rss_mib'], ratio.get('peak_rss'))} "
            f"| {_cell(r['server'].get('rss_per_phone_kib'), ratio.get('rss_per_phone'))} "
            f"| {_seconds(r['server']['cpu_s'], ratio.get('server_cpu'))}{_redis(r)} "
            f"| {_seconds(r['generator']['cpu_s'])}{_share(r['generator'].get('share'))} "
            f"| {_cell((r['vote'].get('generator_lag_ms') or {}).get('p99'))} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [
        ("ack_ms", "vote → ack"),
        ("projector_ms", "vote → projector"),
        ("fanout_ms", "next item → every phone"),
    ]
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.5), sharey=True)
    configs = sorted(
        {row["config"] for row in rows}, key=lambda c: (not c.startswith("baseline"), c)
    )
    colours = {config: f"C{i}" for i, config in enumerate(configs)}
    for axis, (key, title) in zip(axes, measures, strict=True):
        for config in configs:
            mine = sorted((r for r in rows if r["config"] == config), key=lambda r: r["n"])
            sizes = [r["n"] for r in mine]
            for pct, style in (("p50", ":"), ("p99", "-")):
                values = [
                    (
                        r["result"]["fanout"]["ms"]
                        if key == "fanout_ms"
                        else r["result"]["vote"][key]
                    )[pct]
                    for r in mine
                ]
                axis.plot(
                    sizes, values, style, marker="o", color=colours[config], label=f"{config} {pct}"
                )
        axis.set_title(title)
        axis.set_xlabel("participants (N)")
        axis.set_yscale("log")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("latency, ms (log scale)")
    axes[-1].legend(fontsize=8)
    figure.suptitle("poll live load on a 2-core machine (generator on the same machine)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench table", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000, 20000])
    parser.add_argument("--redis", default=load.DEFAULT_REDIS, help="'' to leave Redis out")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument(
        "--replot", action="store_true", help="only redraw from DIR/performance.json"
    )
    parser.add_argument(
        "--no-storm", dest="storm", action="store_false", help="no reconnect storm in poll's runs"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "performance.json"
    if args.replot:
        rows = json.loads(data.read_text())
    else:
        rows = asyncio.run(measure_all(args.sizes, args.redis or None, args.storm))
        data.write_text(json.dumps(rows, indent=1) + "\n")
    plot(rows, out / "performance.png")
    print(markdown(rows))
    return 0
