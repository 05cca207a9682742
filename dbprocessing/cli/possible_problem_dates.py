"""possibleProblemDates -m DB: dates whose newest files have version or provenance problems.

Reports check's dated in-database findings: stale_provenance (a newest file
made from a parent that is no longer newest) and version_overflow, sorted by
date.  --fix applies check's repairs for them (queues the newer parents;
overflowing versions are left to a person).
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from . import ArgumentParser, parse

PROG = "possibleProblemDates"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 no problem date (or, with --fix, all repaired), 1 problems "
               "found, 2 usage error, 3 --fix while another run holds the lock")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("--fix", action="store_true", help="repair what can be repaired")
    parser.add_argument("-d", "--dry-run", action="store_true",
                        help="with --fix: print each repair it would make, change nothing")
    parser.add_argument("--echo", action="store_true", help="echo every SQL statement")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = parse(build_parser(), words)
    from ..check.findings import VIEWS, CheckOptions
    from .check import run_check

    return run_check(PROG, words, args, CheckOptions(kinds=VIEWS[PROG]), fix=args.fix,
                     dry_run=args.dry_run, by_date=True)


