"""replaceArgsWithRootdir DB: write {ROOTDIR} for the mission root's path in arguments.

In every code's arguments and every process's extra_params, the mission's
rootdir (as stored, or expanded) written out as a path becomes {ROOTDIR},
which codes receive filled in, so the arguments follow the mission when its
root moves. Prints each change (old -> new).
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "replaceArgsWithRootdir"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog="exit codes: 0 done (or nothing to replace), 2 usage error")
    parser.add_argument("database", help="the database (as -m of the other commands)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..mission.arguments import replace_rootdir
    from .context import open_mission

    def body() -> int:
        with open_mission(args.database) as mission:
            with Session(for_writing(mission.engine)) as session:
                rootdir, changes = replace_rootdir(session)
                session.commit()
        for change in changes:
            print(f"{change.what}: {change.old!r} -> {change.new!r}")
        print(f"replaced the mission root {rootdir} with {{ROOTDIR}} in {len(changes)} "
              f"argument(s)" if changes else f"no argument names the mission root {rootdir}; "
              f"nothing changed")
        return 0

    return run_command(PROG, body)
