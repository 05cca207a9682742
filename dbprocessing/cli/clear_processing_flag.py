"""clearProcessingFlag DB message: clear the processing lock after a crash, recording why."""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "clearProcessingFlag"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("database", help="the database")
    parser.add_argument("message", help="why the lock is cleared (recorded in its comment)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..lock import clear
    from .context import open_mission

    def body() -> int:
        with open_mission(args.database) as mission:
            cleared = clear(mission.engine, args.message)
        if not cleared:
            print("no run holds the processing lock; nothing to clear")
        for holder in cleared:
            print(f"cleared the lock of {holder.describe()}")
        return 0

    return run_command(PROG, body)
