"""changeProductDir -m DB PRODUCT NEWDIR: give a product a new directory and move its files.

NEWDIR is a relative_path as in the config file ({Y}, {m}, {d}, ... are
filled per file). Every file of the product is moved to its new path, and
the product row changed, crash-safe: killed at any point, every file is at
the path the row gives (a rerun with the same arguments, or the next
ProcessQueue -i, finishes the move). Holds the processing lock.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

from . import ArgumentParser, parse, read_mission, run_command

PROG = "changeProductDir"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 moved (or already there), 1 a file is missing or its new path "
               "is taken (nothing changed), 2 usage error (unknown product, bad NEWDIR), "
               "3 the lock is held")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("product", help="product name or id")
    parser.add_argument("newdir", help="the new relative_path, e.g. L1/{Y}/{m}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from ..ingest.relocate import change_product_dir, plan_relocation
    from .context import open_mission

    words = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        # Checked before the lock, so that a refused change leaves no trace.
        read_mission(args.mission, lambda session, tree: plan_relocation(
            session, tree, args.product, args.newdir))
        with open_mission(args.mission) as mission:
            with mission.locked(PROG, words) as run:
                plan = change_product_dir(mission.engine, mission.tree, args.product,
                                          args.newdir, say=print)
                run.lock.comment = (f"Nominal Exit; changeProductDir moved "
                                    f"{len(plan.moves)} file(s)")
        if plan.finished:
            print(f"first carried out {plan.finished} promised move(s) of an interrupted "
                  f"run")
        if plan.done:
            print(f"product {plan.product} already has directory {args.newdir!r}; "
                  f"nothing to move")
            return 0
        note = f", {plan.unchanged} already in place" if plan.unchanged else ""
        if plan.not_on_disk:
            note += f", {plan.not_on_disk} not on disk (rows only)"
        print(f"moved {len(plan.moves)} file(s) of {plan.product} from {plan.old_dir!r} to "
              f"{args.newdir!r}{note}")
        return 0

    return run_command(PROG, body)
