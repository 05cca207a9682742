"""Repair what ``check`` found: one transaction per repair, each recorded, no file deleted.

``fix_findings(engine, tree, db_name, prog, argv, scan, dead_locks)`` first releases locks held
by dead processes, then takes the processing lock (so no ProcessQueue run
changes the database while it works), scans again under the lock with
*scan*, and applies each finding's repair in a transaction of its own that
also records it in the event log (``events.record_repair``).  Each repair
checks again that what was found is still so (a file may have come back, a
lock may have been released): a repair that no longer applies is reported
as not made.  ``version_overflow`` has no automatic repair.

A stray file is moved into the mission's error directory under a unique
name (``archive.reject_file``) before its record is committed: a crash in
between leaves the file in the error directory and no record, never a record
of a move that did not happen.  Nothing on disk is ever deleted.
"""
from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, select, update
from sqlalchemy.orm import Session

from .. import faults
from ..db.engine import for_writing
from ..db.models import Code, File, Inspector, Logging, ProcessQueue
from ..events import EventLog, record_repair
from ..ingest.archive import reject_file, sha1_of
from ..ingest.incoming import shown_name
from ..lock import pid_alive, processing_lock, utcnow
from ..mission.tree import MissionTree
from .findings import (
    DANGLING_QUEUE,
    DEAD_LOCK,
    EXISTS_FLAG,
    MISSING_FILE,
    NEWEST_FLAG,
    SHASUM_MISMATCH,
    STALE_PROVENANCE,
    STRAY_FILE,
    Finding,
)

logger = logging.getLogger(__name__)


class NotRepaired(Exception):
    """The finding no longer holds, or its repair cannot be made; why."""


@dataclass(frozen=True)
class Outcome:
    finding: Finding
    done: bool
    note: str  # what was done, or why not

    def describe(self) -> str:
        verb = "fixed" if self.done else "NOT fixed"
        return f"{verb} {self.finding.kind}: {self.finding.subject}: {self.note}"

    def as_dict(self) -> dict:
        return {**self.finding.as_dict(), "fixed": self.done, "note": self.note}


def _set_exists(session: Session, finding: Finding, tree: MissionTree, value: bool) -> str:
    present = Path(finding.objects["path"]).is_file()
    if present != value:
        raise NotRepaired("the file is back on disk" if present else "the file is gone again")
    changed = cast("CursorResult[Any]", session.execute(update(File).where(
        File.file_id == finding.objects["file_id"], File.exists_on_disk.is_(not value))
        .values(exists_on_disk=value))).rowcount
    if not changed:
        raise NotRepaired("the row changed since the check")
    return f"exists_on_disk set {str(value).lower()}"


def _shasum(session: Session, finding: Finding, tree: MissionTree) -> str:
    objects = finding.objects
    actual = sha1_of(Path(objects["path"]))
    if actual != objects["on_disk"]:
        raise NotRepaired("the file changed again since the check; check again")
    changed = cast("CursorResult[Any]", session.execute(update(File).where(
        File.file_id == objects["file_id"], File.shasum == objects["recorded"])
        .values(shasum=actual))).rowcount
    if not changed:
        raise NotRepaired("the recorded SHA-1 changed since the check")
    return f"shasum {objects['recorded']} -> {actual}"


def _stray(session: Session, finding: Finding, tree: MissionTree) -> str:
    path = Path(finding.objects["path"])
    if not (path.exists() or path.is_symlink()):
        raise NotRepaired("the file is gone since the check")
    # A name that is not UTF-8 cannot be in the database (nor be asked about).
    if shown_name(path.name) == path.name and session.scalar(
            select(File.file_id).where(File.filename == path.name)) is not None:
        raise NotRepaired("a file row of that name exists now")
    target = reject_file(path, tree.errordir, "stray file: no file row knows it")
    if target is None:
        raise NotRepaired(f"could not move it to {tree.errordir} (see the log)")
    faults.checkpoint("check_stray_moved")
    return f"moved {shown_name(str(path))} to {shown_name(str(target))}"


def _newest_flag(session: Session, finding: Finding, tree: MissionTree) -> str:
    objects = finding.objects
    model = Code if objects["table"] == "code" else Inspector
    key = Code.code_id if model is Code else Inspector.inspector_id
    ids, best = objects["ids"], objects["newest_id"]
    session.execute(update(model).where(key.in_(ids), key != best)
                    .values(newest_version=False))
    if not cast("CursorResult[Any]", session.execute(update(model).where(key == best)
                                                   .values(newest_version=True))).rowcount:
        raise NotRepaired("the newest row is gone since the check")
    return f"newest_version true on {key.key} {best} only (of {len(ids)} rows)"


def _stale(session: Session, finding: Finding, tree: MissionTree) -> str:
    newer = finding.objects["newest_parent_id"]
    if session.get(File, newer) is None:
        raise NotRepaired("the newest parent is gone since the check")
    if session.get(ProcessQueue, newer) is not None:
        return f"{finding.objects['newest_parent']} was already queued"
    session.add(ProcessQueue(file_id=newer, version_bump=None))
    return f"queued {finding.objects['newest_parent']} (file_id {newer})"


def _dangling(session: Session, finding: Finding, tree: MissionTree) -> str:
    file_id = finding.objects["file_id"]
    if session.get(File, file_id) is not None:
        raise NotRepaired("a file row of that id exists now")
    session.execute(delete(ProcessQueue).where(ProcessQueue.file_id == file_id))
    return "queue entry deleted"


def _dead_lock(session: Session, finding: Finding, tree: MissionTree) -> str:
    row = session.get(Logging, finding.objects["logging_id"])
    if row is None or not row.currently_processing:
        raise NotRepaired("the lock was released since the check")
    if row.hostname != socket.gethostname()[:100] or pid_alive(row.pid,
                                                               row.processing_start_time):
        raise NotRepaired("its holder is alive")
    row.currently_processing = False
    row.processing_end_time = utcnow()
    row.comment = f"released by check --fix: holder pid {row.pid} on {row.hostname} was dead"
    return "lock released"


REPAIRS: dict[str, Callable[[Session, Finding, MissionTree], str]] = {
    MISSING_FILE: lambda s, f, t: _set_exists(s, f, t, False),
    EXISTS_FLAG: lambda s, f, t: _set_exists(s, f, t, True),
    SHASUM_MISMATCH: _shasum,
    STRAY_FILE: _stray,
    NEWEST_FLAG: _newest_flag,
    STALE_PROVENANCE: _stale,
    DANGLING_QUEUE: _dangling,
    DEAD_LOCK: _dead_lock,
}


def repair_one(engine: Engine, tree: MissionTree, finding: Finding,
               logging_id: int | None) -> Outcome:
    """Apply one finding's repair and record it, in one transaction."""
    repair = REPAIRS.get(finding.kind)
    if repair is None or finding.repair is None:
        return Outcome(finding, False, "no automatic repair; "
                       + finding.objects.get("advice", "see docs/commands.md"))
    with Session(for_writing(engine)) as session:
        try:
            note = repair(session, finding, tree)
        except (NotRepaired, OSError) as exc:
            session.rollback()
            return Outcome(finding, False, str(exc))
        if finding.kind == DEAD_LOCK:
            logging_id = finding.objects["logging_id"]
        record_repair(session, finding.kind, f"{finding.subject}: {note}", logging_id)
        session.commit()
    faults.checkpoint("check_repaired")
    logger.info("check --fix %s: %s: %s", finding.kind, finding.subject, note)
    return Outcome(finding, True, note)


def fix_findings(engine: Engine, tree: MissionTree, db_name: str, prog: str,
                 argv: Sequence[str],
                 scan: Callable[[Session], list[Finding]],
                 dead_locks: Callable[[Session], list[Finding]]) -> list[Outcome]:
    """Release dead locks, then under the lock scan again and repair each finding."""
    with Session(engine) as session:
        stale_locks = dead_locks(session)
    outcomes = [repair_one(engine, tree, f, None) for f in stale_locks]
    with processing_lock(engine, tree.mission_id, db_name) as held:
        EventLog.begin(engine, prog, list(argv), held.logging_id)
        with Session(engine) as session:
            findings = [f for f in scan(session) if f.kind != DEAD_LOCK]
        outcomes += [repair_one(engine, tree, f, held.logging_id) for f in findings]
        done = sum(o.done for o in outcomes)
        held.comment = f"Nominal Exit; {prog} repaired {done} of {len(outcomes)}"
    return outcomes
