"""reprocessByInstrument -m DB instrument [-l level]: queue an instrument's newest files."""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, add_reprocess_options, parse, run_reprocess

PROG = "reprocessByInstrument"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("instrument", help="instrument name or id")
    parser.add_argument("-l", "--level", type=float, help="only products of this level")
    add_reprocess_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from ..process import reprocess

    return run_reprocess(PROG, args, lambda session: reprocess.by_instrument(
        session, args.instrument, args.level, args.start, args.end, args.force))
