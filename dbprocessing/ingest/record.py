"""Record: file rows, their unixtime rows, queue entries and promised moves, set-based.

``file_row`` turns an inspector's params into the values of a ``file`` row.
``known_names`` and ``identity_clashes`` look a whole batch up in one query
each.  ``record_files`` inserts a batch of file rows with their ``unixtime``,
``processqueue`` and ``ingest_pending`` rows in five statements (``COPY``
on PostgreSQL, the file ids taken from the sequence first; see
``db.engine.insert_rows`` and ``insert_rows_ids``).  The look-ups by a
batch's names, dates and ids are ``= ANY(array)`` on PostgreSQL
(``db.engine.one_of``).  All of it is Core (``db.core``'s tables), on a
Connection or a Session: ingest never imports the ORM.  The caller owns the
transaction.
"""
from __future__ import annotations

import calendar
import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, select

from ..db import core
from ..db.engine import insert_rows, insert_rows_ids, one_of

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

_OPTIONAL = ("verbose_provenance", "check_date", "quality_comment", "caveats",
             "met_start_time", "met_stop_time", "quality_checked", "process_keywords")


@dataclass
class PendingFile:
    """A file about to be recorded: its row values and where it goes."""

    source: Path                # in incoming
    target: Path                # in its product directory
    is_link: bool
    row: dict[str, Any]

    @property
    def identity(self) -> tuple:
        r = self.row
        return (r["product_id"], r["utc_file_date"], r["interface_version"],
                r["quality_version"], r["revision_version"])


def file_row(name: str, params: dict[str, Any], product_id: int, level: float,
             shasum: str, mtime: float) -> dict[str, Any]:
    version = params["version"]
    row = {
        "filename": name, "product_id": product_id, "data_level": level,
        "utc_file_date": params["utc_file_date"], "utc_start_time": params["utc_start_time"],
        "utc_stop_time": params["utc_stop_time"], "interface_version": version.interface,
        "quality_version": version.quality, "revision_version": version.revision,
        "file_create_date": datetime.datetime.fromtimestamp(
            mtime, datetime.timezone.utc).replace(tzinfo=None),
        "exists_on_disk": True, "shasum": shasum,
    }
    for key in _OPTIONAL:
        row[key] = params.get(key)
    return row


def epoch(value: datetime.datetime | None) -> int | None:
    return None if value is None else calendar.timegm(value.timetuple())


def known_names(db: Connection | Session, names: Sequence[str]) -> set[str]:
    if not names:
        return set()
    filename = core.file.c.filename
    return set(db.scalars(select(filename).where(one_of(db, filename, names))))


def identity_clashes(db: Connection | Session, pending: Iterable[PendingFile]) -> dict[tuple, str]:
    """Identities of *pending* already taken in the database -> the file holding each."""
    keys = {p.identity for p in pending}
    if not keys:
        return {}
    # Two IN lists over the (product_id, utc_file_date) index: a superset of the
    # pairs, filtered below.  (A row-value IN is a full scan on SQLite.)
    f = core.file.c
    rows = db.execute(
        select(f.product_id, f.utc_file_date, f.interface_version, f.quality_version,
               f.revision_version, f.filename)
        .where(one_of(db, f.product_id, {k[0] for k in keys}),
               one_of(db, f.utc_file_date, {k[1] for k in keys})))
    return {tuple(r[:5]): r[5] for r in rows if tuple(r[:5]) in keys}


def record_files(db: Connection | Session, pending: Sequence[PendingFile]) -> dict[str, int]:
    """Insert the batch's rows (file, unixtime, queue, promised move); name -> file_id."""
    if not pending:
        return {}
    # A plain bulk insert (COPY on PostgreSQL, with ids from the sequence) costs
    # less than a multi-row INSERT ... RETURNING.
    ids = dict(zip([p.row["filename"] for p in pending], insert_rows_ids(
        db, core.file, [p.row for p in pending], "filename", "file_id"), strict=True))
    insert_rows(db, core.unixtime, [
        {"file_id": ids[p.row["filename"]], "unix_start": epoch(p.row["utc_start_time"]),
         "unix_stop": epoch(p.row["utc_stop_time"])} for p in pending])
    insert_rows(db, core.processqueue, [
        {"file_id": ids[p.row["filename"]], "version_bump": None} for p in pending])
    insert_rows(db, core.ingest_pending, [
        {"file_id": ids[p.row["filename"]], "source_path": str(p.source),
         "target_path": str(p.target), "is_link": p.is_link} for p in pending])
    return ids


def clear_pending(db: Connection | Session, file_ids: Iterable[int]) -> None:
    ids = list(file_ids)
    if ids:
        pending = core.ingest_pending
        db.execute(delete(pending).where(one_of(db, pending.c.file_id, ids)))
