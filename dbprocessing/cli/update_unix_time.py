"""updateUnixTime -m DB: recompute every unixtime row from the file table.

unix_start and unix_stop are the file's utc_start_time and utc_stop_time in
seconds since 1970 (UTC); a file without its unixtime row gets one. Prints
how many rows were checked, corrected and added.
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "updateUnixTime"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog="exit codes: 0 done, 2 usage error")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..ingest.recompute import update_unixtimes
    from .context import open_mission

    def body() -> int:
        with open_mission(args.mission) as mission:
            with Session(for_writing(mission.engine)) as session:
                summary = update_unixtimes(session)
                session.commit()
        print(summary.text())
        return 0

    return run_command(PROG, body)
