"""reprocessByProduct -m DB product...: queue a product's newest files, so their children are reconsidered."""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, add_reprocess_options, parse, run_reprocess

PROG = "reprocessByProduct"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("products", nargs="+", help="product names or ids")
    add_reprocess_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from ..process import reprocess

    return run_reprocess(PROG, args, lambda session: reprocess.by_product(
        session, args.products, args.start, args.end, args.force))
