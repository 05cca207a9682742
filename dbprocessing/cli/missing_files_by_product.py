"""missingFilesByProduct -m DB PRODUCT [-s D] [-e D] [--parent [PRODUCT]] [-p]: dates a product could
be made and is not.

Asks the planner, as printStatus does: a date is missing when every required
input is there and a code is valid, but no file of the product exists
(state missing, failed or queued).  --parent prints the parent files that
would make each (with a product, only that product's); -p queues them so
the next ProcessQueue -p makes the missing files.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, date_argument, parse, run_command
from .missing_files import add_missing_options, report_missing

PROG = "missingFilesByProduct"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 nothing missing, 1 some dates are missing (also after -p "
               "queued their parents), 2 usage error (unknown product). Put PRODUCT "
               "before a bare --parent, or write --parent=ID.")
    parser.add_argument("product", help="product name or id")
    add_missing_options(parser, date_argument)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    return run_command(PROG, lambda: report_missing(args, [args.product]))
