"""dbOnlyFiles -m DB: file rows whose file is gone from disk (check's missing_file).

Lists each file row that says exists_on_disk but whose file is not in its
product directory.  -f marks them exists_on_disk false (check --fix, for this
kind only: one recorded transaction each, under the processing lock).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from . import ArgumentParser, parse
from .check import add_dates, run_check

PROG = "dbOnlyFiles"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 no such row (or, with -f, all marked), 1 rows whose file is "
               "gone, 2 usage error, 3 -f while another run holds the lock")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    add_dates(parser)
    parser.add_argument("-f", "--fix", action="store_true",
                        help="mark them exists_on_disk false")
    parser.add_argument("-n", "--newest", action="store_true",
                        help="only check the newest version of each product and date")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each file as it is checked")
    parser.add_argument("--echo", action="store_true", help="echo every SQL statement")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = parse(build_parser(), words)
    from ..check.findings import VIEWS, CheckOptions

    options = CheckOptions(args.start, args.end, VIEWS[PROG], newest_only=args.newest)
    return run_check(PROG, words, args, options, fix=args.fix, verbose=args.verbose)
