"""missingFiles -m DB [-s D] [-e D] [--parent [PRODUCT]] [-p]: every date a product could be made and is not.

missingFilesByProduct for every product some process makes: the dates where
the planner would make an output (its required inputs are there, a code is
valid) and no file exists.  --parent prints the parent files that would
make each; -p queues them for the next ProcessQueue -p.
"""
from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import EXIT_OK, EXIT_SOME_FAILED
from . import ArgumentParser, check_span, date_argument, parse, run_command

PROG = "missingFiles"


def add_missing_options(parser: argparse.ArgumentParser,
                        date_type: Callable[[str], Any]) -> None:
    """The options missingFiles and missingFilesByProduct share."""
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-s", "--startDate", dest="start", type=date_type,
                        help="first date (default: the first date with data)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_type,
                        help="last date, inclusive (default: the last date with data)")
    parser.add_argument("--parent", nargs="?", const="", metavar="PRODUCT",
                        help="print the parent files that would make each missing file "
                             "(with a product, name or id: only its files)")
    parser.add_argument("-p", "--process", action="store_true",
                        help="queue those parent files, so that the next ProcessQueue -p "
                             "makes the missing files")


def report_missing(args: argparse.Namespace, products: list[str] | None) -> int:
    """Find, print and (with -p) queue; the exit code."""
    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..report.missing import find_missing, queue_parents
    from .context import open_mission

    check_span(args.start, args.end)
    parent = args.parent or None
    with open_mission(args.mission) as mission:
        # Only -p writes: a report alone must not hold SQLite's write lock.
        engine = for_writing(mission.engine) if args.process else mission.engine
        with Session(engine) as session:
            report = find_missing(session, mission.tree, products, args.start, args.end,
                                  parent)
            queued = queue_parents(session, report) if args.process else 0
            session.commit()
    print("\n".join(report.lines(parents=args.parent is not None)))
    if args.process:
        print(f"queued {queued} parent file(s); run ProcessQueue -p to make the missing "
              f"files")
    return EXIT_SOME_FAILED if report.outputs else EXIT_OK


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 nothing missing, 1 some dates are missing (also after -p "
               "queued their parents), 2 usage error")
    add_missing_options(parser, date_argument)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    return run_command(PROG, lambda: report_missing(args, None))
