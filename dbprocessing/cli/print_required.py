"""printRequired -m DB PROCESS...: what each process needs and which codes implement it.

Per process: its output product and timebase, its required and optional
input products (with their yesterday/tomorrow windows) and its codes
(version, active, valid dates).  The last line lists the ids of every
required input product, space separated, as the original printed them.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, read_mission, run_command

PROG = "printRequired"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 ok, 2 usage error (an unknown process is named)")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("processes", nargs="+", metavar="PROCESS",
                        help="process names or ids")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.info import required_inputs, required_text

    def body() -> int:
        found = read_mission(args.mission,
                             lambda session, tree: required_inputs(session, args.processes))
        print(required_text(found))
        return 0

    return run_command(PROG, body)
