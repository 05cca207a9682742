"""configFromDB -m DB [-f] [-s sat] [-i inst] [-c] filename: write the mission config of one instrument."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import UsageError
from . import ArgumentParser, parse, run_command

PROG = "configFromDB"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-f", "--force", action="store_true",
                        help="overwrite the file if it exists")
    parser.add_argument("-s", "--satellite", help="satellite (needed if there are several)")
    parser.add_argument("-i", "--instrument", help="instrument (needed if there are several)")
    parser.add_argument("-c", "--comments", action="store_true",
                        help="start the file with a comment saying what it is")
    parser.add_argument("filename", help="config file to write ('-' for standard output)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..mission.export import export_config
    from .context import open_mission

    def body() -> int:
        target = Path(args.filename)
        if args.filename != "-" and target.is_dir():
            raise UsageError(f"{target} is a directory")
        if args.filename != "-" and target.exists() and not args.force:
            raise UsageError(f"{target} exists; pass -f to overwrite it")
        with open_mission(args.mission) as mission, Session(mission.engine) as session:
            text = export_config(session, args.satellite, args.instrument, args.comments)
        if args.filename == "-":
            print(text, end="")
            return 0
        write_atomically(target, text)
        print(f"wrote {target}")
        return 0

    return run_command(PROG, body)
