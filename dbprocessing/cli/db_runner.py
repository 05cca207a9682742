"""DBRunner -m DB process: run one process directly for each date in a range."""
from __future__ import annotations

import datetime
import sys
from collections.abc import Sequence
from dataclasses import replace

from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from . import ArgumentParser, date_argument, parse, run_command, seconds_argument
from .context import (
    add_executor_arguments,
    check_executor_arguments,
    executor_from,
    open_mission,
)

PROG = "DBRunner"
MAX_DAYS = 36600


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="Without -i the outputs go to the current directory and are not recorded. "
               "Exit codes: 0 all ran, 1 some runs failed, 2 usage error, 3 lock held; "
               "a dry run (-d) exits 0 whatever it reports.")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("process", help="process name or id")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first date (default: today, UTC)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last date, inclusive (default: the start date)")
    parser.add_argument("-n", "--num-proc", type=int, default=2, help="codes to run at once")
    parser.add_argument("-i", "--ingest", action="store_true",
                        help="record the outputs in the database and archive them")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-u", "--update", action="store_true",
                      help="only dates whose output is missing or out of date")
    mode.add_argument("--force", type=int, choices=(0, 1, 2),
                      help="with -i: remake every date with this bump "
                           "(0 interface, 1 quality, 2 revision)")
    parser.add_argument("--nooptional", action="store_true", help="leave out optional inputs")
    parser.add_argument("--timeout", type=seconds_argument,
                        help="seconds before a run is killed")
    parser.add_argument("-d", "--dryrun", action="store_true",
                        help="print what would run; change nothing")
    add_executor_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from ..process.settings import RunSettings

    arguments = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        from sqlalchemy.orm import Session

        from ..db.queries import find_process
        from ..process.pipeline import run_process  # the planner and runner: not for -h

        start = args.start or datetime.datetime.now(datetime.timezone.utc).date()
        end = args.end or start
        if end < start:
            raise UsageError(f"end {end} is before start {start}")
        if (end - start).days > MAX_DAYS:
            raise UsageError(f"{(end - start).days + 1} days is too many for one run")
        if args.num_proc < 1:
            raise UsageError("-n must be at least 1")
        check_executor_arguments(args)
        dates = [start + datetime.timedelta(days=i) for i in range((end - start).days + 1)]
        with open_mission(args.mission) as mission:
            engine, tree = mission.engine, mission.tree
            with Session(engine) as session:  # an unknown process: nothing logged
                find_process(session, args.process)
            settings = RunSettings(slots=args.num_proc, timeout=args.timeout, say=print)
            options = dict(record=args.ingest, force=args.force, update_only=args.update,
                           use_optional=not args.nooptional)
            if args.dryrun:
                summary = run_process(engine, tree, args.process, dates,
                                      replace(settings, dry_run=True), **options)
            elif args.ingest:
                with mission.locked(PROG, arguments) as run, executor_from(args) as executor:
                    summary = run_process(engine, tree, args.process, dates, replace(
                        settings, events=run.events, executor=executor), **options)
            else:  # the invocation is logged (no lock, no jobs: a test run is not
                # the mission's work)
                with executor_from(args) as executor:
                    summary = run_process(engine, tree, args.process, dates, replace(
                        settings, events=mission.event_log(PROG, arguments),
                        executor=executor), **options)
        print(summary.text())
        return EXIT_SOME_FAILED if summary.some_failed and not args.dryrun else EXIT_OK

    return run_command(PROG, body)
