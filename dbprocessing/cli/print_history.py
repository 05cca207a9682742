"""printHistory -m DB: what the runs planned, did and decided (the event log), newest first.

Views: jobs (default; every planned output with its latest state), --ingest
(every incoming file accepted or rejected), --invocations (every ProcessQueue
and DBRunner run), --job N (every transition of one job).
"""
from __future__ import annotations

import datetime
import json
from collections.abc import Sequence

from ..errors import UsageError
from ..report.vocabulary import INGEST_STATES, JOB_STATES
from . import ArgumentParser, parse, read_mission, run_command

PROG = "printHistory"


def since_argument(text: str) -> datetime.datetime:
    """2025-01-02, 20250102 or 2025-01-02T03:04 (UTC); or 3d / 12h ago."""
    import argparse

    text = text.strip()
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    if text[:-1].isdigit() and text[-1:] in ("d", "h"):
        hours = int(text[:-1]) * (24 if text.endswith("d") else 1)
        return now - datetime.timedelta(hours=hours)
    for pattern in ("%Y-%m-%d", "%Y%m%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M",
                    "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(text, pattern)
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(
        f"not a time: {text!r} (use 2025-01-02, 2025-01-02T03:04, 3d or 12h)")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-m", "--mission", required=True, help="the database")
    view = parser.add_mutually_exclusive_group()
    view.add_argument("--ingest", action="store_true", help="ingest decisions")
    view.add_argument("--invocations", action="store_true", help="runs of the commands")
    view.add_argument("--job", type=int, help="every transition of this job")
    parser.add_argument("--since", type=since_argument,
                        help="only since this UTC time (2025-01-02, 2025-01-02T03:04, 3d, 12h)")
    parser.add_argument("-p", "--product", help="only this product (name or id)")
    parser.add_argument("--process", help="only this process (name or id)")
    parser.add_argument("--status",
                        help=f"only jobs in this latest state ({', '.join(JOB_STATES)}) or "
                             f"ingest decisions ({', '.join(INGEST_STATES)})")
    parser.add_argument("-f", "--file", help="only this file (output or incoming name)")
    parser.add_argument("-n", "--limit", type=int, default=200,
                        help="at most this many rows (default 200)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.history import (
        Filters,
        history_table,
        ingest_history,
        invocation_history,
        job_events,
        job_history,
    )

    def body() -> int:
        if args.limit < 1:
            raise UsageError("--limit must be at least 1")
        filters = Filters(since=args.since, product=args.product, process=args.process,
                          status=args.status, limit=args.limit,
                          filename=args.file.rsplit("/", 1)[-1] if args.file else None)
        if args.job is not None:
            view, read = "events", lambda s, _t: job_events(s, args.job)
        elif args.invocations:
            view, read = "invocations", lambda s, _t: invocation_history(s, filters)
        elif args.ingest:
            view, read = "ingest", lambda s, _t: ingest_history(s, filters)
        else:
            view, read = "jobs", lambda s, _t: job_history(s, filters)
        rows = read_mission(args.mission, read)
        if args.json:
            print(json.dumps(rows, indent=1))
        elif view == "events":
            print("\n".join(f"{r['at']}  {r['state']:<10} on {r['host']}"
                            + (f" exit {r['exit_code']}" if r['exit_code'] is not None else "")
                            + (f" {r['message']}" if r['message'] else "")
                            + (f" -> {r['output_path']}" if r['output_path'] else "")
                            + (f" [{r['log_path']}]" if r['log_path'] else "")
                            for r in rows) or f"no job {args.job}")
        else:
            print(history_table(rows, view))
        return 0

    return run_command(PROG, body)
