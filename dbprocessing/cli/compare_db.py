"""compareDB -m DB1 -m DB2: compare two mission databases by names and print the differences.

Compares products, processes, codes, inspectors, files (by filename: product,
date, times, version, level, shasum, keywords, on disk), product-process
links, and file-file and file-code links expressed by file and code names.
Ids, creation times and verbose provenance are not compared.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from . import ArgumentParser, parse, run_command

PROG = "compareDB"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 the databases hold the same mission, 1 they differ, "
               "2 usage error")
    parser.add_argument("-m", "--mission", required=True, action="append", dest="missions",
                        help="a database; give exactly two")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..report.compare import compare_databases
    from .context import open_mission

    def body() -> int:
        if len(args.missions) != 2:
            raise UsageError(f"give exactly two databases (-m DB1 -m DB2), "
                             f"not {len(args.missions)}")
        first, second = args.missions
        with open_mission(first) as one, open_mission(second) as two, \
                Session(one.engine) as s1, Session(two.engine) as s2:
            found = compare_databases(s1, s2)
        for difference in found:
            print(difference.describe())
        print(f"first: {first}\nsecond: {second}\n"
              + (f"{len(found)} difference(s)" if found else "no differences"))
        return EXIT_SOME_FAILED if found else EXIT_OK

    return run_command(PROG, body)
