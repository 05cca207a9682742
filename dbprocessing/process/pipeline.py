"""Processing wired together: ``process_queue`` (``ProcessQueue -p``) and
``run_process`` (DBRunner).

Processing works in waves by data level: plan the children of the queued
files of the lowest level, run them, record each output as it finishes (it
joins the queue), then delete the wave's queue entries.  A crash loses no
queued work: the entries stay until their wave is done, and outputs already
recorded are up to date when the wave is planned again.  A failed run leaves
a ``retry`` row; when the queue is done, one more wave retries the failed
targets that are due (``schedule.py``).
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from .. import faults
from ..db.engine import for_writing
from ..db.models import ProcessQueue
from ..db.queries import find_process
from ..errors import ExecutorLost
from ..events import EventLog
from ..ingest.archive import move_file
from ..ingest.identify import Candidate, PluginDatabase, load_products
from ..ingest.pipeline import recover_pending
from ..lock import utcnow
from ..mission.tree import MissionTree
from .executors.local import LocalExecutor
from .planner import Planner, RunPlan, SkipKind, Wave
from .provenance import Output, OutputRecorder, discard_workdir, keep_output, record_failure
from .runner import RunResult, clear_work, make_work
from .schedule import (
    RetryBook,
    clear_retries,
    dry_run_waves,
    moot_retries,
    retry_wave,
    target_of,
)
from .settings import RunSettings
from .summary import ProcessSummary

logger = logging.getLogger(__name__)


# -- ProcessQueue -p ---------------------------------------------------------

MAX_WAVES = 10000  # a process that feeds itself would otherwise never stop
MAX_BATCH = 64     # finished runs recorded in one transaction at most
HOLD = 0.2         # s: runs finishing this soon after a batch's first join its transaction


def _note_skips(wave: Wave, summary: ProcessSummary, say: Callable[[str], None]) -> None:
    for skip in wave.skips:
        if skip.kind is SkipKind.UP_TO_DATE:
            summary.up_to_date += 1
        elif skip.kind is SkipKind.NEIGHBOUR_ONLY:  # a window edge: nothing to make
            logger.debug(skip.describe())
        else:
            summary.blocked.append(skip.describe())
            logger.info(skip.describe())
            say(skip.describe())


class _Processing:
    """What ``process_queue`` and ``run_process`` share once their plans are made:
    the sessions, the recovery of an interrupted run, the event log of each
    wave, the executor, and the recording of each result."""

    def __init__(self, reader: Session, writer: Session, tree: MissionTree,
                 settings: RunSettings, summary: ProcessSummary) -> None:
        self.reader, self.writer, self.tree = reader, writer, tree
        self.settings = settings
        self.summary = summary
        self.executor = settings.executor or LocalExecutor(settings.slots)
        self.recorder = OutputRecorder(writer, PluginDatabase(reader), settings.events, tree)
        self.candidates: dict[int, Candidate] = {}
        self.retries = RetryBook(writer)

    def recover(self) -> None:
        """Complete what a killed run left (moves promised, work directories)."""
        recovery = recover_pending(self.writer)
        self.summary.recovered, self.summary.stuck = recovery.finished, recovery.stuck
        for line in recovery.stuck:
            self.settings.say(line)
        clear_work(self.tree, keep=recovery.kept)
        make_work(self.tree)

    def log_wave(self, wave: Wave, planner: Planner) -> None:
        """End the planning transaction; log the wave's jobs (their own commit)."""
        if not self.candidates:
            self.candidates = {c.product_id: c for c in load_products(self.reader, self.tree)}
        self.reader.commit()
        events = self.settings.events
        if events is not None:
            events.plan_wave(self.writer, wave.plans, wave.skips, planner.processes)
            self.writer.commit()

    def run(self, plans: list[RunPlan], finish: Callable[[list[RunResult]], None]) -> bool:
        """Run *plans*, finishing results as they come; False if the executor was lost.

        Runs that finish close together are finished together, so that their
        outputs share one transaction: when the executor's results can
        ``wait(timeout)`` for the next finished run (the local executor's
        can), the runs finishing within ``HOLD`` of a batch's first join it.
        A batch is never held for runs not yet finished once none is left
        running (the end of a wave), nor beyond ``HOLD``.
        """
        summary, say = self.summary, self.settings.say
        results = self.executor.run(plans, self.tree)
        wait: Callable[[float], bool] | None = getattr(results, "wait", None)
        # The local runner reuses a recorded run's work directory for a later run.
        release: Callable[[RunResult], None] = getattr(results, "release", discard_workdir)
        batch: list[RunResult] = []
        held_until = 0.0
        try:
            for result in results:
                if not batch:
                    held_until = time.monotonic() + HOLD
                batch.append(result)
                if (wait is not None and len(batch) < MAX_BATCH
                        and wait(held_until - time.monotonic())):
                    continue
                _finish(batch, finish, release)
                batch = []
        except ExecutorLost as exc:
            _finish(batch, finish, release)
            summary.stopped = str(exc)
            logger.error("stopped: %s", exc)
            say(f"STOPPED: {exc}")
            return False
        _finish(batch, finish, release)
        return True

    def record(self, results: list[RunResult]) -> None:
        """Record finished runs: the outputs made in one transaction, with the
        retry rows they settle; then each failure with its retry row."""
        summary, say = self.summary, self.settings.say
        recorder, events = self.recorder, self.settings.events
        outputs: list[Output] = []
        failed: list[tuple[RunResult, str]] = []
        for result in results:
            plan = result.plan
            if not result.ok:
                failed.append((result, result.failure()))
            elif plan.output_product_id is None:
                self.retries.succeeded(plan)  # committed with the outputs (or alone)
                summary.ran += 1
                say(f"ran {plan.process_name} {plan.date} ({result.seconds:.1f} s)")
                if events is not None:
                    events.finished(result, "succeeded", log_path=keep_output(result, self.tree))
            else:
                made = recorder.prepare(result, self.candidates[plan.output_product_id])
                if isinstance(made, str):
                    failed.append((result, made))
                else:
                    self.retries.succeeded(plan)
                    outputs.append(made)
        if outputs:
            stuck = recorder.record(outputs)
            for output in outputs:
                summary.made += 1
                say(f"made {output.result.plan.output_name} ({output.result.seconds:.1f} s)")
            for line in stuck:
                summary.stuck.append(line)
                say(line)
        else:
            self.writer.commit()
        for result, problem in failed:
            _failed(result, self.tree.errordir, problem, summary, say, events)
            self.retries.failed(result.plan, utcnow(), self.settings.retry_after)
            self.writer.commit()


def _finish(batch: list[RunResult], finish: Callable[[list[RunResult]], None],
            release: Callable[[RunResult], None]) -> None:
    if batch:
        finish(batch)
        for result in batch:
            release(result)


@contextmanager
def _sessions(engine: Engine) -> Iterator[tuple[Session, Session]]:
    """A session that plans (reads) and one that records (writes).

    The writer keeps one connection for the whole run: it commits once per
    output, and checking a connection out of the pool and back in for each
    cost about a tenth of the controller's CPU."""
    with Session(engine) as reader, for_writing(engine).connect() as conn, \
            Session(conn) as writer:
        yield reader, writer


def process_queue(engine: Engine, tree: MissionTree, settings: RunSettings, *,
                  only: set[str] | None = None, skip_run: bool = False) -> ProcessSummary:
    """Build every buildable child of the queued files, level by level, then
    retry the failed runs that are due (*settings*: how; ``RunSettings``).

    *only*: these processes (names or ids) only; *skip_run*: leave out RUN
    processes.  If the executor loses its cluster, what finished is recorded,
    the wave's queue entries stay and ``summary.stopped`` says why.
    """
    summary = ProcessSummary(dry_run=settings.dry_run)
    now = utcnow()
    say, progress = settings.say, settings.progress
    with _sessions(engine) as (reader, writer):
        planner = Planner(reader, tree, only=only, skip_run=skip_run,
                          default_timeout=settings.timeout)
        if settings.dry_run:
            for wave in dry_run_waves(planner, now):
                summary.waves += 1
                summary.planned += len(wave.plans)
                _note_skips(wave, summary, say)
                for plan in wave.plans:
                    say(f"would run {plan.describe()}")
            return summary
        run = _Processing(reader, writer, tree, settings, summary)
        run.recover()
        planned: set = set()  # targets planned this run: a retry wave leaves them out
        retried = False
        for _ in range(MAX_WAVES):
            wave = planner.next_wave()
            if wave.level is None:
                if retried:
                    break
                retried = True
                wave = retry_wave(planner, now, planned)
                if not wave.plans and not wave.settled_retries:
                    break
            planned.update(target_of(p) for p in wave.plans)
            summary.waves += 1
            summary.planned += len(wave.plans)
            _note_skips(wave, summary, say)
            run.log_wave(wave, planner)
            for plan in wave.plans:
                logger.info("planned: %s", plan.describe())
            progress.stage(f"wave {summary.waves} " + (
                f"(level {wave.level:g})" if wave.level is not None else "(retries)"))
            progress.add(len(wave.plans))

            def finish(results: list[RunResult]) -> None:
                run.record(results)
                progress.advance(len(results))

            if not run.run(wave.plans, finish):
                run.recorder.settle()
                break
            _consume_queue(writer, wave.queue_bumps, wave.remakes)
            clear_retries(writer, wave.settled_retries + moot_retries(writer, wave.skips))
            run.recorder.settle()
            faults.checkpoint("wave_done")
            reader.expire_all()
            reader.commit()
        else:
            logger.error("stopped after %d waves: does a process feed itself?", MAX_WAVES)
    return summary


def _consume_queue(writer: Session, bumps: dict[int, int | None], remakes: set[int]) -> None:
    """Delete the wave's queue entries, but keep one whose bump changed meanwhile
    (a reprocess command asked for a forced bump, or a remake, while the wave ran)."""
    by_bump: dict[tuple[int | None, bool], list[int]] = {}
    for file_id, bump in bumps.items():
        by_bump.setdefault((bump, file_id in remakes), []).append(file_id)
    for (bump, remake), ids in by_bump.items():
        same = (ProcessQueue.version_bump.is_(None) if bump is None
                else ProcessQueue.version_bump == bump)
        writer.execute(delete(ProcessQueue).where(ProcessQueue.file_id.in_(ids), same,
                                                  ProcessQueue.remake.is_(remake)))


def _failed(result: RunResult, errordir: Path, problem: str, summary: ProcessSummary,
            say: Callable[[str], None], events: EventLog | None) -> None:
    plan = result.plan
    prob = record_failure(result, errordir, problem)
    summary.failed.append(f"{plan.process_name} {plan.date}: {problem}")
    say(f"FAILED {plan.process_name} {plan.date}: {problem} "
        + (f"(see {prob})" if isinstance(prob, Path) else f"({prob})"))
    if events is not None:
        events.finished(result, "timed_out" if result.timed_out else "failed",
                        log_path=str(prob) if isinstance(prob, Path) else None,
                        message=problem)


# -- DBRunner ------------------------------------------------------------------

def run_process(engine: Engine, tree: MissionTree, process_ref: str, dates: list,
                settings: RunSettings, *, record: bool = False,
                force: int | None = None, update_only: bool = False,
                use_optional: bool = True, outdir: Path | None = None) -> ProcessSummary:
    """Run one process for each date (DBRunner), with or without recording.

    Recorded (``record``): outputs that need (re)making, or all with a forced
    bump, are archived with provenance and queued, as ProcessQueue -p does.
    Not recorded: every date runs (only those needing it with ``update_only``)
    and outputs, ``.prob`` files and partial outputs go to *outdir* (default:
    the current directory), never to the mission's error directory; no job
    is logged (a test run is not the mission's work, so status and coverage
    never show it as failed).
    """
    summary = ProcessSummary(dry_run=settings.dry_run)
    if not record:
        settings = replace(settings, events=None)
    say = settings.say
    with _sessions(engine) as (reader, writer):
        run = _Processing(reader, writer, tree, settings, summary)
        if record and not settings.dry_run:
            run.recover()
        planner = Planner(reader, tree, default_timeout=settings.timeout,
                          use_optional=use_optional, always_run=not record and not update_only)
        process = planner.processes[find_process(reader, process_ref).process_id]
        wave = planner.plan_dates(process, dates, force)
        summary.planned = len(wave.plans)
        _note_skips(wave, summary, say)
        if settings.dry_run:
            for plan in wave.plans:
                say(f"would run {plan.describe()}")
            return summary
        run.log_wave(wave, planner)

        def finish(results: list[RunResult]) -> None:
            if record:
                run.record(results)
                return
            for result in results:
                _deliver(result, outdir or Path.cwd(), summary, say)

        run.run(wave.plans, finish)
        run.recorder.settle()
    return summary


def _deliver(result: RunResult, outdir: Path, summary: ProcessSummary,
             say: Callable[[str], None]) -> None:
    """An unrecorded run: move its output to *outdir* (never over an existing file);
    a failure's ``.prob`` and partial output go there too."""
    plan = result.plan
    if not result.ok:
        problem = result.failure()
    elif result.output_path is None:
        summary.ran += 1
        say(f"ran {plan.process_name} {plan.date}")
        return
    else:
        assert plan.output_name is not None  # a run with an output path names its output
        target = outdir / plan.output_name
        try:
            move_file(result.output_path, target)
        except FileExistsError:
            problem = f"{target} already exists; not overwritten"
        else:
            summary.made += 1
            say(f"made {target} (not recorded)")
            return
    _failed(result, outdir, problem, summary, say, None)
