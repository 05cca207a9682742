"""Coverage report: one self-contained HTML page of products by date, coloured by state.

Rows are products (by level), columns dates; each cell shows the newest
version and is coloured by its state from ``status.mission_status`` (the same
states printStatus prints); hovering shows the reason.  Built to stay readable
over years of data: the product names stay in view while the table scrolls
sideways (a sticky first column), the dates are grouped under a row of months
(each column header is the day of the month, its full date on hover; its id,
``d2025-01-31``, lets a link such as ``coverage.html#d2025-01-31`` open the page
at that date), and the page says when it was generated.

A small script in the page counts the states and fills the summary line and
the legend, so a browser that rendered the page says so (the tests check it in
headless Chromium).  The summary says "all up to date" only when every cell
is; blocked and absent dates are named even when nothing needs attention.
No external resources: the page can be mailed or served as it is.
"""
from __future__ import annotations

import datetime
import html
from collections import defaultdict
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Instrument, Product, Satellite
from ..db.queries import find_product
from ..mission.tree import MissionTree
from .status import STATES, DateStatus, StatusReader, mission_status

COLOURS = {
    "up_to_date": "#2ca02c", "stale": "#ff7f0e", "missing": "#9467bd", "blocked": "#7f7f7f",
    "failed": "#d62728", "queued": "#1f77b4", "absent": "#f0f0f0",
}

_STYLE = """
body { font-family: sans-serif; margin: 1em; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: separate; border-spacing: 0; font-size: 11px; }
th, td { border: 1px solid #ccc; padding: 2px 4px; text-align: center; }
th.product { text-align: left; white-space: nowrap; position: sticky; left: 0;
             z-index: 2; background: #fff; }
th.month { text-align: left; background: #eee; border-left: 2px solid #555; }
th.date { font-weight: normal; }
[data-month-start] { border-left: 2px solid #555; }
td.state { min-width: 28px; height: 18px; color: #fff; }
td.absent { color: #999; }
.legend span.absent { color: #666; }
.legend span { display: inline-block; padding: 2px 6px; margin-right: 4px; color: #fff; }
p.generated { color: #666; font-size: 12px; }
"""

# Every cell up to date: "all up to date".  Otherwise the problems (which the
# next ProcessQueue -p would act on), then the gaps it cannot fill.
_SCRIPT = """
const counts = {};
let cells = 0;
for (const cell of document.querySelectorAll('td.state')) {
  const state = cell.dataset.state;
  counts[state] = (counts[state] || 0) + 1;
  cells += 1;
}
const problems = ['stale', 'missing', 'failed', 'queued']
  .reduce((n, s) => n + (counts[s] || 0), 0);
for (const item of document.querySelectorAll('.legend span')) {
  item.textContent = item.dataset.state + ': ' + (counts[item.dataset.state] || 0);
}
const parts = [];
if (problems > 0) parts.push(problems + ' date(s) need attention');
else if ((counts['up_to_date'] || 0) < cells) parts.push('nothing to rebuild');
if (counts['blocked']) parts.push(counts['blocked'] + ' date(s) blocked (an input is missing)');
if (counts['absent']) parts.push(counts['absent'] + ' date(s) without data');
document.getElementById('summary').textContent =
  cells > 0 && counts['up_to_date'] === cells ? 'all up to date'
  : (parts.length ? parts.join('; ') : 'nothing to show');
"""


def products_by_satellite(session: Session,
                          products: list[str] | None = None) -> dict[str, list[str]]:
    """Product names (of *products*, names or ids; default every product) grouped by
    their satellite's name, as the original wrote one page per satellite."""
    query = (select(Satellite.satellite_name, Product.product_name)
             .join(Instrument, Instrument.satellite_id == Satellite.satellite_id)
             .join(Product, Product.instrument_id == Instrument.instrument_id)
             .order_by(Satellite.satellite_name, Product.level, Product.product_name))
    if products:
        query = query.where(Product.product_id.in_(
            [find_product(session, p).product_id for p in products]))
    return {name: [product for _, product in group]
            for name, group in groupby(session.execute(query).all(), key=lambda row: row[0])}


def render_coverage(mission: str, rows: list[DateStatus], start: datetime.date | None,
                    end: datetime.date | None, *,
                    generated_at: datetime.datetime | None = None) -> str:
    """The page, as a string (deterministic for the same rows and *generated_at*)."""
    dates = sorted({r.date for r in rows})
    products: dict[str, dict[datetime.date, DateStatus]] = defaultdict(dict)
    for r in rows:
        products[r.product][r.date] = r
    esc = html.escape
    span = f"{start or (dates[0] if dates else '-')} to {end or (dates[-1] if dates else '-')}"
    # A column starts a month when its month differs from the column before it.
    starts = {d for i, d in enumerate(dates) if i == 0 or dates[i - 1].month != d.month
              or dates[i - 1].year != d.year}
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>Coverage of {esc(mission)}</title>",
           "<style>" + _STYLE + "".join(
               f"td.{s}, .legend span.{s} {{ background: {c}; }}\n"
               for s, c in COLOURS.items()) + "</style></head><body>",
           f"<h1>Coverage of {esc(mission)}</h1>",
           f"<p>Products by date, {esc(span)}. <strong id=\"summary\">"
           f"(the summary needs JavaScript)</strong></p>"]
    if generated_at is not None:
        out.append(f"<p class=\"generated\">generated "
                   f"{generated_at.isoformat(sep=' ', timespec='seconds')} UTC</p>")
    out += ["<p class=\"legend\">" + "".join(
                f"<span class=\"{s}\" data-state=\"{s}\">{s}</span>" for s in STATES) + "</p>",
            "<div class=\"scroll\"><table id=\"coverage\"><thead>",
            "<tr class=\"months\"><th class=\"product\" rowspan=\"2\">product</th>"]
    for (year, month), group in groupby(dates, key=lambda d: (d.year, d.month)):
        out.append(f"<th class=\"month\" colspan=\"{len(list(group))}\">"
                   f"{year}-{month:02d}</th>")
    out.append("</tr><tr class=\"dates\">")
    out += [f"<th class=\"date\"{' data-month-start' if d in starts else ''} "
            f"id=\"d{d.isoformat()}\" title=\"{d.isoformat()}\">{d.day:02d}</th>"
            for d in dates]
    out.append("</tr></thead><tbody>")
    for product, by_date in products.items():
        out.append(f"<tr><th class=\"product\">{esc(product)}</th>")
        for d in dates:
            edge = " data-month-start" if d in starts else ""
            cell = by_date.get(d)
            if cell is None:  # a period product has no row for days inside its periods
                out.append(f"<td class=\"inside\"{edge}></td>")
                continue
            tip = f"{product} {d}: {cell.state}: {cell.reason}"
            if cell.filename:
                tip += f" ({cell.filename})"
            out.append(f"<td class=\"state {cell.state}\" data-state=\"{cell.state}\"{edge} "
                       f"title=\"{esc(tip)}\">{esc(cell.version or '')}</td>")
        out.append("</tr>")
    out += ["</tbody></table></div>", "<script>" + _SCRIPT + "</script>", "</body></html>"]
    return "\n".join(out) + "\n"


def coverage_rows(session: Session, tree: MissionTree, products: list[str] | None,
                  start: datetime.date | None, end: datetime.date | None,
                  days_after: int = 0) -> list[DateStatus]:
    """Status of *products* over one range for them all (so that gaps show); with
    *days_after*, the range runs that many days past the last date with data (the
    original htmlCoverage's ``--deltadays``: dates whose files are late show up)."""
    if days_after and end is None:
        reader = StatusReader(session, tree)
        chosen = ([find_product(session, p) for p in products] if products else
                  session.scalars(select(Product)).all())
        spans = [s for s in (reader.span(p) for p in chosen) if s is not None]
        if spans:
            start = start or min(s[0] for s in spans)
            end = max(s[1] for s in spans) + datetime.timedelta(days=days_after)
    return mission_status(session, tree, products, start, end, same_span=True, plans=False)
