"""addProductProcessLink -n DB -c PROCESS -d PRODUCT: make a product an input of a process.

The product becomes a required input of the process (-o: optional), with
-y/-t days of neighbouring files. The newest file of each of the product's
dates is queued, so that the next ProcessQueue -p reconsiders the process's
outputs of those dates. An unknown name, the process's own output, or a
link that is already there is refused (exit 2) and nothing changes.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "addProductProcessLink"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog="exit codes: 0 added, 2 usage error (nothing changed)")
    parser.add_argument("-n", "--name", dest="database", required=True,
                        help="the database (as -m of the other commands)")
    parser.add_argument("-c", "--proc", "--process", dest="process", required=True,
                        help="process name or id")
    parser.add_argument("-d", "--prod", "--product", dest="product", required=True,
                        help="input product name or id")
    parser.add_argument("-o", "--optional", action="store_true",
                        help="the input is optional (default: required)")
    parser.add_argument("-y", "--yesterday", type=int, default=0, metavar="N",
                        help="also use the product's files of N days before (default 0)")
    parser.add_argument("-t", "--tomorrow", type=int, default=0, metavar="N",
                        help="also use the product's files of N days after (default 0)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..process.inputs import add_input
    from .context import open_mission

    def body() -> int:
        with open_mission(args.database) as mission:
            with Session(for_writing(mission.engine)) as session:
                added = add_input(session, args.process, args.product, optional=args.optional,
                                  yesterday=args.yesterday, tomorrow=args.tomorrow)
                session.commit()
        print(added.text())
        return 0

    return run_command(PROG, body)
