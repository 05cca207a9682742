"""Coverage report: one self-contained HTML page of products by date, coloured by state.

Rows are products (by level), columns dates; each cell shows the newest
version and is coloured by its state from ``status.mission_status`` (the same
states printStatus prints); hovering shows the reason.  A small script in the
page counts the states and fills the summary line, so a browser that rendered
the page says so (the tests check it in headless Chromium).  No external
resources: the page can be mailed or served as it is.
"""
from __future__ import annotations

import datetime
import html
from collections import defaultdict

from .status import STATES, DateStatus

COLOURS = {
    "up_to_date": "#2ca02c", "stale": "#ff7f0e", "missing": "#9467bd", "blocked": "#7f7f7f",
    "failed": "#d62728", "queued": "#1f77b4", "absent": "#f0f0f0",
}

_STYLE = """
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; font-size: 11px; }
th, td { border: 1px solid #ccc; padding: 2px 4px; text-align: center; }
th.product { text-align: left; white-space: nowrap; }
th.date { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: normal; }
td.state { min-width: 28px; height: 18px; color: #fff; }
td.absent { color: #999; }
.legend span.absent { color: #666; }
.legend span { display: inline-block; padding: 2px 6px; margin-right: 4px; color: #fff; }
"""

_SCRIPT = """
const counts = {};
for (const cell of document.querySelectorAll('td.state')) {
  const state = cell.dataset.state;
  counts[state] = (counts[state] || 0) + 1;
}
const problems = ['stale', 'missing', 'failed', 'queued']
  .reduce((n, s) => n + (counts[s] || 0), 0);
for (const item of document.querySelectorAll('.legend span')) {
  item.textContent = item.dataset.state + ': ' + (counts[item.dataset.state] || 0);
}
document.getElementById('summary').textContent = problems === 0
  ? 'all up to date' : problems + ' date(s) need attention';
"""


def render_coverage(mission: str, rows: list[DateStatus], start: datetime.date | None,
                    end: datetime.date | None) -> str:
    """The page, as a string (deterministic for the same rows)."""
    dates = sorted({r.date for r in rows})
    products: dict[str, dict[datetime.date, DateStatus]] = defaultdict(dict)
    for r in rows:
        products[r.product][r.date] = r
    esc = html.escape
    span = f"{start or (dates[0] if dates else '-')} to {end or (dates[-1] if dates else '-')}"
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>Coverage of {esc(mission)}</title>",
           "<style>" + _STYLE + "".join(
               f"td.{s}, .legend span.{s} {{ background: {c}; }}\n"
               for s, c in COLOURS.items()) + "</style></head><body>",
           f"<h1>Coverage of {esc(mission)}</h1>",
           f"<p>Products by date, {esc(span)}. <strong id=\"summary\">"
           f"(the summary needs JavaScript)</strong></p>",
           "<p class=\"legend\">" + "".join(
               f"<span class=\"{s}\" data-state=\"{s}\">{s}</span>" for s in STATES) + "</p>",
           "<table id=\"coverage\"><thead><tr><th class=\"product\">product</th>"]
    out += [f"<th class=\"date\">{d.isoformat()}</th>" for d in dates]
    out.append("</tr></thead><tbody>")
    for product, by_date in products.items():
        out.append(f"<tr><th class=\"product\">{esc(product)}</th>")
        for d in dates:
            r = by_date.get(d)
            if r is None:  # a period product has no row for days inside its periods
                out.append("<td></td>")
                continue
            tip = f"{product} {d}: {r.state}: {r.reason}"
            if r.filename:
                tip += f" ({r.filename})"
            out.append(f"<td class=\"state {r.state}\" data-state=\"{r.state}\" "
                       f"title=\"{esc(tip)}\">{esc(r.version or '')}</td>")
        out.append("</tr>")
    out += ["</tbody></table>", "<script>" + _SCRIPT + "</script>", "</body></html>"]
    return "\n".join(out) + "\n"
