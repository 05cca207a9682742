"""printInfo DB {Code,File,Mission,Process,Product}: a table of the mission's rows of one kind.

File rows can be narrowed to one product (-p) and a date range (-s, -e);
-p also narrows Product rows.  The kind is case-insensitive (file, FILE).
"""
from __future__ import annotations

from collections.abc import Sequence

from ..report.vocabulary import INFO_KINDS
from . import ArgumentParser, date_argument, parse, read_mission, run_command

PROG = "printInfo"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 ok (also when the table is empty), 2 usage error "
               "(unknown kind or product)")
    parser.add_argument("database", help="the database (as -m of the other commands)")
    parser.add_argument("kind", type=str.capitalize, choices=INFO_KINDS,
                        help="which rows to list")
    parser.add_argument("-p", "--product", help="only this product (name or id)")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="File: first utc_file_date (2012-10-02 or 20121002)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="File: last utc_file_date, inclusive")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.info import info_table

    def body() -> int:
        table, count = read_mission(args.database, lambda session, tree: info_table(
            session, tree, args.kind, product=args.product, start=args.start, end=args.end))
        print(table)
        print(f"{count} {args.kind.lower()} row(s)")
        return 0

    return run_command(PROG, body)
