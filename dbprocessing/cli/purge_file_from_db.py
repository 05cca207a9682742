"""purgeFileFromDB -m DB FILENAME...: remove files' records from the database.

Removes each named file's row (by filename, or by file id) and every row that
refers to it: unixtime, its links to inputs, outputs and codes, its queue
entry, logging_file rows; the event log keeps its history with the file id
cleared. -r also removes every file made from it, recursively. The files on
disk are left alone. All or nothing: a name not in the database or a released
file refuses the whole purge (exit 1) and nothing changes.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "purgeFileFromDB"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 removed, 1 refused (unknown name, released file; nothing "
               "changed), 2 usage error, 3 the lock is held")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-r", "--recursive", action="store_true",
                        help="also remove every file made from these, recursively")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each file removed")
    parser.add_argument("filenames", nargs="+", metavar="FILENAME",
                        help="file.filename (a path's directory is ignored) or a file id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..purge import purge_files
    from .context import open_mission

    def body() -> int:
        # Filenames in the database have no directory: accept a pasted path.
        refs = [os.path.basename(f.rstrip("/")) if "/" in f else f for f in args.filenames]
        with open_mission(args.mission) as mission:
            result = purge_files(mission.engine, args.mission, refs, recursive=args.recursive)
        if args.verbose:
            for purged in result.files:
                line = f"removed {purged.describe()}"
                if purged.made_from:
                    line += f", made from {purged.made_from}"
                where = f" at {purged.path}" if purged.path else ""
                print(f"{line}; the file on disk is left alone{where}")
                if purged.pending_move:
                    print(f"  its unfinished ingest move was cancelled: the file stays at "
                          f"{purged.pending_move}")
            for table, rows in sorted(result.rows.items()):
                if rows and table != "file":
                    verb = "cleared the file id of" if table in ("job_event", "ingest_event") \
                        else "removed"
                    print(f"  {table}: {verb} {rows} row(s)")
        print(f"removed {len(result.files)} file(s) from the database; files on disk are "
              f"left alone")
        if result.kept_children:
            shown = ", ".join(result.kept_children[:5])
            more = f" and {len(result.kept_children) - 5} more" if len(
                result.kept_children) > 5 else ""
            print(f"note: {len(result.kept_children)} file(s) made from them remain, now "
                  f"without that input link ({shown}{more}); -r removes them too")
        return 0

    return run_command(PROG, body)
