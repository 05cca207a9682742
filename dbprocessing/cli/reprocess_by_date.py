"""reprocessByDate -m DB -s D -e D [--level L]: queue the newest files of every product in a date range."""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, add_reprocess_options, parse, run_reprocess

PROG = "reprocessByDate"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--level", type=float, help="only products of this level")
    add_reprocess_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from ..process import reprocess

    if args.start is None or args.end is None:
        build_parser().error("-s and -e are required")
    return run_reprocess(PROG, args, lambda session: reprocess.by_date(
        session, args.start, args.end, args.level, args.force))
