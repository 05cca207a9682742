"""MigrateDB -m DB [-y]: upgrade a database (ours, or the original's) to the current schema."""
from __future__ import annotations

import sys
from collections.abc import Sequence

from ..errors import UsageError
from . import ArgumentParser, parse, run_command

PROG = "MigrateDB"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-y", "--yes", action="store_true",
                        help="do not ask for confirmation")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..db.engine import check_reachable, make_engine, resolve_url
    from ..db.schema import inspect_schema, upgrade_schema

    def body() -> int:
        engine = make_engine(resolve_url(args.mission))
        try:
            check_reachable(engine)
            state = inspect_schema(engine)
            where = engine.url.render_as_string(hide_password=True)
            if state.kind == "current":
                print(f"{where} is already at schema revision {state.head}; nothing to do")
                return 0
            if state.kind in ("old", "original") and not args.yes:
                what = ("a database of the original dbprocessing"
                        if state.kind == "original" else f"revision {state.revision}")
                print(f"{where} is {what}; will apply: {', '.join(state.pending)}")
                if not sys.stdin or not sys.stdin.isatty():
                    raise UsageError("not a terminal, cannot ask for confirmation; "
                                     "pass -y to upgrade (back up the database first)")
                answer = input("Back up the database first. Upgrade now? [y/N] ")
                if answer.strip().lower() not in ("y", "yes"):
                    print("nothing done")
                    return 0
            upgrade_schema(engine, say=print)
            print(f"{where} is now at schema revision {state.head}")
            return 0
        finally:
            engine.dispose()

    return run_command(PROG, body)
