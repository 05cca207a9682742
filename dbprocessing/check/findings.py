"""What ``check`` finds: one ``Finding`` per inconsistency, and the kinds there are.

A finding names its kind, the objects it is about (ids, names, paths: the
``objects`` mapping, JSON-ready), the date it concerns when it has one, and
the repair ``check --fix`` would make (None when no repair is safe: the
finding is reported and left for a person).  The views of the original
(``dbOnlyFiles``, ``scrubber``, ``possibleProblemDates``) are filters of the
same findings by kind (``VIEWS``).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

# Between the database and the disk.
MISSING_FILE = "missing_file"        # exists_on_disk true, the file is gone
EXISTS_FLAG = "exists_flag"          # exists_on_disk false, the file is there
SHASUM_MISMATCH = "shasum_mismatch"  # the file's SHA-1 is not the recorded one
STRAY_FILE = "stray_file"            # a file in a product directory that no row knows
# Inside the database.
NEWEST_FLAG = "newest_flag"          # code/inspector newest_version disagrees with versions
STALE_PROVENANCE = "stale_provenance"  # a newest file made from a parent not newest
VERSION_OVERFLOW = "version_overflow"  # a version component outside 0..32767 (smallint)
DANGLING_QUEUE = "dangling_queue"    # a processqueue entry whose file row is gone
DEAD_LOCK = "dead_lock"              # the processing lock held by a dead process

DISK_KINDS = (MISSING_FILE, EXISTS_FLAG, SHASUM_MISMATCH, STRAY_FILE)
DATABASE_KINDS = (NEWEST_FLAG, STALE_PROVENANCE, VERSION_OVERFLOW, DANGLING_QUEUE, DEAD_LOCK)
KINDS = DISK_KINDS + DATABASE_KINDS

#: The original's commands as filters of check's findings.
VIEWS: dict[str, tuple[str, ...]] = {
    "dbOnlyFiles": (MISSING_FILE,),
    "scrubber": DATABASE_KINDS,
    "possibleProblemDates": (STALE_PROVENANCE, VERSION_OVERFLOW),
}


@dataclass(frozen=True)
class Finding:
    kind: str
    subject: str                 # one line naming the objects
    repair: str | None           # what --fix does; None: --fix leaves it to a person
    objects: dict[str, Any] = field(default_factory=dict)
    date: datetime.date | None = None
    product: str | None = None

    def describe(self) -> str:
        repair = self.repair or "no automatic repair: " + self.objects.get("advice", "see docs")
        return f"{self.kind}: {self.subject}; fix: {repair}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "repair": self.repair,
                "date": self.date.isoformat() if self.date else None,
                "product": self.product, "objects": self.objects}


def in_range(date: datetime.date | None, start: datetime.date | None,
             end: datetime.date | None) -> bool:
    """Is *date* within [start, end]?  A finding without a date is always in range."""
    if date is None:
        return True
    return (start is None or date >= start) and (end is None or date <= end)


@dataclass(frozen=True)
class CheckOptions:
    start: datetime.date | None = None
    end: datetime.date | None = None
    kinds: tuple[str, ...] = KINDS
    newest_only: bool = False   # dbOnlyFiles -n: only the newest version of each file
