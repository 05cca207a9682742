"""Ingest wired together: ``ingest_incoming`` (``ProcessQueue -i``).

Ingest takes the incoming files in batches.  For each batch:

1. identify every file (inspector plugins) and decide: ingest, or reject with
   a reason (rejects go to the error directory once the batch before is committed);
2. one transaction records the batch: file, unixtime and processqueue rows,
   plus an ``ingest_pending`` row per file promising its move;
3. the files are moved (symlinks: the link is removed);
4. the batch's promises are deleted in the next batch's transaction (the last
   batch's in one of its own): one commit, so one wait for the disk, per batch.

On PostgreSQL the server does step 2's work while this process would wait,
so step 2 runs in a thread of its own while this one moves the files of the
batch before (step 3) and identifies the next batch (step 1, which acts on no
file until step 2 of the batch before has committed); a batch's promises are
then deleted by the transaction after next.  On SQLite, whose work is this
process's own, the steps run one after the other.

A crash before 2 commits leaves the files untouched in incoming; a crash after
leaves promises that ``recover_pending`` (run first by every ingest) carries
out.  So every file is either untouched in incoming or fully recorded, moved
and queued: never a row without its file, a file without its row, a lost file
or a duplicate.  The caller holds the processing lock.

All of it is Core, on connections (``db.core``'s tables): a ``ProcessQueue
-i`` does not import the ORM, which would cost a small run more than its
files; a plugin asking ``self.dbu`` for a row does (``PluginDatabase``).
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select

from .. import faults
from ..db import core
from ..db.engine import for_writing, in_another_process
from ..DBlogging import log_lines
from ..errors import FormatError
from ..events import EventLog
from ..mission.substitution import name_values
from ..mission.tree import MissionTree
from ..progress import Progress
from . import BATCH_SIZE
from .archive import (
    ProductPaths,
    archive_directory,
    move_file,
    partial_name,
    reject_file,
    sha1_of,
    unmovable,
)
from .identify import Candidate, PluginDatabase, identify_file, load_products
from .incoming import incoming_status, list_incoming, shown_name
from .record import (
    PendingFile,
    clear_pending,
    file_row,
    identity_clashes,
    known_names,
    record_files,
)
from .summary import IngestSummary

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


@dataclass
class Recovery:
    """What ``recover_pending`` did: the moves finished, and those it could not
    carry out (each in words; their promises are kept for the next run)."""

    finished: int = 0
    stuck: list[str] = field(default_factory=list)
    kept: set[str] = field(default_factory=set)  # the source paths of those moves


def recover_pending(db: Connection | Session) -> Recovery:
    """Carry out the moves promised by committed rows of an interrupted run (and
    commit).  A move that fails (the product's directory cannot be made, say) is
    said and kept for the next run; the others go on."""
    pending = core.ingest_pending.c
    promises = db.execute(select(pending.file_id, pending.source_path, pending.target_path,
                                 pending.is_link)).all()
    done, stuck, kept = [], [], set()
    for promise in promises:
        try:
            _keep_promise(db, promise)
        except OSError as exc:
            stuck.append(unmovable(Path(promise.source_path).name, promise.target_path, exc))
            kept.add(promise.source_path)
            continue
        done.append(promise.file_id)
    clear_pending(db, done)
    db.commit()
    return Recovery(len(done), stuck, kept)


def _keep_promise(db: Connection | Session, promise: Any) -> None:
    """Carry out one promised move (see ``recover_pending``)."""
    source, target = Path(promise.source_path), Path(promise.target_path)
    if promise.is_link:
        if source.is_symlink():
            source.unlink()
    elif os.path.lexists(source):
        if target.exists():
            # A cross-filesystem move finished its copy but not its unlink, or
            # a relocation (changeProductDir) its link but not the unlink.
            shasum = db.scalar(select(core.file.c.shasum)
                               .where(core.file.c.file_id == promise.file_id))
            if os.path.samefile(source, target) or (
                    shasum is not None and shasum == sha1_of(target)):
                source.unlink()
            else:
                logger.error("both %s and %s exist and differ; leaving both for an "
                             "operator", source, target)
                return
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


def _target_for(candidate: Candidate, paths: ProductPaths, name: str, params: dict) -> Path:
    values = {**candidate.names, **name_values(
        candidate.name, candidate.names["MISSION"], params["utc_file_date"], params["version"],
        params.get("process_keywords"))}
    return paths.path(candidate.relative_path, name, values)


@dataclass(frozen=True)
class Held:
    """A file left in incoming for a later run, and why (no error: nothing moves)."""

    reason: str


def _plan_one(path: Path, paths: ProductPaths, candidates: list[Candidate],
              dbu: PluginDatabase) -> PendingFile | Held | str:
    """A PendingFile for *path*, a Held, or the reason to reject it."""
    name = path.name
    status = incoming_status(path)
    if isinstance(status, str):
        return status
    info, is_link = status
    found = identify_file(path, candidates, dbu)
    faults.checkpoint("identified")
    if found.candidate is None:
        if found.held:
            return Held(found.reason or "an inspector could not be loaded")
        return found.reason or "no product claims it"
    assert found.params is not None  # a claimed file has its inspector's params
    try:
        target = _target_for(found.candidate, paths, name, found.params)
    except FormatError as exc:
        return f"bad product path: {exc}"
    if is_link:
        if path.resolve() != target.resolve():
            return (f"symlink target {os.readlink(path)} is not where product "
                    f"{found.candidate.name} keeps it ({target})")
    elif os.path.lexists(target):
        return f"a file named {name} is already in {target.parent} (not in the database)"
    try:
        shasum = sha1_of(path)
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    row = file_row(name, found.params, found.candidate.product_id,
                   found.candidate.level, shasum, info.st_mtime)
    return PendingFile(source=path, target=target, is_link=is_link, row=row)


def ingest_incoming(engine: Engine, tree: MissionTree, *, pattern: str = "*",
                    dry_run: bool = False, batch_size: int = BATCH_SIZE,
                    events: EventLog | None = None,
                    say: Callable[[str], None] = lambda _line: None,
                    progress: Progress | None = None) -> IngestSummary:
    """Ingest every file waiting in incoming (the caller holds the lock unless dry_run).

    With *events*, every decision is logged: accepted files in the transaction
    that records them, rejected ones with the next commit after their move.
    *progress* counts the files waiting and each file as it is identified.
    """
    summary = IngestSummary(dry_run=dry_run)
    # Plugins and look-ups read through ``reader``, which never holds SQLite's
    # write lock (a slow plugin must not block other connections); each batch
    # is recorded through ``writer`` in short transactions.
    with engine.connect() as reader, for_writing(engine).connect() as writer:
        if not dry_run:
            recovery = recover_pending(writer)
            summary.recovered, summary.stuck = recovery.finished, recovery.stuck
            kept = recovery.kept
            for line in recovery.stuck:
                say(line)
        else:  # every file promised a move is recorded already
            kept = set(reader.scalars(select(core.ingest_pending.c.source_path)))
        run = _IngestRun(tree, load_products(reader, tree), PluginDatabase(reader), summary,
                         dry_run, say, events, progress or Progress(),
                         in_another_process(engine))
        # A recorded file whose move failed stays in incoming: not a new file.
        paths = [p for p in list_incoming(tree.incoming, pattern) if str(p) not in kept]
        logger.info("%d file(s) waiting in %s", len(paths), tree.incoming)
        run.progress.add(len(paths))
        try:
            for start in range(0, len(paths), batch_size):
                # On PostgreSQL while the batch before commits: no file is touched here.
                outcomes = run.identify_batch(reader, paths[start:start + batch_size])
                run.dbu.release()
                reader.commit()  # end the read snapshot before writing
                run.wait_batch()
                run.record_batch(writer, run.sort_out(outcomes))
                if not run.background:
                    run.wait_batch()
                run.move_batch()  # on PostgreSQL the batch before's, while this one commits
        finally:  # a batch committed or in flight: its files moved, as if recorded in line
            run.move_batch()
            run.wait_batch()
            run.move_batch()
        if run.moved or (events is not None and events.pending):
            run.clear_moved(writer)
            if events is not None:
                events.flush(writer)
            writer.commit()
    return summary


@dataclass
class _IngestRun:
    """One ingest run's plugins, paths and reporting, for its batches."""

    tree: MissionTree
    candidates: list[Candidate]
    dbu: PluginDatabase
    summary: IngestSummary
    dry_run: bool
    say: Callable[[str], None]
    events: EventLog | None
    progress: Progress
    background: bool  # record each batch in a thread of its own (see the module docstring)
    targets: ProductPaths = field(init=False)
    # Files moved whose promises are still to be deleted (with the next commit).
    moved: list[int] = field(default_factory=list)
    # The batch being recorded (wait_batch waits for its commit), and the batch
    # committed whose files are still to be moved (move_batch).
    recording: _Recording | None = None
    committed: _Recording | None = None
    directories: set[Path] = field(default_factory=set)  # archive directories in place

    def __post_init__(self) -> None:
        self.targets = ProductPaths(self.tree)

    def reject(self, path: Path, reason: str) -> None:
        name = shown_name(path.name)
        if self.dry_run:
            self.summary.rejected.append((name, reason))
            self.say(f"would reject {name}: {reason}")
            return
        where = reject_file(path, self.tree.errordir, reason)
        if where is None:  # the error directory cannot be made or written (logged)
            reason += f" (left in incoming: cannot move it into {self.tree.errordir})"
        self.summary.rejected.append((name, reason))
        if self.events is not None:
            self.events.rejected(name, reason)
        self.say(f"rejected {name}: {reason}"
                 + (f" -> {shown_name(str(where))}" if where else ""))

    def identify_batch(self, reader: Connection,
                       paths: list[Path]) -> list[tuple[Path, PendingFile | Held | str]]:
        """Identify a batch: each file with its PendingFile, or why to reject it.

        Acts on no file and writes nothing (``sort_out`` rejects), so that it
        can run while the batch before is being recorded.
        """
        texts = {p.name for p in paths if shown_name(p.name) == p.name}
        in_db = known_names(reader, sorted(texts))
        outcomes: list[tuple[Path, PendingFile | Held | str]] = []
        for path in paths:
            if path.name not in texts:
                outcome: PendingFile | Held | str = ("the file name is not UTF-8 (the database "
                                              "holds names as text): rename it")
            elif path.name in in_db:
                outcome = "already in the database"
            else:
                outcome = _plan_one(path, self.targets, self.candidates, self.dbu)
            outcomes.append((path, outcome))
            self.progress.advance()  # identifying (the plugins) is the slow part of ingest
        return outcomes

    def sort_out(self, outcomes: list[tuple[Path, PendingFile | Held | str]]
                 ) -> list[PendingFile]:
        """Reject the files that cannot be ingested, hold those that wait; return the
        rest."""
        planned: list[PendingFile] = []
        for path, outcome in outcomes:
            if isinstance(outcome, PendingFile) and not outcome.is_link:
                outcome = archive_directory(outcome.target.parent, self.directories,
                                            self.dry_run) or outcome
            if isinstance(outcome, Held):
                name = shown_name(path.name)
                self.summary.held.append((name, outcome.reason))
                logger.warning("%s stays in incoming: %s", name, outcome.reason)
                self.say(f"{'would hold' if self.dry_run else 'held'} {name}: "
                         f"{outcome.reason}")
            elif isinstance(outcome, str):
                self.reject(path, outcome)
            else:
                planned.append(outcome)
        return planned

    def clear_moved(self, writer: Connection) -> None:
        """Delete the promises of the files moved so far (the caller commits)."""
        clear_pending(writer, self.moved)
        self.moved = []

    def record_batch(self, writer: Connection, planned: list[PendingFile]) -> None:
        """Start recording one batch (crash-safe; see the module docstring):
        ``wait_batch`` waits for its commit, then ``move_batch`` moves its files."""
        if not planned:
            return
        clashes = identity_clashes(writer, planned)
        accepted: list[PendingFile] = []
        for item in planned:
            holder = clashes.get(item.identity)
            if holder is not None:
                self.reject(item.source, f"same product, date and version as {holder}")
                continue
            clashes[item.identity] = item.row["filename"]  # a later twin is rejected
            accepted.append(item)
        if self.dry_run:
            writer.rollback()
            for item in accepted:
                self.summary.ingested.append(item.source.name)
                self.say(f"would ingest {item.source.name} -> {item.target}")
            return
        moved, self.moved = self.moved, []

        def write() -> dict[str, int]:
            # The writer connection and the event log are this function's alone until
            # wait_batch has waited for it.
            clear_pending(writer, moved)  # files moved before, in this transaction
            if not accepted:
                writer.commit()
                return {}
            ids = record_files(writer, accepted)
            if self.events is not None:
                for item in accepted:
                    self.events.accepted(item.row["filename"], item.row["product_id"],
                                         ids[item.row["filename"]])
                self.events.flush(writer)
            writer.commit()
            return ids

        self.recording = _Recording(write, accepted, self.background)

    def wait_batch(self) -> None:
        """Wait for the batch being recorded to commit (raising its error if it failed)."""
        recording, self.recording = self.recording, None
        if recording is None:
            return
        recording.wait()
        if recording.accepted:
            faults.checkpoint("recorded")
            self.committed = recording

    def move_batch(self) -> None:
        """Move the files of the batch committed last (their promises are deleted
        by a later transaction)."""
        committed, self.committed = self.committed, None
        if committed is None:
            return
        ids = committed.wait()
        lines: list[str] = []  # the log's line per file, written once per batch
        for item in committed.accepted:
            try:
                if item.is_link:
                    item.source.unlink()
                else:
                    move_file(item.source, item.target)
            except OSError as exc:
                # The row is committed with its promise: the next run retries the move.
                line = unmovable(item.source.name, item.target, exc)
                self.summary.stuck.append(line)
                self.say(line)
                continue
            faults.checkpoint("moved")
            self.moved.append(ids[item.row["filename"]])
            name = item.row["filename"]  # the source's name
            self.summary.ingested.append(name)
            lines.append(f"ingested {name} -> {item.target}")
        log_lines(logger, logging.INFO, lines)
        faults.checkpoint("batch_done")


class _Recording:
    """A batch's transaction (*write*, returning name -> file_id): run at once, or in
    a thread of its own (*background*) until ``wait``."""

    def __init__(self, write: Callable[[], dict[str, int]], accepted: list[PendingFile],
                 background: bool) -> None:
        self.accepted = accepted
        self._ids: dict[str, int] = {}
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if not background:
            self._ids = write()
            return

        def run() -> None:
            try:
                self._ids = write()
            except BaseException as exc:  # raised again in the caller's thread by wait()
                self._error = exc

        self._thread = threading.Thread(target=run, name="dbprocessing-ingest-commit",
                                        daemon=True)
        self._thread.start()

    def wait(self) -> dict[str, int]:
        """The batch's file ids once it is committed; its error if it failed."""
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error
        return self._ids
