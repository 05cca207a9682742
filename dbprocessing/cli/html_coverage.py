"""htmlCoverage -m DB (-o FILE | OUTBASE) [-d N]: an HTML page of products by date,
coloured by state, with versions."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import write_atomically
from ..errors import UsageError
from . import ArgumentParser, add_span_arguments, check_span, parse, read_mission, run_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..mission.tree import MissionTree

PROG = "htmlCoverage"
ORIGINAL_DELTADAYS = 3  # the original's default, for its positional form


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="States are printStatus's. Open the page in a browser; it needs no network. "
               "The original's form, htmlCoverage -m DB [-d N] OUTBASE, writes one page per "
               "satellite, OUTBASE_<satellite>.html, running 3 days (or -d N) past the last "
               "date with data.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-o", "--output", type=Path, help="the HTML file (one page, every "
                        "product asked for)")
    parser.add_argument("outbase", nargs="?",
                        help="the original's form: write OUTBASE_<satellite>.html per satellite")
    parser.add_argument("-d", "--deltadays", type=int,
                        help="run the table N days past the last date with data (default 0 "
                             "with -o, 3 with OUTBASE)")
    add_span_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..lock import utcnow
    from ..report.coverage import coverage_rows, products_by_satellite, render_coverage

    def body() -> int:
        check_span(args.start, args.end)
        if (args.output is None) == (args.outbase is None):
            raise UsageError("give the output: -o FILE, or the original's OUTBASE (not both)")
        if args.deltadays is not None and args.deltadays < 0:
            raise UsageError("-d/--deltadays must be 0 or more")
        if args.deltadays and args.end:
            raise UsageError("give -e or -d, not both")
        days_after = args.deltadays
        if days_after is None:
            days_after = ORIGINAL_DELTADAYS if args.outbase and not args.end else 0
        if args.output is not None and args.output.is_dir():
            raise UsageError(f"{args.output} is a directory")

        def read(session: Session, tree: MissionTree) -> list[tuple[Path, str, int]]:
            now = utcnow()
            groups: list[tuple[str | None, list[str] | None]]  # (satellite, its products)
            if args.output is not None:
                groups = [(None, args.products)]
            else:
                groups = list(products_by_satellite(session, args.products).items())
            pages = []
            for satellite, products in groups:
                rows = coverage_rows(session, tree, products, args.start, args.end, days_after)
                path = (args.output if satellite is None
                        else Path(f"{args.outbase}_{satellite}.html"))
                pages.append((path, render_coverage(tree.name, rows, args.start, args.end,
                                                    generated_at=now), len(rows)))
            return pages

        pages = read_mission(args.mission, read)
        for path, page, cells in pages:
            write_atomically(path, page)
            print(f"wrote {path} ({cells} product-date cell(s))")
        return 0

    return run_command(PROG, body)
