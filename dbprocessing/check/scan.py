"""``find_all``: the checks asked for, disk first, as one list of findings.

Takes the session, the mission tree and ``findings.CheckOptions`` (dates,
kinds, newest only); gives a ``CheckResult``: the findings of the kinds
asked for and the paths compared with the disk.
"""
from __future__ import annotations

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
    NEWEST_FLAG,
    SHASUM_MISMATCH,
    STALE_PROVENANCE,
    STRAY_FILE,
    VERSION_OVERFLOW,
    CheckOptions,
    Finding,
)


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
