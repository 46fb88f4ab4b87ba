#!/usr/bin/env python3
"""Draw each Grafana dashboard of the chart as a PNG from its queries' results (not with Grafana: this script
lays the panels out as the dashboard's gridPos says and plots what Prometheus returned for each query).

    render_dashboards.py DATA_DIR [--out docs/images]

DATA_DIR holds <dashboard>.json as tests/integration/test_observability_metrics.py writes them with
REMEDIATOR_DASHBOARD_DATA=DATA_DIR: per panel title, the series (legend, [[time, value], ...]) its queries
returned over the test's incident. Needs matplotlib (the `tools` extra).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

REPO = Path(__file__).resolve().parents[1]
DASHBOARDS = REPO / "charts" / "kube-remediator" / "dashboards"
BACKGROUND, PANEL, TEXT, GRID = "#111217", "#181b1f", "#ccccdc", "#2c3235"
PALETTE = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff", "#fade2a", "#ca95e5"]
NOTE = (
    "Drawn by hack/render_dashboards.py from the dashboard's queries against a real Prometheus (test data); "
    "not a Grafana screenshot."
)


def _values(series: dict[str, Any]) -> tuple[list[datetime], list[float]]:
    times = [datetime.fromtimestamp(float(t), UTC) for t, _ in series["values"]]
    return times, [float(v) for _, v in series["values"]]


def _last(series: list[dict[str, Any]]) -> float | None:
    for s in series:
        vals = [v for v in _values(s)[1] if not math.isnan(v)]
        if vals:
            return vals[-1]
    return None


def fmt(value: float | None, unit: str) -> str:
    if value is None or math.isnan(value):
        return "no data"
    if unit == "percentunit":
        return f"{value:.0%}"
    if unit == "s":
        if value >= 3600:
            return f"{value / 3600:.1f} h"
        return f"{value / 60:.1f} min" if value >= 120 else f"{value:.1f} s"
    if unit == "ops":
        return f"{value:.3g}/s"
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _style(ax: Axes, title: str) -> None:
    ax.set_facecolor(PANEL)
    ax.set_title(title, color=TEXT, fontsize=9, loc="left", pad=4)
    for spine in ax.spines.values():
        spine.set_color(GRID)
    ax.tick_params(colors=TEXT, labelsize=7)


def _stat(ax: Axes, panel: dict[str, Any], series: list[dict[str, Any]]) -> None:
    value = _last(series)
    steps = (panel["fieldConfig"]["defaults"].get("thresholds") or {}).get("steps") or []
    color = PALETTE[0]
    for step in steps:
        if step["value"] is None or (value is not None and value >= step["value"]):
            color = {"green": "#73bf69", "orange": "#ff9830", "red": "#f2495c"}.get(step["color"], color)
    ax.text(0.5, 0.45, fmt(value, panel["fieldConfig"]["defaults"]["unit"]), color=color, fontsize=22,
            ha="center", va="center", weight="bold", transform=ax.transAxes)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def _timeseries(ax: Axes, panel: dict[str, Any], series: list[dict[str, Any]]) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    stacked = (panel["fieldConfig"]["defaults"].get("custom") or {}).get("stacking", {}).get("mode") == "normal"
    shown = [s for s in series if any(not math.isnan(v) for v in _values(s)[1])]
    # Series that are all zero clutter the legend of a stacked panel: keep them out unless nothing else is there.
    busy = [s for s in shown if any(v for v in _values(s)[1] if not math.isnan(v))]
    shown = (busy or shown)[: len(PALETTE)]
    base: dict[float, float] = {}  # a stacked panel draws each series on top of the ones before it
    for i, s in enumerate(shown):
        stamps = [float(t) for t, _ in s["values"]]
        times, vals = _values(s)
        color = PALETTE[i % len(PALETTE)]
        if stacked:
            below = [base.get(t, 0.0) for t in stamps]
            vals = [b + (0.0 if math.isnan(v) else v) for b, v in zip(below, vals, strict=True)]
            base.update(zip(stamps, vals, strict=True))
            ax.fill_between(times, below, vals, step="post", alpha=0.3, color=color)
        style = "steps-post" if stacked else "default"
        ax.plot(times, vals, color=color, linewidth=1.4, label=s["legend"], drawstyle=style)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=UTC))
    ax.grid(color=GRID, linewidth=0.5)
    top = panel["fieldConfig"]["defaults"].get("max")
    if top is not None:
        ax.set_ylim(0, top * 1.05)
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt(v, unit)))
    if shown:
        ax.legend(fontsize=6, loc="upper left", facecolor=PANEL, edgecolor=GRID, labelcolor=TEXT, ncol=2)


def _bargauge(ax: Axes, panel: dict[str, Any], series: list[dict[str, Any]]) -> None:
    unit = panel["fieldConfig"]["defaults"]["unit"]
    bars = [(s["legend"], _last([s])) for s in series]
    bars = [(label, v) for label, v in bars if v is not None and not math.isnan(v)]
    labels = [b[0] for b in bars]
    values = [b[1] for b in bars]
    top = panel["fieldConfig"]["defaults"].get("max") or max(values or [1]) * 1.2
    colors = [PALETTE[0] if v >= 0.9 else PALETTE[3] if v >= 0.7 else PALETTE[4] for v in values]
    ax.barh(range(len(values)), [max(v, top * 0.005) for v in values], color=colors, height=0.6)
    for y, (label, v) in enumerate(zip(labels, values, strict=True)):
        ax.text(top * 0.01, y - 0.42, label, color=TEXT, fontsize=8, va="bottom")
        ax.text(top * 0.99, y - 0.42, fmt(v, unit), color=TEXT, fontsize=8, va="bottom", ha="right", weight="bold")
    ax.set_xlim(0, top)
    ax.set_ylim(len(values) - 0.5, -0.9)
    ax.set_yticks([])


def _heatmap(ax: Axes, panel: dict[str, Any], series: list[dict[str, Any]]) -> None:
    """Cumulative `le` buckets -> the count in each bucket, per time step, as a colour grid."""
    buckets = sorted(((float(s["legend"]), _values(s)) for s in series if s["legend"] != "+Inf"), key=lambda b: b[0])
    if not buckets:
        return
    times = buckets[0][1][0]
    cumulative = [[0.0 if math.isnan(v) else v for v in vals] for _, (_, vals) in buckets]
    counts = [cumulative[0]] + [[hi - lo for hi, lo in zip(cumulative[i], cumulative[i - 1], strict=False)]
                                for i in range(1, len(cumulative))]  # fmt: skip
    edges = [0.0] + [b[0] for b in buckets]
    x = mdates.date2num(times)
    if len(x) > 1:
        x = [*x, x[-1] + (x[-1] - x[-2])]
    empty_is_background = [[math.nan if c <= 0 else c for c in row] for row in counts]
    ax.pcolormesh(x, edges, empty_is_background, cmap="Oranges", shading="flat", vmin=0)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(0, edges[-1])
    ax.xaxis_date(tz=UTC)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S", tz=UTC))
    ax.yaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.0%}"))


DRAW = {"stat": _stat, "timeseries": _timeseries, "bargauge": _bargauge, "heatmap": _heatmap}


def render(name: str, data: dict[str, Any], out: Path) -> Path:
    model = json.loads((DASHBOARDS / f"{name}.json").read_text())
    panels = model["panels"]
    height = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(18, height * 0.42 + 1.2), facecolor=BACKGROUND)
    grid = fig.add_gridspec(height, 24, left=0.02, right=0.99, top=1 - 0.9 / (height * 0.42 + 1.2), bottom=0.04,
                            hspace=2.2, wspace=1.2)  # fmt: skip
    fig.suptitle(model["title"], color=TEXT, fontsize=14, x=0.02, ha="left")
    for panel in panels:
        pos = panel["gridPos"]
        ax = fig.add_subplot(grid[pos["y"] : pos["y"] + pos["h"], pos["x"] : pos["x"] + pos["w"]])
        if panel["type"] == "row":
            ax.axis("off")
            ax.text(0, 0.2, panel["title"], color=TEXT, fontsize=11, weight="bold", transform=ax.transAxes)
            continue
        _style(ax, panel["title"])
        DRAW[panel["type"]](ax, panel, data["panels"].get(panel["title"], []))
    fig.text(0.02, 0.012, NOTE, color="#8e8e8e", fontsize=8)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"dashboard-{name}.png"
    fig.savefig(path, dpi=80, facecolor=BACKGROUND)
    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="directory with <dashboard>.json query results")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args(argv)
    files = sorted(args.data.glob("*.json"))
    if not files:
        print(f"no <dashboard>.json in {args.data}", file=sys.stderr)
        return 1
    for path in files:
        print(render(path.stem, json.loads(path.read_text()), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
