"""``check``: every inconsistency between the database and the disk, and inside the database.

``find_all(session, tree, options)`` returns the findings (``findings.py``)
of the disk checks (``disk.py``) and the database checks (``database.py``),
limited to the kinds asked for; ``repair.fix_findings`` repairs them, one
recorded transaction each, never deleting a file.  The original's
``dbOnlyFiles``, ``scrubber`` and ``possibleProblemDates`` are views: the
same findings filtered by kind (``findings.VIEWS``).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..mission.tree import MissionTree
from .database import (
    dangling_queue,
    dead_locks,
    newest_flags,
    stale_provenance,
    version_overflows,
)
from .disk import check_disk
from .findings import (
    DANGLING_QUEUE,
    DEAD_LOCK,
    DISK_KINDS,
    KINDS,
    NEWEST_FLAG,
    SHASUM_MISMATCH,
    STALE_PROVENANCE,
    STRAY_FILE,
    VERSION_OVERFLOW,
    Finding,
)


@dataclass(frozen=True)
class CheckOptions:
    start: datetime.date | None = None
    end: datetime.date | None = None
    kinds: tuple[str, ...] = KINDS
    newest_only: bool = False   # dbOnlyFiles -n: only the newest version of each file


@dataclass
class CheckResult:
    findings: list[Finding]
    checked: list[str]  # paths of the file rows compared with the disk


def find_all(session: Session, tree: MissionTree, options: CheckOptions) -> CheckResult:
    """The findings of the kinds in *options*, disk first, in a stable order."""
    kinds = set(options.kinds)
    findings: list[Finding] = []
    checked: list[str] = []
    if kinds & set(DISK_KINDS):
        report = check_disk(session, tree, options.start, options.end,
                            checksums=SHASUM_MISMATCH in kinds,
                            newest_only=options.newest_only, strays=STRAY_FILE in kinds)
        findings += report.findings
        checked = report.checked
    if NEWEST_FLAG in kinds:
        findings += newest_flags(session)
    if STALE_PROVENANCE in kinds:
        findings += stale_provenance(session, options.start, options.end)
    if VERSION_OVERFLOW in kinds:
        findings += version_overflows(session, options.start, options.end)
    if DANGLING_QUEUE in kinds:
        findings += dangling_queue(session)
    if DEAD_LOCK in kinds:
        findings += dead_locks(session)
    return CheckResult([f for f in findings if f.kind in kinds], checked)
