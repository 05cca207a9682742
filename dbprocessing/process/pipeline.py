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
from collections.abc import Callable
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
from ..progress import Progress
from .executors import Executor
from .executors.local import LocalExecutor
from .planner import Planner, RunPlan, SkipKind, Wave
from .provenance import OutputRecorder, discard_workdir, keep_output, record_failure
from .runner import RunResult, clear_work
from .schedule import (
    RETRY_AFTER_HOURS,
    clear_retries,
    clear_retry,
    dry_run_waves,
    moot_retries,
    note_failure,
    retry_wave,
    target_of,
)
from .summary import ProcessSummary

logger = logging.getLogger(__name__)


# -- ProcessQueue -p ---------------------------------------------------------

MAX_WAVES = 10000  # a process that feeds itself would otherwise never stop


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


def process_queue(engine: Engine, tree: MissionTree, *, slots: int = 2,
                  only: set[str] | None = None, skip_run: bool = False,
                  timeout: float | None = None, dry_run: bool = False,
                  retry_after: float | None = RETRY_AFTER_HOURS,
                  events: EventLog | None = None, executor: Executor | None = None,
                  say: Callable[[str], None] = lambda _line: None,
                  progress: Progress | None = None) -> ProcessSummary:
    """Build every buildable child of the queued files, level by level, then
    retry the failed runs that are due.

    A run that fails is tried again by a later run *retry_after* hours on
    (doubled for each further failure; None: only when its code changes or
    an input is queued).  With *events*, each wave's jobs are logged before
    they run and each outcome with the transaction that records it.
    *progress* counts each wave's runs as they become known and as they finish.
    The codes run on *executor* (default: local child processes, *slots* cpu at
    once); if it loses its cluster, what finished is recorded, the wave's queue
    entries stay and ``summary.stopped`` says why.
    """
    summary = ProcessSummary(dry_run=dry_run)
    now = utcnow()
    progress = progress or Progress()
    executor = executor or LocalExecutor(slots)
    with Session(engine) as reader, Session(for_writing(engine)) as writer:
        planner = Planner(reader, tree, only=only, skip_run=skip_run, default_timeout=timeout)
        if dry_run:
            for wave in dry_run_waves(planner, now):
                summary.waves += 1
                summary.planned += len(wave.plans)
                _note_skips(wave, summary, say)
                for plan in wave.plans:
                    say(f"would run {plan.describe()}")
            return summary
        summary.recovered = recover_pending(writer)
        clear_work(tree)
        candidates = {c.product_id: c for c in load_products(reader, tree)}
        recorder = OutputRecorder(writer, PluginDatabase(reader), events, tree)
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
            reader.commit()
            if events is not None:
                events.plan_wave(writer, wave.plans, wave.skips, planner.processes)
                writer.commit()
            for plan in wave.plans:
                logger.info("planned: %s", plan.describe())
            progress.stage(f"wave {summary.waves} " + (
                f"(level {wave.level:g})" if wave.level is not None else "(retries)"))
            progress.add(len(wave.plans))

            def finish_one(result: RunResult) -> None:
                _finish(result, recorder, tree, candidates, summary, say, retry_after)
                progress.advance()

            if not _run_wave(executor, wave.plans, tree, summary, say, finish_one):
                recorder.settle()
                break
            _consume_queue(writer, wave.queue_bumps, wave.remakes)
            clear_retries(writer, wave.settled_retries + moot_retries(writer, wave.skips))
            recorder.settle()
            faults.checkpoint("wave_done")
            reader.expire_all()
            reader.commit()
        else:
            logger.error("stopped after %d waves: does a process feed itself?", MAX_WAVES)
    return summary


def _run_wave(executor: Executor, plans: list[RunPlan], tree: MissionTree,
              summary: ProcessSummary, say: Callable[[str], None],
              finish: Callable[[RunResult], None]) -> bool:
    """Run *plans*, finishing each result as it comes; False if the executor was lost."""
    try:
        for result in executor.run(plans, tree):
            finish(result)
            discard_workdir(result)
    except ExecutorLost as exc:
        summary.stopped = str(exc)
        logger.error("stopped: %s", exc)
        say(f"STOPPED: {exc}")
        return False
    return True


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


def _finish(result: RunResult, recorder: OutputRecorder, tree: MissionTree,
            candidates: dict[int, Candidate], summary: ProcessSummary,
            say: Callable[[str], None], retry_after: float | None) -> None:
    plan = result.plan
    events = recorder.events
    if result.ok:
        clear_retry(recorder.writer, plan)  # committed with the output (or the wave)
        if plan.output_product_id is None:
            recorder.writer.commit()
            summary.ran += 1
            say(f"ran {plan.process_name} {plan.date} ({result.seconds:.1f} s)")
            if events is not None:
                events.finished(result, "succeeded", log_path=keep_output(result, tree))
            return
        problem = recorder.record(result, candidates[plan.output_product_id])
        if problem is None:
            summary.made += 1
            say(f"made {plan.output_name} ({result.seconds:.1f} s)")
            return
        recorder.writer.rollback()
    else:
        problem = result.failure()
    _failed(result, tree.errordir, problem, summary, say, events)
    note_failure(recorder.writer, plan, utcnow(), retry_after)
    recorder.writer.commit()


def _failed(result: RunResult, errordir: Path, problem: str, summary: ProcessSummary,
            say: Callable[[str], None], events: EventLog | None) -> None:
    plan = result.plan
    prob = record_failure(result, errordir, problem)
    summary.failed.append(f"{plan.process_name} {plan.date}: {problem}")
    say(f"FAILED {plan.process_name} {plan.date}: {problem} (see {prob})")
    if events is not None:
        events.finished(result, "timed_out" if result.timed_out else "failed",
                        log_path=str(prob), message=problem)


# -- DBRunner ------------------------------------------------------------------

def run_process(engine: Engine, tree: MissionTree, process_ref: str,
                dates: list, *, slots: int = 2, record: bool = False,
                force: int | None = None, update_only: bool = False,
                use_optional: bool = True, timeout: float | None = None,
                dry_run: bool = False, outdir: Path | None = None,
                retry_after: float | None = RETRY_AFTER_HOURS,
                events: EventLog | None = None, executor: Executor | None = None,
                say: Callable[[str], None] = lambda _line: None) -> ProcessSummary:
    """Run one process for each date (DBRunner), with or without recording.

    Recorded (``record``): outputs that need (re)making, or all with a forced
    bump, are archived with provenance and queued, as ProcessQueue -p does.
    Not recorded: every date runs (only those needing it with ``update_only``)
    and outputs, ``.prob`` files and partial outputs go to *outdir* (default:
    the current directory), never to the mission's error directory; no job
    is logged (a test run is not the mission's work, so status and coverage
    never show it as failed).
    """
    summary = ProcessSummary(dry_run=dry_run)
    if not record:
        events = None
    with Session(engine) as reader, Session(for_writing(engine)) as writer:
        if record and not dry_run:
            summary.recovered = recover_pending(writer)
            clear_work(tree)
        planner = Planner(reader, tree, default_timeout=timeout, use_optional=use_optional,
                          always_run=not record and not update_only)
        process = planner.processes[find_process(reader, process_ref).process_id]
        wave = planner.plan_dates(process, dates, force)
        summary.planned = len(wave.plans)
        _note_skips(wave, summary, say)
        if dry_run:
            for plan in wave.plans:
                say(f"would run {plan.describe()}")
            return summary
        reader.commit()
        if events is not None:
            events.plan_wave(writer, wave.plans, wave.skips, planner.processes)
            writer.commit()
        candidates = {c.product_id: c for c in load_products(reader, tree)}
        recorder = OutputRecorder(writer, PluginDatabase(reader), events, tree)
        def finish(result: RunResult) -> None:
            if record:
                _finish(result, recorder, tree, candidates, summary, say, retry_after)
            else:
                _deliver(result, outdir or Path.cwd(), summary, say)

        _run_wave(executor or LocalExecutor(slots), wave.plans, tree, summary, say, finish)
        recorder.settle()
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
