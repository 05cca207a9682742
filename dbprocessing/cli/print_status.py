"""printStatus -m DB: the state of every product and date, computed from the database.

States: up_to_date, stale (would be remade, the reason says which input or
code changed, but nothing queued asks for it), missing (buildable, never
made, nothing queued), blocked (a required input is missing or no code is
valid), failed (the last attempt failed; the reason says when it is
retried), queued (the next ProcessQueue -p will make it: what -p -d lists),
absent (ingested product, no file).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from . import ArgumentParser, add_span_arguments, check_span, parse, read_mission, run_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..mission.tree import MissionTree
    from ..report.status import DateStatus

PROG = "printStatus"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 everything asked about is up to date (blocked and absent "
               "dates are gaps upstream, not failures), 1 something is stale, missing, "
               "failed or queued, 2 usage error")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    add_span_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON, one object per date")
    parser.add_argument("--problems", action="store_true",
                        help="show only stale, missing, failed and queued dates")
    parser.add_argument("--write-status", metavar="FILE", type=Path,
                        help="write a deterministic JSON summary to FILE (rewritten only "
                             "when the state changes), for make or DVC")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.status import (
        PROBLEMS,
        has_problems,
        mission_status,
        queue_length,
        state_counts,
        status_summary,
        status_table,
        write_status,
    )

    def body() -> int:
        check_span(args.start, args.end)
        if args.write_status is not None and args.write_status.is_dir():
            raise UsageError(f"{args.write_status} is a directory")

        def read(session: Session, tree: MissionTree) -> tuple[list[DateStatus], int]:
            rows = mission_status(session, tree, args.products, args.start, args.end,
                                  plans=False)
            return rows, queue_length(session)

        rows, queued = read_mission(args.mission, read)
        if args.write_status:
            changed = write_status(args.write_status, status_summary(rows, queued))
            print(f"{'wrote' if changed else 'unchanged:'} {args.write_status}")
        shown = [r for r in rows if r.state in PROBLEMS] if args.problems else rows
        if args.json:
            print(json.dumps([r.as_dict() for r in shown], indent=1, default=str))
        elif args.problems and rows and not shown:
            print(f"no problems among {len(rows)} product-date(s) ({state_counts(rows)})")
        elif not args.write_status or args.problems:
            print(status_table(shown))
        return EXIT_SOME_FAILED if has_problems(rows) else EXIT_OK

    return run_command(PROG, body)
