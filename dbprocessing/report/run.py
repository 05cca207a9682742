"""The report of one ProcessQueue run (``ProcessQueue -r``): one self-contained HTML page.

``run_report(session, invocation_id, summary)`` reads what the run recorded
in the event log (report/history.py, filtered to the invocation): the run
itself (command, host, pid, start, end, the lock's comment), then every job
it planned with its outcome (``-p``) or every incoming file it accepted or
rejected (``-i``).  Problems come first, each with its reason and the path
of its ``.prob``.  No external resources: the page can be mailed as it is.
"""
from __future__ import annotations

import html

from sqlalchemy.orm import Session

from .history import Filters, ingest_history, invocation_history, job_history

# Enough for any one run; the page says when a run did more than it lists.
LIMIT = 100_000

COLOURS = {"succeeded": "#2ca02c", "accepted": "#2ca02c", "failed": "#d62728",
           "timed_out": "#d62728", "rejected": "#d62728", "skipped": "#7f7f7f",
           "planned": "#1f77b4", "running": "#1f77b4", "started": "#1f77b4"}
PROBLEMS = ("failed", "timed_out", "rejected")

_STYLE = """
body { font-family: sans-serif; margin: 1em; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; vertical-align: top; }
td.state { color: #fff; white-space: nowrap; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dt { font-weight: bold; }
"""


def _table(headers: list[str], rows: list[list[str | None]], states: list[str]) -> list[str]:
    esc = html.escape
    out = ["<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers)
           + "</tr></thead><tbody>"]
    for state, row in zip(states, rows, strict=True):
        colour = COLOURS.get(state, "#555")
        cells = "".join(f"<td>{esc(str(c)) if c is not None else ''}</td>" for c in row[1:])
        out.append(f"<tr class=\"{esc(state)}\"><td class=\"state\" "
                   f"style=\"background: {colour}\">{esc(str(row[0]))}</td>{cells}</tr>")
    out.append("</tbody></table>")
    return out


def _problems_first(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["state"] not in PROBLEMS, r.get("job_id") or 0))


def run_report(session: Session, mission: str, invocation_id: int, summary: str) -> str:
    """The page for run *invocation_id* of *mission*, as a string."""
    esc = html.escape
    (run,) = invocation_history(session, Filters(invocation=invocation_id, limit=1))
    filters = Filters(invocation=invocation_id, limit=LIMIT)
    jobs = _problems_first(job_history(session, filters))
    files = _problems_first(ingest_history(session, filters))
    ended = "still running" if run["running"] else (run["ended_at"] or "-")
    out = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f"<title>{esc(mission)}: run {invocation_id}</title>",
           f"<style>{_STYLE}</style></head><body>",
           f"<h1>{esc(mission)}: {esc(run['command'].split(' ', 1)[0])} run "
           f"{invocation_id}</h1>",
           f"<p id=\"summary\"><strong>{esc(summary)}</strong></p>", "<dl>"]
    for label, value in (("command", run["command"]), ("host", run["host"]),
                         ("pid", run["pid"]), ("user", run["user"]),
                         ("started (UTC)", run["started_at"]), ("ended (UTC)", ended),
                         ("comment", run["comment"])):
        out.append(f"<dt>{esc(label)}</dt><dd>{esc(str(value or '-'))}</dd>")
    out.append("</dl>")
    if jobs:
        out.append(f"<h2>Jobs ({len(jobs)})</h2>")
        out += _table(["state", "process", "date", "output", "version", "exit",
                       "reason", "message", "captured output"],
                      [[j["state"], j["process"], j["date"], j["output"], j["version"],
                        j["exit_code"], j["reason"], j["message"], j["log_path"]]
                       for j in jobs], [j["state"] for j in jobs])
    if files:
        out.append(f"<h2>Incoming files ({len(files)})</h2>")
        out += _table(["state", "file", "product", "reason"],
                      [[f["state"], f["file"], f["product"], f["reason"]] for f in files],
                      [f["state"] for f in files])
    if not jobs and not files:
        out.append("<p>Nothing to do.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
