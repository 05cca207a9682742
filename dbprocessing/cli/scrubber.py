"""scrubber -m DB: check's in-database findings (flags, provenance, versions, queue, lock).

Reports newest_flag, stale_provenance (the original's "parents of newest
aren't newest"), version_overflow, dangling_queue and dead_lock.  Reads
only; repair with check --fix.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from . import ArgumentParser, parse

PROG = "scrubber"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 consistent, 1 inconsistencies found, 2 usage error")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = parse(build_parser(), words)
    from ..check.findings import VIEWS, CheckOptions
    from .check import run_check

    return run_check(PROG, words, args, CheckOptions(kinds=VIEWS[PROG]), fix=False)
