"""histogramCodes -m DB OUTPUT.png [LOGFILE...]: a PNG histogram of code run times, per
code, from the event log."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import write_atomically
from ..errors import EXIT_SOME_FAILED, EXIT_USAGE
from . import ArgumentParser, date_argument, parse, read_mission, run_command

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..mission.tree import MissionTree
    from ..report.runtimes import RunTime

PROG = "histogramCodes"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="Run times come from the event log (started to finished). LOGFILEs are read "
               "for the original's 'Command: CODE took N seconds' lines; dbprocessing's own "
               "daily logs carry no run times. Needs matplotlib: "
               "pip install 'dbprocessing[plot]'.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("output", type=Path, help="the PNG file to write (must end in .png)")
    parser.add_argument("logfiles", nargs="*", type=Path, metavar="LOGFILE",
                        help="log files of the original dbprocessing to read run times from")
    parser.add_argument("-p", "--process", action="append", dest="processes",
                        help="process name or id (repeatable; default: every process)")
    parser.add_argument("--since", type=date_argument,
                        help="only runs started on or after this date")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..lock import utcnow

    def body() -> int:
        from ..report.plots import cannot_draw, histogram_png
        from ..report.runtimes import codes_of, event_run_times, log_run_times

        # The .png suffix also keeps histogramCodes LOG... (the original's form)
        # from writing over a log file.
        why = cannot_draw(PROG, args.output)
        if why:
            print(why, file=sys.stderr)
            return EXIT_USAGE

        def read(session: Session, _tree: MissionTree) -> tuple[list[RunTime], set[str] | None]:
            codes = codes_of(session, args.processes) if args.processes else None
            return event_run_times(session, args.processes, args.since), codes

        from_events, codes = read_mission(args.mission, read)
        from_logs = log_run_times(args.logfiles, codes, args.since)
        times = from_events + from_logs
        if not times:
            print(f"{PROG}: no code run times found (event log"
                  + (f", {len(args.logfiles)} log file(s)" if args.logfiles else "")
                  + f"); {args.output} not written", file=sys.stderr)
            return EXIT_SOME_FAILED
        write_atomically(args.output, histogram_png(times, generated_at=utcnow()))
        print(f"wrote {args.output} ({len(times)} run(s) of "
              f"{len({t.code for t in times})} code(s): {len(from_events)} from the event log"
              + (f", {len(from_logs)} from {len(args.logfiles)} log file(s)"
                 if args.logfiles else "") + ")")
        return 0

    return run_command(PROG, body)
