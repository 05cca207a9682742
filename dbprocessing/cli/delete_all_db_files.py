"""deleteAllDBFiles -m DB [-y] [-d]: remove every file record from the database.

Removes every file row and every row that refers to one, as purgeFileFromDB
does; the event log keeps its history with the file ids cleared. The files
on disk stay. Asks for confirmation on a terminal unless -y (without a
terminal and without -y it refuses). Refused, with nothing changed, when any
file is in a release. -d prints what it would do and changes nothing.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import UsageError
from . import ArgumentParser, parse, read_mission, run_command

if TYPE_CHECKING:
    from ..purge import PurgeAllPlan

PROG = "deleteAllDBFiles"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 removed (or nothing to remove, or a dry run), 1 refused (a "
               "released file; nothing changed), 2 usage error or not confirmed, "
               "3 the lock is held")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-y", "--yes", action="store_true",
                        help="do not ask for confirmation")
    parser.add_argument("-d", "--dry-run", dest="dryrun", action="store_true",
                        help="print what would be removed; change nothing")
    return parser


def _report(plan: PurgeAllPlan, dry_run: bool) -> None:
    remove, clear = (("would remove", "would clear the file id of") if dry_run
                     else ("removed", "cleared the file id of"))
    for purged in plan.files:
        print(f"{remove} {purged.describe()}")
    for table, rows in sorted(plan.rows.items()):
        if rows and table != "file":
            what = clear if table in ("job_event", "ingest_event") else remove
            print(f"  {table}: {what} {rows} row(s)")


def _confirmed(database: str, count: int) -> bool:
    answer = input(f"remove the records of all {count} file(s) from {database}? "
                   f"(the files on disk stay) [y/N] ")
    return answer.strip().lower() in ("y", "yes")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..purge import plan_purge_all, purge_all_files
    from .context import open_mission

    def body() -> int:
        plan = read_mission(args.mission, plan_purge_all)
        count = len(plan.files)
        if not count:
            print("no file records; nothing to remove")
            return 0
        if args.dryrun:
            _report(plan, dry_run=True)
            print(f"would remove {count} file record(s); files on disk are left alone")
            return 0
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(f"would remove all {count} file record(s): confirm on a "
                                 f"terminal or pass -y; nothing removed")
            if not _confirmed(args.mission, count):
                raise UsageError("not confirmed; nothing removed")
        with open_mission(args.mission) as mission:
            done = purge_all_files(mission.engine, args.mission, expected=count)
        _report(done, dry_run=False)
        print(f"removed {count} file record(s); files on disk are left alone")
        return 0

    return run_command(PROG, body)

