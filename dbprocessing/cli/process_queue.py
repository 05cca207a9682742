"""ProcessQueue (-i|-p) -m DB: ingest incoming files (-i) or build child products (-p)."""
from __future__ import annotations

import gc
import sys
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import DBlogging
from ..db import open_database
from ..db.engine import describe
from ..db.models import Process
from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from ..events import EventLog
from ..ingest.pipeline import BATCH_SIZE, ingest_incoming
from ..lock import processing_lock
from ..mission.tree import load_mission
from ..process.pipeline import process_queue
from . import ArgumentParser, parse, run_command

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
        engine = open_database(args.mission, echo=args.echo)
        try:
            DBlogging.configure(describe(engine.url), args.log_level)
            with Session(engine) as session:
                tree = load_mission(session)
                only = _resolve_only(session, args.only) if args.only else None
            # Everything imported so far lives for the whole run: keep the cyclic
            # garbage collector from walking it again and again (about 10% of ingest).
            gc.freeze()
            say = (lambda line: None) if args.quiet else print
            if args.process:
                return _process(engine, tree, args, only, say)
            return _ingest(engine, tree, args, say)
        finally:
            engine.dispose()

    return run_command(PROG, body)


def _resolve_only(session: Session, text: str) -> set[str]:
    names = {p.process_name: p.process_id for p in session.scalars(select(Process))}
    wanted = {w.strip() for w in text.split(",") if w.strip()}
    unknown = sorted(w for w in wanted if w not in names and not (
        w.isdigit() and int(w) in names.values()))
    if unknown:
        raise UsageError(f"-o: no process {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(sorted(names)) or 'none'})")
    return wanted


def _ingest(engine, tree, args, say) -> int:
    if args.dryrun:
        summary = ingest_incoming(engine, tree, pattern=args.glb, dry_run=True,
                                  batch_size=args.batch_size, say=say)
    else:
        with processing_lock(engine, tree.mission_id, args.mission) as lock:
            events = EventLog.begin(engine, PROG, args.argv, lock["logging_id"])
            summary = ingest_incoming(engine, tree, pattern=args.glb,
                                      batch_size=args.batch_size, events=events, say=say)
            if summary.rejected:
                lock["comment"] = f"Nominal Exit; {len(summary.rejected)} file(s) rejected"
    print(summary.text())
    # A dry run reports what would be rejected; only doing the work can fail it.
    return EXIT_SOME_FAILED if summary.rejected and not args.dryrun else EXIT_OK


def _process(engine, tree, args, only, say) -> int:
    options = dict(slots=args.num_proc, only=only, skip_run=args.skip_run,
                   timeout=args.timeout, say=say)
    if args.dryrun:
        summary = process_queue(engine, tree, dry_run=True, **options)
    else:
        with processing_lock(engine, tree.mission_id, args.mission) as lock:
            events = EventLog.begin(engine, PROG, args.argv, lock["logging_id"])
            summary = process_queue(engine, tree, events=events, **options)
            if summary.failed:
                lock["comment"] = f"Nominal Exit; {len(summary.failed)} run(s) failed"
    print(summary.text())
    return EXIT_SOME_FAILED if summary.failed and not args.dryrun else EXIT_OK
