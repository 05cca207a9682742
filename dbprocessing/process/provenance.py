"""Record a finished run: its output with provenance, or its failure (spec section 8, step 6).

``OutputRecorder.prepare`` has the product's inspector confirm an output;
``record`` then writes, in one transaction for the outputs of runs that
finished close together (within ``pipeline.HOLD``, 0.2 s), each file row, its unixtime row, a
``filefilelink`` row per input, the ``filecodelink`` row,
``verbose_provenance`` (the command line), the queue entry and the promise
of the output's move; then moves each file into its product directory by an
atomic rename.  The promises are cleared by a later transaction (as for
ingest, a crash at any point is completed by the next run; a crash before
the commit leaves the runs to be planned again).  The rows are those ingest
writes (``ingest.record``), inserted by Core statements built once, on the
session's connection: through the ORM session they cost more than twice
the CPU of the inserts themselves.

``record_failure`` writes a ``.prob`` file (the command line, then the
captured output) and any partial output into an error directory; nothing is
recorded in the database.
"""
from __future__ import annotations

import logging
import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, insert
from sqlalchemy.orm import Session

from .. import faults
from ..db.models import File, FileCodeLink, FileFileLink, IngestPending, ProcessQueue, UnixTime
from ..events import EventLog
from ..ingest.archive import (
    archive_directory,
    move_file,
    sha1_of,
    unique_path,
    unmovable,
)
from ..ingest.identify import Candidate, PluginDatabase, inspect_file
from ..ingest.record import epoch, file_row
from ..mission.tree import MissionTree
from .runner import RunResult, discard

logger = logging.getLogger(__name__)


def command_line(result: RunResult) -> str:
    return " ".join(shlex.quote(part) for part in result.command)


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


class _Statements:
    """The statements of recording an output, built once per recorder."""

    def __init__(self) -> None:
        file, pending = _table(File), _table(IngestPending)
        # (file_id, filename): several rows' ids are matched by name, so the rows go
        # in one statement (an ordered RETURNING would cost one per row on SQLite).
        self.file = insert(file).returning(file.c.file_id, file.c.filename)
        self.unixtime = insert(_table(UnixTime))
        self.queue = insert(_table(ProcessQueue))
        self.promise = insert(pending)
        self.inputs = insert(_table(FileFileLink))
        self.code = insert(_table(FileCodeLink))
        self.settle = delete(pending).where(
            pending.c.file_id.in_(bindparam("ids", expanding=True)))


SETTLE_EVERY = 64  # promises of done moves cleared together, by a later output's transaction


@dataclass(frozen=True)
class Output:
    """A successful run's output, confirmed by its inspector, about to be recorded."""

    result: RunResult
    row: dict[str, Any]  # its file row (ingest.record.file_row)
    target: Path         # where it goes in the archive

    @property
    def source(self) -> Path:
        assert self.result.output_path is not None  # an Output has a file
        return self.result.output_path


class OutputRecorder:
    """Records outputs, those of runs that finished close together in one transaction.

    ``prepare`` checks one output (its inspector, its place in the archive);
    ``record`` writes a list of them and commits.  The promises of outputs'
    moves are cleared together by a later transaction, once ``SETTLE_EVERY``
    moves are done, or by ``settle`` (the end of a wave), so an output costs
    no commit and no ``DELETE`` of its own: a crash in between leaves
    promises whose moves are done, which recovery just clears.
    """

    def __init__(self, writer: Session, dbu: PluginDatabase, events: EventLog | None = None,
                 tree: MissionTree | None = None) -> None:
        self.writer = writer
        self.dbu = dbu
        self.events = events  # EventLog or None
        self.tree = tree      # where captured output is kept (with events)
        self.settled: list[int] = []
        self.directories: set[Path] = set()  # archive directories made (archive_directory)
        self.sql = _Statements()

    def prepare(self, result: RunResult, candidate: Candidate) -> Output | str:
        """A successful run's output ready to record, or why it cannot be."""
        plan = result.plan
        path = result.output_path
        # Only a run that made an output is recorded: it has a path, a directory and a name.
        assert path is not None and plan.output_dir is not None and plan.output_name is not None
        problems: list[str] = []
        params = inspect_file(candidate, path, self.dbu, problems)
        if params is None:
            return (f"the output is not recognised by the inspector of {candidate.name}"
                    + (f": {'; '.join(problems)}" if problems else ""))
        params["version"] = plan.output_version  # the name carries the planned version
        params["verbose_provenance"] = command_line(result)
        if plan.keywords and not params.get("process_keywords"):
            params["process_keywords"] = plan.keywords
        target = plan.output_dir / plan.output_name
        if target.exists() or target.is_symlink():
            return f"{target} already exists (not in the database?); refusing to overwrite it"
        problem = archive_directory(target.parent, self.directories)
        if problem is not None:
            return problem
        row = file_row(plan.output_name, params, candidate.product_id, candidate.level,
                       sha1_of(path), path.stat().st_mtime)
        return Output(result, row, target)

    def record(self, outputs: Sequence[Output]) -> list[str]:
        """Record *outputs* in one transaction (with whatever the caller added to it),
        commit, then archive each.  Return a line for each that could not be moved
        (recorded all the same: its promise is kept for the next run)."""
        stuck: list[str] = []
        conn = self.writer.connection()
        file_ids = self._insert(conn, outputs)
        if self.events is not None:
            for output, file_id in zip(outputs, file_ids, strict=True):
                self.events.finished(output.result, "succeeded", file_id=file_id,
                                     output_path=str(output.target),
                                     log_path=keep_output(output.result, self.tree))
            self.events.flush(conn)
        if len(self.settled) >= SETTLE_EVERY:
            self._clear_promises(conn)
        self.writer.commit()
        for output, file_id in zip(outputs, file_ids, strict=True):
            faults.checkpoint("output_recorded")
            try:
                move_file(output.source, output.target)
            except OSError as exc:
                stuck.append(unmovable(output.target.name, output.target, exc))
                continue
            self.settled.append(file_id)
            plan = output.result.plan
            logger.info("made %s (version %s) by %s", plan.output_name, plan.output_version,
                        plan.code_path.name)
        return stuck

    def _insert(self, conn: Connection, outputs: Sequence[Output]) -> list[int]:
        """The outputs' rows, as ``ingest.record.record_files`` writes a file's, and their
        links; their file_ids."""
        sql = self.sql
        if len(outputs) == 1:
            file_ids = [conn.execute(sql.file, outputs[0].row).one()[0]]
        else:
            by_name = dict((name, file_id) for file_id, name in
                           conn.execute(sql.file, [o.row for o in outputs]))
            file_ids = [by_name[o.row["filename"]] for o in outputs]
        pairs = list(zip(outputs, file_ids, strict=True))
        conn.execute(sql.unixtime, [
            {"file_id": file_id, "unix_start": epoch(o.row["utc_start_time"]),
             "unix_stop": epoch(o.row["utc_stop_time"])} for o, file_id in pairs])
        conn.execute(sql.queue, [{"file_id": file_id, "version_bump": None}
                                 for _, file_id in pairs])
        conn.execute(sql.promise, [
            {"file_id": file_id, "source_path": str(o.source), "target_path": str(o.target),
             "is_link": False} for o, file_id in pairs])
        links = [{"source_file": s, "resulting_file": file_id} for o, file_id in pairs
                 for s in sorted({i.file_id for i in o.result.plan.inputs})]
        if links:
            conn.execute(sql.inputs, links)
        conn.execute(sql.code, [{"resulting_file": file_id, "source_code": o.result.plan.code_id}
                                for o, file_id in pairs])
        return file_ids

    def _clear_promises(self, conn: Connection) -> None:
        if self.settled:
            conn.execute(self.sql.settle, {"ids": self.settled})
            self.settled = []

    def settle(self) -> None:
        """Clear the promises of moves already done, add the buffered events; commit."""
        if self.settled or (self.events is not None and self.events.pending):
            conn = self.writer.connection()
            self._clear_promises(conn)
            if self.events is not None:
                self.events.flush(conn)
        self.writer.commit()


def record_failure(result: RunResult, errordir: Path, reason: str) -> Path | str:
    """Write the .prob file and keep any partial output in *errordir* (the
    mission's error directory, or DBRunner's output directory without -i);
    return the .prob path, or, when it cannot be written there, why (the .prob's
    text then goes to the log instead)."""
    plan = result.plan
    stem = plan.output_name or f"{plan.process_name}_{plan.date:%Y%m%d}"
    text = f"{command_line(result)}\n# {reason}\n{result.output}"
    try:
        errordir.mkdir(parents=True, exist_ok=True)
        prob = unique_path(errordir, f"{stem}.prob")
        prob.write_text(text, encoding="utf-8")
    except OSError as exc:
        why = f"no .prob: cannot write in {errordir}: {exc.strerror or exc}; see the log"
        logger.error("%s %s failed: %s; %s; its .prob would have said:\n%s",
                     plan.process_name, plan.date, reason, why, text)
        return why
    if result.output_path is not None and os.path.lexists(result.output_path):
        try:
            move_file(result.output_path, unique_path(errordir, result.output_path.name))
        except OSError as exc:  # left in its work directory, cleared by a later run
            logger.error("could not keep the partial output %s in %s: %s",
                         result.output_path, errordir, exc.strerror or exc)
    logger.error("%s %s failed: %s; see %s", plan.process_name, plan.date, reason, prob)
    return prob


RUNLOGS = ".runlogs"


def keep_output(result: RunResult, tree: MissionTree | None) -> str | None:
    """Keep a successful run's captured output (when it printed anything) under
    ``rootdir/.runlogs/<day>/``; return its path for the event log."""
    if tree is None or not result.output.strip():
        return None
    plan = result.plan
    stem = plan.output_name or f"{plan.process_name}_{plan.date:%Y%m%d}"
    directory = tree.rootdir / RUNLOGS / f"{result.started_at:%Y-%m-%d}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path = unique_path(directory, f"{stem}.log")
        path.write_text(f"{command_line(result)}\n{result.output}", encoding="utf-8")
    except OSError as exc:  # the run succeeded all the same: its output is recorded
        logger.warning("could not keep the output %s printed in %s: %s; it printed:\n%s",
                       plan.output_name or stem, directory, exc.strerror or exc,
                       result.output)
        return None
    return str(path)


def discard_workdir(result: RunResult) -> None:
    discard(result.workdir)
