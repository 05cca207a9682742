"""linkUningested -m DB [-p PRODUCT]...: link files on disk that no row knows into incoming.

Searches each product's directory (all products, or those named with -p) for
files whose path under the mission root matches the product's relative_path
and format but whose name is not in the database, and makes a symlink to
each in the incoming directory, so that the next ProcessQueue -i records it
where it is. An existing incoming entry is never replaced. -d lists what
would be linked.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "linkUningested"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 done (also when nothing was found), 2 usage error "
               "(unknown product, incoming not writable; nothing linked)")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-p", "--product", action="append", dest="products", default=[],
                        metavar="PRODUCT",
                        help="product name or id to search; repeat for more (default all)")
    parser.add_argument("-d", "--dry-run", action="store_true",
                        help="print what would be linked; link nothing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..ingest.uningested import check_incoming, find_uningested, link_uningested
    from .context import open_mission

    def body() -> int:
        with open_mission(args.mission) as mission:
            tree = mission.tree
            check_incoming(tree)
            with Session(mission.engine) as session:
                found, notes = find_uningested(session, tree, args.products)
        result = link_uningested(tree, found, dry_run=args.dry_run)
        for note in notes:
            print(f"note: {note}")
        verb = "would link" if args.dry_run else "linked"
        for link, target in result.linked:
            print(f"{verb} {link} -> {target}")
        for target, why in result.skipped:
            print(f"skipped {target}: {why}")
        tail = "" if args.dry_run or not result.linked else \
            "; run ProcessQueue -i to ingest them"
        print(f"{verb} {len(result.linked)} file(s) not in the database into "
              f"{tree.incoming}{tail}")
        return 0

    return run_command(PROG, body)
