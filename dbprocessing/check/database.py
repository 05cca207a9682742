"""Check the database against itself: flags, provenance, versions, queue, lock.

``check_database(session, ...)`` reports:

* ``newest_flag``: among the rows of one code (same process and filename) or
  one inspector (same product and filename), ``newest_version`` is not true
  on exactly the highest version.  Files have no such flag (the original
  dropped ``file.newest_version`` in 2014; a file's newest version is
  computed), so only codes and inspectors are checked;
* ``stale_provenance``: the newest file of a product and date was made from a
  parent that is no longer the newest of its own product and date, and the
  newer parent is not queued (a queued one is a rebuild already on its way);
* ``version_overflow``: a version component outside what the ``smallint``
  columns hold (0..32767; interface >= 1).  SQLite stores such values,
  PostgreSQL refuses them: a database that cannot move between backends;
* ``dangling_queue``: a ``processqueue`` entry whose file row is gone (only
  possible where foreign keys were not enforced, as in older SQLite files);
* ``dead_lock``: the processing lock held by a process of this host that is
  gone (a holder on another host cannot be checked from here).

Reads only.
"""
from __future__ import annotations

import datetime
import socket
from collections import defaultdict
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarResult, Select, or_, select
from sqlalchemy.orm import Session

from ..db.models import (
    Code,
    File,
    FileFileLink,
    Inspector,
    Logging,
    Process,
    ProcessQueue,
    Product,
)
from ..db.queries import Versioned
from ..lock import Holder, pid_alive
from .findings import (
    DANGLING_QUEUE,
    DEAD_LOCK,
    NEWEST_FLAG,
    STALE_PROVENANCE,
    VERSION_OVERFLOW,
    Finding,
    in_range,
)

SMALLINT_MAX = 32767


def check_database(session: Session, start: datetime.date | None = None,
                   end: datetime.date | None = None) -> list[Finding]:
    """Every in-database finding (file-dated ones limited to [start, end])."""
    return (newest_flags(session) + stale_provenance(session, start, end)
            + version_overflows(session, start, end) + dangling_queue(session)
            + dead_locks(session))


def _version(row: Versioned) -> tuple[int, int, int]:
    return (row.interface_version, row.quality_version, row.revision_version)


def _text(version: tuple[int, int, int]) -> str:
    return ".".join(str(v) for v in version)


def newest_flags(session: Session) -> list[Finding]:
    findings = []
    owners = {p.process_id: p.process_name for p in session.scalars(select(Process))}
    products = {p.product_id: p.product_name for p in session.scalars(select(Product))}
    kinds: tuple[tuple[type[Code] | type[Inspector], str, str, dict[int, str], str], ...] = (
        (Code, "code_id", "process_id", owners, "process"),
        (Inspector, "inspector_id", "product", products, "product"))
    for model, key, owner_attr, names, label in kinds:
        groups: dict[tuple[int, str], list[Code | Inspector]] = defaultdict(list)
        # select() of a union of classes is typed as their base; the rows are *model*'s.
        found = cast("ScalarResult[Code | Inspector]", session.scalars(select(model)))
        for row in found:
            groups[(getattr(row, owner_attr), row.filename)].append(row)
        table = model.__tablename__
        for (owner, filename), rows in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1])):
            best = max(rows, key=lambda r: (_version(r), getattr(r, key)))
            flagged = sorted(getattr(r, key) for r in rows if r.newest_version)
            best_id = getattr(best, key)
            if flagged == [best_id]:
                continue
            shown = ", ".join(f"{_text(_version(r))} ({key} {getattr(r, key)})" for r in rows
                              if r.newest_version) or "none"
            findings.append(Finding(
                NEWEST_FLAG, f"{table} {filename} of {label} {names.get(owner, owner)}: newest "
                f"version is {_text(_version(best))} ({key} {best_id}), flagged newest: "
                f"{shown}", f"set newest_version true on {key} {best_id} only",
                {"table": table, "filename": filename, label: names.get(owner, owner),
                 "newest_id": best_id, "flagged_ids": flagged,
                 "ids": sorted(getattr(r, key) for r in rows)}))
    return findings


def stale_provenance(session: Session, start: datetime.date | None = None,
                     end: datetime.date | None = None) -> list[Finding]:
    rows = {r.file_id: r for r in session.execute(
        select(File.file_id, File.filename, File.product_id, File.utc_file_date,
               File.interface_version, File.quality_version, File.revision_version))}
    best: dict[tuple, int] = {}
    for r in rows.values():
        key = (r.product_id, r.utc_file_date)
        if key not in best or (_version(r), r.file_id) > (_version(rows[best[key]]),
                                                         best[key]):
            best[key] = r.file_id
    newest = set(best.values())
    queued = set(session.scalars(select(ProcessQueue.file_id)))
    products = {p.product_id: p.product_name for p in session.scalars(select(Product))}
    findings = []
    for source, result in session.execute(
            select(FileFileLink.source_file, FileFileLink.resulting_file)
            .order_by(FileFileLink.resulting_file, FileFileLink.source_file)):
        child, parent = rows.get(result), rows.get(source)
        if child is None or parent is None or result not in newest or source in newest:
            continue
        if not in_range(child.utc_file_date, start, end):
            continue
        newer = rows[best[(parent.product_id, parent.utc_file_date)]]
        if newer.file_id in queued:
            continue
        findings.append(Finding(
            STALE_PROVENANCE, f"{child.filename} (file_id {child.file_id}) was made from "
            f"{parent.filename} v{_text(_version(parent))}; the newest is {newer.filename} "
            f"v{_text(_version(newer))}",
            f"queue {newer.filename} (file_id {newer.file_id}) so that ProcessQueue -p "
            f"rebuilds {child.filename}",
            {"file_id": child.file_id, "filename": child.filename,
             "parent_id": parent.file_id, "parent": parent.filename,
             "newest_parent_id": newer.file_id, "newest_parent": newer.filename},
            child.utc_file_date, products.get(child.product_id)))
    return findings


def _overflowing(model: type[File] | type[Code] | type[Inspector]) -> Select[Any]:
    columns = [model.interface_version, model.quality_version, model.revision_version]
    conditions: list[ColumnElement[bool]] = [model.interface_version < 1]
    conditions += [c < 0 for c in columns[1:]]
    conditions += [c > SMALLINT_MAX for c in columns]
    if model is Code:
        conditions += [Code.output_interface_version < 0,
                       Code.output_interface_version > SMALLINT_MAX]
    return select(model).where(or_(*conditions))


def version_overflows(session: Session, start: datetime.date | None = None,
                      end: datetime.date | None = None) -> list[Finding]:
    findings = []
    advice = ("version components are smallint (0..32767, interface >= 1): correct the "
              "row by hand, or purge it and make the file again")
    for model, key in ((File, "file_id"), (Code, "code_id"), (Inspector, "inspector_id")):
        for row in session.scalars(_overflowing(model).order_by(getattr(model, key))):
            date = getattr(row, "utc_file_date", None)
            if model is File and not in_range(date, start, end):
                continue
            version = _text(_version(row))
            if model is Code:
                version += f", output interface {row.output_interface_version}"
            findings.append(Finding(
                VERSION_OVERFLOW, f"{model.__tablename__} {row.filename} ({key} "
                f"{getattr(row, key)}) has version {version}", None,
                {"table": model.__tablename__, "id": getattr(row, key),
                 "filename": row.filename, "version": version, "advice": advice}, date))
    return findings


def dangling_queue(session: Session) -> list[Finding]:
    ids = session.scalars(select(ProcessQueue.file_id)
                          .outerjoin(File, File.file_id == ProcessQueue.file_id)
                          .where(File.file_id.is_(None)).order_by(ProcessQueue.file_id))
    return [Finding(DANGLING_QUEUE, f"processqueue entry for file_id {i}, which has no file row",
                    "delete the queue entry", {"file_id": i}) for i in ids]


def dead_locks(session: Session) -> list[Finding]:
    host = socket.gethostname()[:100]
    findings = []
    for row in session.execute(
            select(Logging.logging_id, Logging.pid, Logging.hostname, Logging.user,
                   Logging.processing_start_time)
            .where(Logging.currently_processing.is_(True))):
        holder = Holder(*row)
        if holder.hostname != host or pid_alive(holder.pid, holder.start):
            continue
        findings.append(Finding(
            DEAD_LOCK, f"the processing lock (logging_id {holder.logging_id}) is held by "
            f"{holder.describe()}, which is no longer running",
            "release the lock (currently_processing false, with a comment)",
            {"logging_id": holder.logging_id, "pid": holder.pid,
             "hostname": holder.hostname}))
    return findings
