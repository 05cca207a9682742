"""ProcessQueue (-i|-p) -m DB: ingest incoming files (-i) or build child products (-p)."""
from __future__ import annotations

import argparse
import datetime
import gc
import logging
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import DBlogging
from ..atomic import write_atomically
from ..errors import EXIT_OK, EXIT_SOME_FAILED, LockHeld, UsageError
from ..ingest import BATCH_SIZE
from ..process import RETRY_AFTER_HOURS
from ..process.settings import RunSettings
from . import ArgumentParser, parse, run_command, seconds_argument
from .console import Console
from .context import (
    OpenMission,
    add_executor_arguments,
    check_executor_arguments,
    executor_from,
    open_mission,
)

if TYPE_CHECKING:  # SQLAlchemy is imported once the arguments are parsed: -h is quick
    from sqlalchemy import Engine

    from ..ingest.summary import IngestSummary
    from ..mission.tree import MissionTree

PROG = "ProcessQueue"
logger = logging.getLogger(__name__)


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
    parser.add_argument("--timeout", type=seconds_argument, default=None,
                        help="seconds a run may take before it is killed, for codes "
                             "without their own code_timeout (default: no limit)")
    parser.add_argument("-r", "--report", nargs="?", const="", metavar="FILE",
                        help="write an HTML report of the run (its jobs or files, problems "
                             "first) to FILE; without FILE to ProcessQueue_<db>_<run>.html "
                             "in the log directory")
    talk = parser.add_mutually_exclusive_group()
    talk.add_argument("-q", "--quiet", action="store_true",
                      help="print only the summary line")
    talk.add_argument("-v", "--verbose", action="store_true",
                      help="print a line per file or run and the summary even with no "
                           "terminal (by default a run under cron prints nothing unless "
                           "something failed; the summary always goes to the log)")
    parser.add_argument("--stuck-after", type=_hours, default=STUCK_AFTER_HOURS,
                        metavar="HOURS",
                        help=f"a processing lock another run has held for longer than "
                             f"this is said on stderr even under cron, so that cron mails "
                             f"it (default {STUCK_AFTER_HOURS:g}; 'never': only logged)")
    parser.add_argument("--retry-after", type=_hours, default=RETRY_AFTER_HOURS,
                        metavar="HOURS",
                        help=f"with -p: retry a failed run this many hours after it "
                             f"failed, doubled for each further failure up to 7 days "
                             f"(default {RETRY_AFTER_HOURS:g}; 0: every run; 'never': only "
                             f"when its code or an input changes)")
    add_executor_arguments(parser)
    return parser


# A lock held longer than this is probably stuck: said even under cron.
STUCK_AFTER_HOURS = 24.0


def _hours(text: str) -> float | None:
    """``--retry-after``, ``--stuck-after``: hours (0 or more), or ``never`` (None)."""
    if text.strip().lower() == "never":
        return None
    try:
        hours = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a number of hours or 'never': {text!r}") from None
    if not hours >= 0 or hours == float("inf"):
        raise argparse.ArgumentTypeError(f"hours must be 0 or more: {text!r}")
    return hours


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        if args.num_proc < 1:
            raise UsageError("-n must be at least 1")
        if args.batch_size < 1:
            raise UsageError("--batch-size must be at least 1")
        if args.report is not None and args.dryrun:
            raise UsageError("-r reports a run that did the work; a dry run (-d) has "
                             "nothing to report")
        check_executor_arguments(args)
        with open_mission(args.mission, echo=args.echo, log_level=args.log_level) as mission:
            only = _resolve_only(mission, args.only) if args.only else None
            # Everything imported so far lives for the whole run: keep the cyclic
            # garbage collector from walking it again and again (about 10% of ingest).
            gc.freeze()
            console = Console(verbose=args.verbose, quiet=args.quiet, dry_run=args.dryrun)
            try:
                if args.process:
                    return _process(mission, args, only, console)
                return _ingest(mission, args, console)
            except LockHeld as exc:
                # Under cron a busy lock is routine (the last run is still going):
                # a log record and exit 3, not a mail; unless it has been held so
                # long that the holder is likely stuck or dead on another host.
                logger.warning("%s not run: %s", PROG, exc)
                if console.errors_shown:
                    raise
                stuck = _stuck_for(exc, args.stuck_after)
                if stuck is not None:
                    print(f"{PROG}: error: {exc} (held for {stuck:.1f} hours, more than "
                          f"--stuck-after {args.stuck_after:g})", file=sys.stderr)
                return exc.exit_code
            finally:
                console.close()

    return run_command(PROG, body)


def _stuck_for(exc: LockHeld, limit: float | None) -> float | None:
    """How many hours the lock has been held, if more than *limit* (None: never)."""
    if limit is None or exc.held_since is None:
        return None
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)  # as the lock's
    hours = (now - exc.held_since).total_seconds() / 3600
    return hours if hours > limit else None


def _resolve_only(mission: OpenMission, text: str) -> set[str]:
    """The processes -o names, checked against the database (names or ids as given)."""
    from sqlalchemy.orm import Session

    from ..db.queries import find_process

    wanted = {w.strip() for w in text.split(",") if w.strip()}
    try:
        with Session(mission.engine) as session:
            for ref in wanted:
                find_process(session, ref)
    except UsageError as exc:
        raise UsageError(f"-o: {exc}") from None
    return wanted


def _ingest(mission: OpenMission, args: argparse.Namespace, console: Console) -> int:
    engine, tree = mission.engine, mission.tree
    options = dict(pattern=args.glb, batch_size=args.batch_size, say=console.say)
    if args.dryrun:
        summary = _ingest_incoming(engine, tree, dry_run=True, **options)
    else:
        with mission.locked(PROG, args.argv) as run:
            summary = _ingest_incoming(engine, tree, events=run.events,
                                       progress=console.progress("ingest", "file"), **options)
            if summary.rejected:
                run.lock.comment = f"Nominal Exit; {len(summary.rejected)} file(s) rejected"
    # A dry run reports what would be rejected; only doing the work can fail it.
    failed = bool(summary.rejected or summary.stuck or summary.held) and not args.dryrun
    console.finish(summary.text(), failed, [
        *(f"rejected {name}: {reason}" for name, reason in summary.rejected),
        *(f"held {name}: {reason}" for name, reason in summary.held),
        *summary.stuck])
    if args.report is not None and not _report(mission, args, run.events.invocation_id,
                                               summary.text(), console):
        failed = True
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _ingest_incoming(engine: Engine, tree: MissionTree, *, dry_run: bool = False,
                     **options: Any) -> IngestSummary:
    """``ingest_incoming``; with nothing to do, done without importing it (the ORM)."""
    from ..ingest.summary import idle_ingest

    summary = idle_ingest(engine, tree, options["pattern"], dry_run)
    if summary is None:
        from ..ingest.pipeline import ingest_incoming

        gc.freeze()  # the ORM, models and plugins just imported, as in body()
        summary = ingest_incoming(engine, tree, dry_run=dry_run, **options)
    return summary


def _process(mission: OpenMission, args: argparse.Namespace, only: set[str] | None,
             console: Console) -> int:
    from ..process.summary import idle_process

    engine, tree = mission.engine, mission.tree
    settings = RunSettings(slots=args.num_proc, timeout=args.timeout,
                           retry_after=args.retry_after, say=console.say)
    options = dict(only=only, skip_run=args.skip_run)
    if args.dryrun:
        summary = idle_process(engine, tree, dry_run=True)
        if summary is None:
            from ..process.pipeline import process_queue  # the planner and runner

            gc.freeze()
            summary = process_queue(engine, tree, replace(settings, dry_run=True), **options)
    else:
        with mission.locked(PROG, args.argv) as run:
            # With nothing to do, no executor is started and the ORM is not imported.
            summary = idle_process(engine, tree)
            if summary is None:
                from ..process.pipeline import process_queue

                gc.freeze()
                with executor_from(args) as executor:
                    summary = process_queue(engine, tree, replace(
                        settings, events=run.events, executor=executor,
                        progress=console.progress("process", "run")), **options)
            if summary.failed:
                run.lock.comment = f"Nominal Exit; {len(summary.failed)} run(s) failed"
            if summary.stopped:
                run.lock.comment = f"Stopped: {summary.stopped}"
    failed = bool(summary.some_failed) and not args.dryrun
    console.finish(summary.text(), failed, [*(f"FAILED {line}" for line in summary.failed),
                                            *summary.stuck])
    if args.report is not None and not _report(mission, args, run.events.invocation_id,
                                               summary.text(), console):
        failed = True
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _report(mission: OpenMission, args: argparse.Namespace, invocation_id: int, summary: str,
            console: Console) -> bool:
    """Write the run's HTML report (-r), after the lock is released; False if it failed."""
    from sqlalchemy.orm import Session

    from ..db.engine import describe
    from ..report.run import run_report

    path = (Path(args.report) if args.report else DBlogging.log_dir()
            / f"ProcessQueue_{describe(mission.engine.url)}_{invocation_id}.html")
    with Session(mission.engine) as session:
        page = run_report(session, mission.tree.name, invocation_id, summary)
    try:
        write_atomically(path, page)
    except OSError as exc:
        logger.error("could not write the report %s: %s", path, exc)
        print(f"{PROG}: error: could not write the report {path}: {exc.strerror or exc}",
              file=sys.stderr)
        return False
    logger.info("report of run %d: %s", invocation_id, path)
    console.say(f"report: {path}")
    return True
