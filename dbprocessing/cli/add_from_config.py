"""addFromConfig -m DB [-v] config_file: load products, processes and codes from a mission config."""
from __future__ import annotations

import sys
from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "addFromConfig"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-v", "--verify", action="store_true",
                        help="validate the file against the database, write nothing")
    parser.add_argument("config_file", help="the mission config file (INI)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..mission.config import read_config
    from ..mission.rows import absent_files, apply_config
    from ..mission.tree import load_mission
    from .context import open_mission

    def body() -> int:
        config = read_config(args.config_file)
        with open_mission(args.mission) as mission, \
                Session(for_writing(mission.engine)) as session:
            changes = apply_config(session, config)
            session.flush()
            for line in absent_files(config, load_mission(session)):
                print(f"{PROG}: warning: {line}", file=sys.stderr)
            if args.verify:
                session.rollback()
                print(f"{args.config_file}: valid; loading it would make "
                      f"{len(changes)} change(s)")
                for line in changes:
                    print(f"  would: {line}")
                return 0
            session.commit()
        for line in changes:
            print(line)
        if not changes:
            print(f"{args.config_file}: nothing changed")
        return 0

    return run_command(PROG, body)
