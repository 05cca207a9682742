"""updateSHAsum -m DB FILE...: store the SHA-1 of files as they are on disk now.

FILE is file.filename (a directory in front is ignored) or a file id. Prints
each file's old and new checksum. A file not in the database (exit 2) or not
on disk (exit 1) refuses them all; nothing changes.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "updateSHAsum"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 updated, 1 a file is not on disk, 2 usage error (unknown "
               "file); nothing changed on an error")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("files", nargs="+", metavar="FILE", help="file name or id")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..ingest.recompute import update_shasums
    from .context import open_mission

    def body() -> int:
        with open_mission(args.mission) as mission:
            with Session(for_writing(mission.engine)) as session:
                changes = update_shasums(session, mission.tree, args.files)
                session.commit()
        for change in changes:
            state = "" if change.changed else " (unchanged)"
            print(f"{change.filename}: {change.old or 'none'} -> {change.new}{state}")
        return 0

    return run_command(PROG, body)
