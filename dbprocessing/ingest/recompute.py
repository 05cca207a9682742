"""Recompute what a file row derives from elsewhere (updateSHAsum, updateUnixTime).

* ``update_shasums``: ``file.shasum`` from the file on disk (SHA-1), for files
  named by filename or id;
* ``update_unixtimes``: every ``unixtime`` row from its file's
  ``utc_start_time`` and ``utc_stop_time`` (rows missing are added).

Both work on a session the caller commits; everything is checked before
anything is changed.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..db.models import File, Product, UnixTime
from ..db.queries import find_file
from ..errors import EXIT_SOME_FAILED, DBProcessingError
from ..mission.tree import MissionTree
from .archive import ProductPaths, sha1_of
from .record import epoch


class FileNotOnDisk(DBProcessingError):
    """A file the database knows is not where it should be; nothing changed."""

    exit_code = EXIT_SOME_FAILED


@dataclass(frozen=True)
class ShaChange:
    filename: str
    path: Path
    old: str | None
    new: str

    @property
    def changed(self) -> bool:
        return self.old != self.new


def update_shasums(session: Session, tree: MissionTree, refs: Sequence[str]) -> list[ShaChange]:
    """Set ``shasum`` of each file in *refs* from its file on disk (the caller commits).

    UsageError (exit 2) names a file not in the database, FileNotOnDisk (exit 1)
    one whose file is missing; either way nothing is changed.
    """
    paths = ProductPaths(tree)
    found: list[tuple[File, Path]] = []
    for ref in dict.fromkeys(refs):
        f = find_file(session, ref)
        product = session.get(Product, f.product_id)
        assert product is not None  # a file's product exists (foreign key)
        found.append((f, paths.of_file(product, f)))
    missing = [f"{f.filename} (at {p})" for f, p in found if not os.path.isfile(p)]
    if missing:
        raise FileNotOnDisk("not on disk: " + ", ".join(missing) + "; nothing changed")
    changes = []
    for f, path in found:
        change = ShaChange(f.filename, path, f.shasum, sha1_of(path))
        f.shasum = change.new
        changes.append(change)
    session.flush()
    return changes


@dataclass(frozen=True)
class UnixTimeSummary:
    files: int      # file rows checked
    corrected: int  # unixtime rows whose values changed
    added: int      # unixtime rows that were missing

    def text(self) -> str:
        return (f"checked the unixtime rows of {self.files} file(s): corrected "
                f"{self.corrected}, added {self.added}")


def update_unixtimes(session: Session) -> UnixTimeSummary:
    """Recompute every ``unixtime`` row from the file table (the caller commits)."""
    rows = session.execute(
        select(File.file_id, File.utc_start_time, File.utc_stop_time,
               UnixTime.file_id.label("has_row"), UnixTime.unix_start, UnixTime.unix_stop)
        .outerjoin(UnixTime, UnixTime.file_id == File.file_id).order_by(File.file_id))
    corrected: list[dict] = []
    added: list[dict] = []
    count = 0
    for row in rows:
        count += 1
        start, stop = epoch(row.utc_start_time), epoch(row.utc_stop_time)
        if row.has_row is None:
            added.append({"file_id": row.file_id, "unix_start": start, "unix_stop": stop})
        elif (row.unix_start, row.unix_stop) != (start, stop):
            corrected.append({"id": row.file_id, "start": start, "stop": stop})
    if corrected:
        table = cast(Table, UnixTime.__table__)
        session.execute(update(table).where(table.c.file_id == bindparam("id"))
                        .values(unix_start=bindparam("start"), unix_stop=bindparam("stop")),
                        corrected)
    if added:
        session.execute(insert(cast(Table, UnixTime.__table__)), added)
    return UnixTimeSummary(count, len(corrected), len(added))
