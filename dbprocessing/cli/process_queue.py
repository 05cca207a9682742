"""ProcessQueue (-i|-p) -m DB: ingest incoming files (-i) or build child products (-p)."""
from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from sqlalchemy.orm import Session

from ..db.queries import find_process
from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from ..ingest.pipeline import BATCH_SIZE, ingest_incoming
from ..process.pipeline import process_queue
from . import ArgumentParser, parse, run_command
from .context import (
    OpenMission,
    add_executor_arguments,
    check_executor_arguments,
    executor_from,
    open_mission,
)

PROG = "ProcessQueue"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog="exit codes: 0 all done, 1 some files rejected or runs "
                                   "failed (the rest done), 2 usage or configuration "
                                   "error, 3 another run holds the lock; a dry run (-d) "
                                   "exits 0 whatever it reports")
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("-i", "--ingest", action="store_true", help="ingest incoming files")
    mode.add_argument("-p", "--process", action="store_true", help="build child products")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-l", "--log-level", default="INFO",
                        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL",
                                 "debug", "info", "warning", "error", "critical"),
                        help="level of the daily log file (default INFO)")
    parser.add_argument("--echo", action="store_true", help="echo every SQL statement")
    parser.add_argument("-d", "--dryrun", action="store_true",
                        help="print what would be done; change nothing")
    parser.add_argument("--glb", default="*", help="only incoming names matching this glob")
    parser.add_argument("-n", "--num-proc", type=int, default=2,
                        help="codes to run at once (with -p)")
    parser.add_argument("-o", "--only", help="comma-separated processes to run (with -p)")
    parser.add_argument("-s", "--skip-run", action="store_true",
                        help="skip RUN-timebase processes (with -p)")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE,
                        help=f"files recorded per transaction when ingesting "
                             f"(default {BATCH_SIZE})")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds a run may take before it is killed, for codes "
                             "without their own code_timeout (default: no limit)")
    add_executor_arguments(parser)
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print only the summary (for cron)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        if args.num_proc < 1:
            raise UsageError("-n must be at least 1")
        if args.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if args.timeout is not None and args.timeout <= 0:
            raise UsageError("--timeout must be a positive number of seconds")
        check_executor_arguments(args)
        with open_mission(args.mission, echo=args.echo, log_level=args.log_level) as mission:
            only = _resolve_only(mission, args.only) if args.only else None
            # Everything imported so far lives for the whole run: keep the cyclic
            # garbage collector from walking it again and again (about 10% of ingest).
            gc.freeze()
            say = (lambda line: None) if args.quiet else print
            if args.process:
                return _process(mission, args, only, say)
            return _ingest(mission, args, say)

    return run_command(PROG, body)


def _resolve_only(mission: OpenMission, text: str) -> set[str]:
    """The processes -o names, checked against the database (names or ids as given)."""
    wanted = {w.strip() for w in text.split(",") if w.strip()}
    try:
        with Session(mission.engine) as session:
            for ref in wanted:
                find_process(session, ref)
    except UsageError as exc:
        raise UsageError(f"-o: {exc}") from None
    return wanted


def _ingest(mission: OpenMission, args, say) -> int:
    engine, tree = mission.engine, mission.tree
    if args.dryrun:
        summary = ingest_incoming(engine, tree, pattern=args.glb, dry_run=True,
                                  batch_size=args.batch_size, say=say)
    else:
        with mission.locked(PROG, args.argv) as run:
            summary = ingest_incoming(engine, tree, pattern=args.glb,
                                      batch_size=args.batch_size, events=run.events, say=say)
            if summary.rejected:
                run.lock.comment = f"Nominal Exit; {len(summary.rejected)} file(s) rejected"
    print(summary.text())
    # A dry run reports what would be rejected; only doing the work can fail it.
    return EXIT_SOME_FAILED if summary.rejected and not args.dryrun else EXIT_OK


def _process(mission: OpenMission, args, only, say) -> int:
    engine, tree = mission.engine, mission.tree
    options = dict(slots=args.num_proc, only=only, skip_run=args.skip_run,
                   timeout=args.timeout, say=say)
    if args.dryrun:
        summary = process_queue(engine, tree, dry_run=True, **options)
    else:
        with mission.locked(PROG, args.argv) as run, executor_from(args) as executor:
            summary = process_queue(engine, tree, events=run.events, executor=executor,
                                    **options)
            if summary.failed:
                run.lock.comment = f"Nominal Exit; {len(summary.failed)} run(s) failed"
            if summary.stopped:
                run.lock.comment = f"Stopped: {summary.stopped}"
    print(summary.text())
    return EXIT_SOME_FAILED if summary.some_failed and not args.dryrun else EXIT_OK
