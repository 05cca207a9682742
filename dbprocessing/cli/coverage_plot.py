"""coveragePlot -m DB OUTPUT.png: a PNG of products by date, coloured by state
as htmlCoverage colours them."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import EXIT_SOME_FAILED, EXIT_USAGE
from . import ArgumentParser, add_span_arguments, check_span, parse, read_mission, run_command

PROG = "coveragePlot"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="States are printStatus's. Needs matplotlib: pip install 'dbprocessing[plot]'. "
               "The original read an INI file of panels and wrote a PDF; this takes flags.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("output", type=Path, help="the PNG file to write (must end in .png)")
    add_span_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..lock import utcnow

    def body() -> int:
        from ..report.coverage import coverage_rows
        from ..report.plots import cannot_draw, coverage_png

        why = cannot_draw(PROG, args.output)
        if why:
            print(why, file=sys.stderr)
            return EXIT_USAGE
        check_span(args.start, args.end)
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
