"""`bamon analytics NAME --plot FILE.svg|png`: a chart of a check's durations and failures.

SVG is written directly (a few elements; no dependency). PNG needs matplotlib
(python3-matplotlib), imported only here and only for PNG.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape

from bamon.errors import BamonError
from bamon.history.runs import Run
from bamon.history.stats import percentiles

WIDTH, HEIGHT, PAD = 900, 360, 50
_COLORS = {"OK": "#2e7d32", "WARNING": "#f9a825", "FAILED": "#c62828", "UNKNOWN": "#757575"}


def _when(moment: float) -> str:
    return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%d %H:%M")


def svg(name: str, runs: Sequence[Run]) -> str:
    """Durations over time (line), each run's outcome (dots), and the p95 (dashed)."""
    if not runs:
        raise BamonError(f"no runs of {name} in that time span to plot", "widen it with --since")
    xs = [r.record.start_us / 1e6 for r in runs]
    ys = [r.record.duration for r in runs]
    x0, x1 = xs[0], max(xs[-1], xs[0] + 1)
    top = max(ys) * 1.1 or 1.0

    def px(x: float) -> float:
        return PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)

    def py(y: float) -> float:
        return HEIGHT - PAD - y / top * (HEIGHT - 2 * PAD)

    p95 = percentiles(ys, (95,))["p95"]
    line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in zip(xs, ys, strict=True))
    dots = "".join(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{_COLORS.get(r.status, "#000")}">'
                   f"<title>{escape(_when(x))} {escape(r.status)} {y:.3f} s</title></circle>"
                   for x, y, r in zip(xs, ys, runs, strict=True))
    legend = " ".join(f'<tspan fill="{_COLORS[s]}">● {s}</tspan>' for s in ("OK", "WARNING", "FAILED"))
    return f"""<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"
 font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{PAD}" y="24" font-size="15">{escape(name)}: run duration (s), {len(runs)} runs</text>
<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#333"/>
<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#333"/>
<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top:.3g}</text>
<text x="{PAD - 6}" y="{HEIGHT - PAD + 4}" text-anchor="end">0</text>
<text x="{PAD}" y="{HEIGHT - PAD + 20}">{escape(_when(x0))} UTC</text>
<text x="{WIDTH - PAD}" y="{HEIGHT - PAD + 20}" text-anchor="end">{escape(_when(x1))} UTC</text>
<line x1="{PAD}" y1="{py(p95):.1f}" x2="{WIDTH - PAD}" y2="{py(p95):.1f}" stroke="#1565c0" stroke-dasharray="6 4"/>
<text x="{WIDTH - PAD}" y="{py(p95) - 4:.1f}" text-anchor="end" fill="#1565c0">p95 {p95:.3g} s</text>
<polyline points="{line}" fill="none" stroke="#555" stroke-width="1"/>
{dots}
<text x="{WIDTH - PAD}" y="24" text-anchor="end">{legend}</text>
</svg>
"""


def png(name: str, runs: Sequence[Run], path: Path) -> None:
    try:
        import matplotlib  # type: ignore[import-not-found, unused-ignore]

        matplotlib.use("Agg")  # no display needed
        from matplotlib import pyplot  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise BamonError("PNG charts need matplotlib", "apt install python3-matplotlib, or write an .svg") from None
    if not runs:
        raise BamonError(f"no runs of {name} in that time span to plot", "widen it with --since")
    xs = [datetime.fromtimestamp(r.record.start_us / 1e6, tz=UTC) for r in runs]
    ys = [r.record.duration for r in runs]
    figure, axes = pyplot.subplots(figsize=(9, 3.6))
    axes.plot(xs, ys, color="#555", linewidth=0.8)
    axes.scatter(xs, ys, s=8, c=[_COLORS.get(r.status, "#000") for r in runs], zorder=3)
    axes.axhline(percentiles(ys, (95,))["p95"], color="#1565c0", linestyle="--", label="p95")
    axes.set_title(f"{name}: run duration (s), {len(runs)} runs")
    axes.legend()
    figure.autofmt_xdate()
    figure.savefig(path, dpi=100)
    pyplot.close(figure)


def write(name: str, runs: Sequence[Run], path: Path) -> None:
    """Write the chart; the file name's suffix picks the format."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".svg":
            path.write_text(svg(name, runs), encoding="utf-8")
        elif suffix == ".png":
            png(name, runs, path)
        else:
            raise BamonError(f"cannot plot to {path.name!r}: unknown format", "name the file .svg or .png")
    except OSError as exc:
        raise BamonError(f"cannot write {path}: {exc.strerror}", "choose a writable place for the chart") from None
