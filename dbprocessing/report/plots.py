"""Pictures: the coverage of products by date, and histograms of code run times, as PNG.

matplotlib is an optional extra (``pip install 'dbprocessing[plot]'``): it is
imported only inside the drawing functions, through the Agg canvas (no
display, no global backend switch), so the rest of dbprocessing never needs
it.  The coverage picture colours each product and date by its state from
``status.mission_status`` with the coverage page's colours; the histogram
colours runs by outcome with the same palette (succeeded as up_to_date,
failed as failed, runs read from log files as queued).
"""
from __future__ import annotations

import datetime
import io
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UsageError
from .coverage import COLOURS
from .runtimes import LOGGED, RunTime
from .status import STATES, DateStatus

if TYPE_CHECKING:  # matplotlib is optional: imported only to draw
    from matplotlib.figure import Figure

EXTRA = "pip install 'dbprocessing[plot]'"
DPI = 100
OUTCOME_COLOURS = {"succeeded": COLOURS["up_to_date"], "failed": COLOURS["failed"],
                   "timed_out": COLOURS["stale"], LOGGED: COLOURS["queued"]}


def cannot_draw(prog: str, output: Path) -> str | None:
    """Why *prog* cannot draw at all (matplotlib missing: the message to print),
    else None; UsageError for an *output* that is not a file ending in .png."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return f"{prog} needs matplotlib: {EXTRA}"
    if output.suffix.lower() != ".png" or output.is_dir():
        raise UsageError(f"{output}: the output must be a file ending in .png")
    return None


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()


def coverage_size(products: int, days: int) -> tuple[float, float]:
    """Figure size in inches: wider with the days (to a limit), taller with the products."""
    return min(max(8.0, 4.0 + 0.05 * days), 40.0), 1.8 + 0.35 * max(products, 1)


def coverage_png(mission: str, rows: list[DateStatus], *,
                 generated_at: datetime.datetime | None = None) -> bytes:
    """Products (rows, top to bottom in the order given) by date, each cell the
    colour of its state; a period product's cell spans its period."""
    from matplotlib import dates as mdates
    from matplotlib.patches import Patch

    by_product: dict[str, list[DateStatus]] = defaultdict(list)
    for r in rows:
        by_product[r.product].append(r)
    first = min(r.date for r in rows)
    last = max(r.date for r in rows)
    figure = _figure(*coverage_size(len(by_product), (last - first).days + 1))
    axes = figure.add_subplot()
    right = mdates.date2num(last) + 0.5
    for y, items in enumerate(by_product.values()):
        items.sort(key=lambda r: r.date)
        spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for i, r in enumerate(items):
            if i + 1 < len(items):  # a cell runs to the product's next date
                width = (items[i + 1].date - r.date).days
            else:
                width = (r.date - items[i - 1].date).days if i else 1
            # Centred on its date, so a date's tick labels its cell; a thin gap
            # between cells (thinner than a pixel at 500 days).
            start = mdates.date2num(r.date) - 0.5
            spans[r.state].append((start + 0.04, width - 0.08))
            right = max(right, start + width)
        for state, xranges in spans.items():
            axes.broken_barh(xranges, (y - 0.4, 0.8), facecolors=COLOURS[state],
                             linewidth=0, antialiased=False)
    axes.set_yticks(range(len(by_product)), list(by_product))
    axes.set_ylim(len(by_product) - 0.5, -0.5)
    axes.set_xlim(mdates.date2num(first) - 0.5, right)
    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    counts = Counter(r.state for r in rows)
    axes.legend(handles=[Patch(facecolor=COLOURS[s], label=f"{s}: {counts[s]}")
                         for s in STATES if counts[s]],
                loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    axes.set_title(f"Coverage of {mission}, {first} to {last}")
    if generated_at is not None:  # bottom left, below the product names
        figure.text(0.005, 0.005, f"generated {generated_at:%Y-%m-%d %H:%M} UTC",
                    ha="left", va="bottom", fontsize="x-small", color="#666666")
    return _png(figure)


def histogram_size(codes: int) -> tuple[float, float]:
    columns = min(codes, 3)
    rows = -(-codes // 3)
    return 5.0 * columns, 3.5 * rows


def histogram_png(times: list[RunTime], *,
                  generated_at: datetime.datetime | None = None) -> bytes:
    """One histogram per code (by filename) of its run times, stacked by outcome."""
    import numpy
    from matplotlib.ticker import MaxNLocator

    by_code: dict[str, list[RunTime]] = defaultdict(list)
    for t in times:
        by_code[t.code].append(t)
    figure = _figure(*histogram_size(len(by_code)))
    columns = min(len(by_code), 3)
    rows = -(-len(by_code) // 3)
    for index, code in enumerate(sorted(by_code), 1):
        runs = by_code[code]
        axes = figure.add_subplot(rows, columns, index)
        seconds = [t.seconds for t in runs]
        edges = numpy.histogram_bin_edges(seconds, bins="auto")
        series = [(outcome, [t.seconds for t in runs if t.outcome == outcome])
                  for outcome in OUTCOME_COLOURS]
        series = [(outcome, values) for outcome, values in series if values]
        axes.hist([values for _, values in series], bins=edges.tolist(), stacked=True,
                  color=[OUTCOME_COLOURS[o] for o, _ in series],
                  label=[f"{o}: {len(v)}" for o, v in series], edgecolor="white",
                  linewidth=0.5)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        processes = sorted({t.process for t in runs if t.process})
        axes.set_title(f"{code}" + (f" ({', '.join(processes)})" if processes else ""),
                       fontsize="medium")
        axes.set_xlabel(f"run time [s]; median {numpy.median(seconds):.3g} s, "
                        f"max {max(seconds):.3g} s")
        axes.set_ylabel("runs")
        axes.legend(fontsize="small")
    if generated_at is not None:
        figure.suptitle(f"Run times of codes, generated {generated_at:%Y-%m-%d %H:%M} UTC",
                        fontsize="small")
    return _png(figure)
