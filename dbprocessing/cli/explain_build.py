"""explainBuild -m DB (FILE | -p PRODUCT -d DATE): would it be (re)built now, and why?"""
from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import UsageError
from . import ArgumentParser, date_argument, parse, read_mission, run_command

PROG = "explainBuild"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="The reasons are the planner's, the same ProcessQueue -p acts on. "
               "Exit codes: 0 up to date (or nothing to build), 1 it would be (re)built "
               "or cannot be, 2 usage error.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("file", nargs="?", help="a file name (a path is fine)")
    parser.add_argument("-p", "--product", help="product name or id")
    parser.add_argument("-d", "--date", type=date_argument, help="date of the product")
    parser.add_argument("--json", action="store_true", help="print JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.explain import explain

    def body() -> int:
        if args.file and (args.product or args.date):
            raise UsageError("give a file, or -p and -d, not both")
        if not args.file and not (args.product and args.date):
            raise UsageError("give a file, or a product (-p) and a date (-d)")
        status, lines = read_mission(args.mission, lambda session, tree: explain(
            session, tree, filename=args.file, product_ref=args.product, date=args.date))
        if args.json:
            print(json.dumps({**status.as_dict(), "explanation": lines}, indent=1,
                             default=str))
        else:
            print("\n".join(lines))
        return 0 if status.state in ("up_to_date", "absent") else 1

    return run_command(PROG, body)
