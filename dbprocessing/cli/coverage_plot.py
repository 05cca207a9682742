"""coveragePlot -m DB OUTPUT.png: a PNG of products by date, coloured by state
as htmlCoverage colours them."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import EXIT_SOME_FAILED, EXIT_USAGE, UsageError
from ..lock import utcnow
from . import ArgumentParser, date_argument, parse, read_mission, run_command

PROG = "coveragePlot"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="States are printStatus's. Needs matplotlib: pip install 'dbprocessing[plot]'. "
               "The original read an INI file of panels and wrote a PDF; this takes flags.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("output", type=Path, help="the PNG file to write (must end in .png)")
    parser.add_argument("-p", "--product", action="append", dest="products",
                        help="product name or id (repeatable; default: every product)")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first date (default: the first date with data)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last date, inclusive (default: the last date with data)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    def body() -> int:
        from ..report.coverage import coverage_rows
        from ..report.plots import cannot_draw, coverage_png

        why = cannot_draw(PROG, args.output)
        if why:
            print(why, file=sys.stderr)
            return EXIT_USAGE
        if args.start and args.end and args.start > args.end:
            raise UsageError(f"start {args.start} is after end {args.end}")
        rows, mission = read_mission(args.mission, lambda session, tree: (
            coverage_rows(session, tree, args.products, args.start, args.end), tree.name))
        if not rows:
            print(f"{PROG}: nothing to draw (no product has files in that range); "
                  f"{args.output} not written", file=sys.stderr)
            return EXIT_SOME_FAILED
        write_atomically(args.output, coverage_png(mission, rows, generated_at=utcnow()))
        print(f"wrote {args.output} ({len(rows)} product-date cell(s))")
        return 0

    return run_command(PROG, body)
