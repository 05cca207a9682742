"""htmlCoverage -m DB -o FILE: an HTML page of products by date, coloured by state, with versions."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import UsageError
from ..report.coverage import render_coverage
from ..report.status import mission_status
from . import ArgumentParser, date_argument, parse, read_mission, run_command

PROG = "htmlCoverage"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="States are printStatus's. Open the page in a browser; it needs no network.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the HTML file")
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
        if args.start and args.end and args.start > args.end:
            raise UsageError(f"start {args.start} is after end {args.end}")
        if args.output.is_dir():
            raise UsageError(f"{args.output} is a directory")

        def read(session, tree):
            # One range for every product, so a product's gaps show as gaps.
            rows = mission_status(session, tree, args.products, args.start, args.end,
                                  same_span=True)
            return render_coverage(tree.name, rows, args.start, args.end), len(rows)

        page, cells = read_mission(args.mission, read)
        write_atomically(args.output, page)
        print(f"wrote {args.output} ({cells} product-date cell(s))")
        return 0

    return run_command(PROG, body)
