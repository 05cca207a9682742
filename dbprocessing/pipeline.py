"""The stages wired together: ``ingest_incoming`` (-i) and ``process_queue`` (-p).

Ingest takes the incoming files in batches.  For each batch:

1. identify every file (inspector plugins) and decide: ingest, or reject with
   a reason (rejects go to the error directory at once);
2. one transaction records the batch: file, unixtime and processqueue rows,
   plus an ``ingest_pending`` row per file promising its move;
3. the files are moved (symlinks: the link is removed);
4. a second transaction deletes the batch's promises.

A crash before 2 commits leaves the files untouched in incoming; a crash after
leaves promises that ``recover_pending`` (run first by every ingest) carries
out.  So every file is either untouched in incoming or fully recorded, moved
and queued: never a row without its file, a file without its row, a lost file
or a duplicate.  The caller holds the processing lock.

Processing works in waves by data level: plan the children of the queued
files of the lowest level, run them, record each output as it finishes (it
joins the queue), then delete the wave's queue entries.  A crash loses no
queued work: the entries stay until their wave is done, and outputs already
recorded are up to date when the wave is planned again.
"""
from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from . import faults
from .archive import ProductPaths, move_file, partial_name, reject_file, sha1_of
from .db.engine import for_writing
from .db.models import File, IngestPending, ProcessQueue
from .errors import FormatError, UsageError
from .events import EventLog
from .identify import Candidate, PluginDatabase, identify_file, load_products
from .incoming import incoming_problem, list_incoming
from .mission import MissionTree
from .planner import Planner, SkipKind
from .provenance import OutputRecorder, discard_workdir, keep_output, record_failure
from .record import PendingFile, clear_pending, file_row, identity_clashes, known_names, \
    record_files
from .runner import clear_work, run_plans

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class IngestSummary:
    ingested: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    recovered: int = 0
    dry_run: bool = False

    def text(self) -> str:
        verb = "would ingest" if self.dry_run else "ingested"
        line = f"{verb} {len(self.ingested)} file(s), "
        line += f"{'would reject' if self.dry_run else 'rejected'} {len(self.rejected)}"
        if self.rejected:
            reasons = Counter(_reason_kind(r) for _, r in self.rejected)
            line += " (" + "; ".join(f"{k}: {n}" for k, n in sorted(reasons.items())) + ")"
        if self.recovered:
            line += f"; finished {self.recovered} move(s) left by an interrupted run"
        return line


def _reason_kind(reason: str) -> str:
    return reason.split(" (", 1)[0].split(":", 1)[0]


def recover_pending(session: Session) -> int:
    """Carry out the moves promised by committed rows of an interrupted run."""
    promises = session.scalars(select(IngestPending)).all()
    for promise in promises:
        source, target = Path(promise.source_path), Path(promise.target_path)
        if promise.is_link:
            if source.is_symlink():
                source.unlink()
        elif os.path.lexists(source):
            if target.exists():
                # A cross-filesystem move finished its copy but not its unlink.
                row = session.get(File, promise.file_id)
                if row is not None and row.shasum == sha1_of(target):
                    source.unlink()
                else:
                    logger.error("both %s and %s exist and differ; leaving both for an "
                                 "operator", source, target)
                    continue
            else:
                stray = partial_name(target)
                if stray.exists():
                    stray.unlink()
                move_file(source, target)
        elif not target.exists():
            logger.error("file %s (file_id %s) is neither in incoming nor at %s",
                         source.name, promise.file_id, target)
        logger.warning("finished the move of %s to %s left by an interrupted run",
                       source.name, target)
        faults.checkpoint("recover_moved")
    clear_pending(session, [p.file_id for p in promises])
    session.commit()
    return len(promises)


def _target_for(candidate: Candidate, paths: ProductPaths, name: str, params: dict) -> Path:
    values = dict(candidate.names)
    values["datetime"] = params["utc_file_date"]
    values["VERSION"] = params["version"]
    for word in (params.get("process_keywords") or "").split():
        key, sep, value = word.partition("=")
        if sep:
            values[key] = value
    return paths.path(candidate.relative_path, name, values)


def _plan_one(path: Path, paths: ProductPaths, candidates: list[Candidate],
              dbu: PluginDatabase) -> PendingFile | str:
    """A PendingFile for *path*, or the reason to reject it."""
    problem = incoming_problem(path)
    if problem is not None:
        return problem
    found = identify_file(path, candidates, dbu)
    faults.checkpoint("identified")
    if found.candidate is None:
        return found.reason or "no product claims it"
    try:
        target = _target_for(found.candidate, paths, path.name, found.params)
    except FormatError as exc:
        return f"bad product path: {exc}"
    is_link = path.is_symlink()
    if is_link:
        if path.resolve() != target.resolve():
            return (f"symlink target {os.readlink(path)} is not where product "
                    f"{found.candidate.name} keeps it ({target})")
    elif os.path.lexists(target):
        return f"a file named {path.name} is already in {target.parent} (not in the database)"
    try:
        shasum = sha1_of(path)
        mtime = path.stat().st_mtime
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    row = file_row(path.name, found.params, found.candidate.product_id,
                   found.candidate.level, shasum, mtime)
    return PendingFile(source=path, target=target, is_link=is_link, row=row)


def ingest_incoming(engine: Engine, tree: MissionTree, *, pattern: str = "*",
                    dry_run: bool = False, batch_size: int = BATCH_SIZE,
                    events: EventLog | None = None,
                    say: Callable[[str], None] = lambda _line: None) -> IngestSummary:
    """Ingest every file waiting in incoming (the caller holds the lock unless dry_run).

    With *events*, every decision is logged: accepted files in the transaction
    that records them, rejected ones with the next commit after their move.
    """
    summary = IngestSummary(dry_run=dry_run)
    # Plugins and look-ups read through ``reader``, which never holds SQLite's
    # write lock (a slow plugin must not block other connections); each batch
    # is recorded through ``writer`` in short transactions.
    with Session(engine) as reader, Session(for_writing(engine)) as writer:
        if not dry_run:
            summary.recovered = recover_pending(writer)
        candidates = load_products(reader, tree)
        dbu = PluginDatabase(reader)
        targets = ProductPaths(tree.rootdir)
        paths = list_incoming(tree.incoming, pattern)
        logger.info("%d file(s) waiting in %s", len(paths), tree.incoming)
        for start in range(0, len(paths), batch_size):
            batch = paths[start:start + batch_size]
            planned = _plan_batch(reader, tree, targets, candidates, dbu, batch, summary,
                                  dry_run, say, events)
            reader.commit()  # end the read snapshot before writing
            _record_batch(writer, tree, planned, summary, dry_run, say, events)
        if events is not None and events.pending:
            events.flush(writer)
            writer.commit()
    return summary


def _reject(path: Path, reason: str, tree: MissionTree, summary: IngestSummary,
            dry_run: bool, say: Callable[[str], None], events: EventLog | None) -> None:
    summary.rejected.append((path.name, reason))
    if dry_run:
        say(f"would reject {path.name}: {reason}")
        return
    where = reject_file(path, tree.errordir, reason)
    if events is not None:
        events.rejected(path.name, reason)
    say(f"rejected {path.name}: {reason}"
        + (f" -> {where}" if where else " (left in incoming: could not move it)"))


def _plan_batch(session: Session, tree: MissionTree, targets: ProductPaths,
                candidates: list[Candidate], dbu: PluginDatabase, paths: list[Path],
                summary: IngestSummary, dry_run: bool,
                say: Callable[[str], None], events: EventLog | None) -> list[PendingFile]:
    """Identify a batch; reject what cannot be ingested; return the rest."""
    in_db = known_names(session, [p.name for p in paths])
    planned: list[PendingFile] = []
    for path in paths:
        if path.name in in_db:
            _reject(path, "already in the database", tree, summary, dry_run, say, events)
            continue
        outcome = _plan_one(path, targets, candidates, dbu)
        if isinstance(outcome, str):
            _reject(path, outcome, tree, summary, dry_run, say, events)
        else:
            planned.append(outcome)
    return planned


def _record_batch(session: Session, tree: MissionTree, planned: list[PendingFile],
                  summary: IngestSummary, dry_run: bool,
                  say: Callable[[str], None], events: EventLog | None) -> None:
    """Record, move and clear one batch (crash-safe; see the module docstring)."""
    if not planned:
        return
    clashes = identity_clashes(session, planned)
    accepted: list[PendingFile] = []
    for item in planned:
        holder = clashes.get(item.identity)
        if holder is not None:
            _reject(item.source, f"same product, date and version as {holder}", tree,
                    summary, dry_run, say, events)
            continue
        clashes[item.identity] = item.source.name  # a later twin in this batch is rejected
        accepted.append(item)
    if dry_run:
        session.rollback()
        for item in accepted:
            summary.ingested.append(item.source.name)
            say(f"would ingest {item.source.name} -> {item.target}")
        return
    if not accepted:
        session.commit()
        return
    ids = record_files(session, accepted)
    if events is not None:
        for item in accepted:
            events.accepted(item.source.name, item.row["product_id"],
                            ids[item.row["filename"]])
        events.flush(session)
    session.commit()
    faults.checkpoint("recorded")
    done: list[int] = []
    for item in accepted:
        try:
            if item.is_link:
                item.source.unlink()
            else:
                move_file(item.source, item.target)
        except OSError as exc:
            # The row is committed with its promise: the next run retries the move.
            logger.error("recorded %s but could not move it to %s (%s); the next run "
                         "will retry", item.source.name, item.target, exc)
            say(f"recorded {item.source.name} but could not move it yet: {exc}")
            continue
        faults.checkpoint("moved")
        done.append(ids[item.row["filename"]])
        summary.ingested.append(item.source.name)
        logger.info("ingested %s -> %s", item.source.name, item.target)
    clear_pending(session, done)
    session.commit()
    faults.checkpoint("batch_done")


# -- ProcessQueue -p ---------------------------------------------------------

MAX_WAVES = 10000  # a process that feeds itself would otherwise never stop


@dataclass
class ProcessSummary:
    made: int = 0
    ran: int = 0          # RUN-timebase runs (no output)
    failed: list[str] = field(default_factory=list)
    up_to_date: int = 0
    blocked: list[str] = field(default_factory=list)
    waves: int = 0
    planned: int = 0
    recovered: int = 0
    dry_run: bool = False

    def text(self) -> str:
        if self.dry_run:
            return (f"would run {self.planned} code(s); {self.up_to_date} output(s) up to "
                    f"date, {len(self.blocked)} not possible (dry run: nothing changed)")
        return (f"made {self.made} file(s), {self.ran} RUN-process run(s), "
                f"{len(self.failed)} failed, {self.up_to_date} up to date, "
                f"{len(self.blocked)} not possible, in {self.waves} wave(s)")


def _note_skips(wave, summary: ProcessSummary, say) -> None:
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
                  events: EventLog | None = None,
                  say: Callable[[str], None] = lambda _line: None) -> ProcessSummary:
    """Build every buildable child of the queued files, level by level.

    With *events*, each wave's jobs are logged before they run and each
    outcome with the transaction that records it.
    """
    summary = ProcessSummary(dry_run=dry_run)
    with Session(engine) as reader, Session(for_writing(engine)) as writer:
        if not dry_run:
            summary.recovered = recover_pending(writer)
            clear_work(tree)
        planner = Planner(reader, tree, only=only, skip_run=skip_run, default_timeout=timeout)
        candidates = {c.product_id: c for c in load_products(reader, tree)}
        recorder = OutputRecorder(writer, PluginDatabase(reader), events, tree)
        level = None
        for _ in range(MAX_WAVES):
            wave = planner.next_wave(after_level=level if dry_run else None)
            if wave.level is None:
                break
            summary.waves += 1
            summary.planned += len(wave.plans)
            _note_skips(wave, summary, say)
            if dry_run:
                for plan in wave.plans:
                    say(f"would run {plan.describe()}")
                level = wave.level
                continue
            reader.commit()
            if events is not None:
                events.plan_wave(writer, wave.plans, wave.skips, planner.processes)
                writer.commit()
            for plan in wave.plans:
                logger.info("planned: %s", plan.describe())
            for result in run_plans(wave.plans, tree, slots):
                _finish(result, recorder, tree, candidates, summary, say)
                discard_workdir(result)
            _consume_queue(writer, wave.queue_bumps, wave.remakes)
            recorder.settle()
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


def _finish(result, recorder, tree: MissionTree, candidates, summary: ProcessSummary,
            say) -> None:
    plan = result.plan
    events = recorder.events
    if result.ok:
        if plan.output_product_id is None:
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
    _failed(result, tree, problem, summary, say, events)


def _failed(result, tree: MissionTree, problem: str, summary: ProcessSummary, say,
            events: EventLog | None) -> None:
    plan = result.plan
    prob = record_failure(result, tree, problem)
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
                events: EventLog | None = None,
                say: Callable[[str], None] = lambda _line: None) -> ProcessSummary:
    """Run one process for each date (DBRunner), with or without recording.

    Recorded (``record``): outputs that need (re)making, or all with a forced
    bump, are archived with provenance and queued, as ProcessQueue -p does.
    Not recorded: every date runs (only those needing it with ``update_only``)
    and outputs are copied to *outdir* under their planned names.
    """
    summary = ProcessSummary(dry_run=dry_run)
    with Session(engine) as reader, Session(for_writing(engine)) as writer:
        if record and not dry_run:
            summary.recovered = recover_pending(writer)
            clear_work(tree)
        planner = Planner(reader, tree, default_timeout=timeout, use_optional=use_optional,
                          always_run=not record and not update_only)
        process = next((p for p in planner.processes.values()
                        if p.process_name == process_ref or str(p.process_id) == process_ref),
                       None)
        if process is None:
            raise UsageError(f"no process {process_ref!r}")
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
        for result in run_plans(wave.plans, tree, slots):
            if record:
                _finish(result, recorder, tree, candidates, summary, say)
            else:
                _deliver(result, outdir or Path.cwd(), tree, summary, say, events)
            discard_workdir(result)
        recorder.settle()
    return summary


def _deliver(result, outdir: Path, tree: MissionTree, summary: ProcessSummary,
             say, events: EventLog | None) -> None:
    """An unrecorded run: copy its output to *outdir* (never over an existing file)."""
    plan = result.plan
    if not result.ok:
        problem = result.failure()
    elif result.output_path is None:
        summary.ran += 1
        say(f"ran {plan.process_name} {plan.date}")
        if events is not None:
            events.finished(result, "succeeded", log_path=keep_output(result, tree))
        return
    else:
        target = outdir / plan.output_name
        try:
            move_file(result.output_path, target)
        except FileExistsError:
            problem = f"{target} already exists; not overwritten"
        else:
            summary.made += 1
            say(f"made {target} (not recorded)")
            if events is not None:
                events.finished(result, "succeeded", output_path=str(target),
                                log_path=keep_output(result, tree), message="not recorded")
            return
    _failed(result, tree, problem, summary, say, events)
