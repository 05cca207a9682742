"""Reprocess: put files back on the queue so the next ``ProcessQueue -p`` reconsiders
their children, optionally with a forced version bump (0 interface, 1 quality,
2 revision).

Only the newest version of each (product, date) is queued.  A file already
queued keeps its entry; a forced bump is merged into it (the larger bump
wins), never lost.  The selections:

* ``by_code``: the files the code made (its ``filecodelink`` rows), queued to be
  remade themselves: the next ``-p`` remakes each with its process's active
  code (a new version when the code changed, or with the forced bump), and
  their children follow from the new versions;
* ``by_product``: the products named;
* ``by_instrument``: the instrument's products (optionally of one level);
* ``by_date``: every product (optionally of one level).

Each takes an optional [start, end] date range (inclusive).
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..db.models import (
    Code,
    File,
    FileCodeLink,
    Instrument,
    InstrumentProductLink,
    ProcessQueue,
    Product,
)
from ..errors import UsageError


def newest_file_ids(session: Session, product_ids: Iterable[int], start: datetime.date | None,
                    end: datetime.date | None, *, made_by: Iterable[int] | None = None
                    ) -> list[int]:
    """Ids of the newest file of each (product, date) of *product_ids* in [start, end];
    with *made_by* (code ids), only the newest files that one of those codes made."""
    ids = list(product_ids)
    if not ids:
        return []
    query = select(File.file_id, File.product_id, File.utc_file_date, File.interface_version,
                   File.quality_version, File.revision_version).where(File.product_id.in_(ids))
    if start is not None:
        query = query.where(File.utc_file_date >= start)
    if end is not None:
        query = query.where(File.utc_file_date <= end)
    best: dict[tuple, tuple] = {}
    for row in session.execute(query):
        key = (row.product_id, row.utc_file_date)
        version = (row.interface_version, row.quality_version, row.revision_version)
        if key not in best or version > best[key][0]:
            best[key] = (version, row.file_id)
    newest = sorted(file_id for _, file_id in best.values())
    if made_by is None or not newest:
        return newest
    made = set(session.scalars(select(FileCodeLink.resulting_file).where(
        FileCodeLink.source_code.in_(list(made_by)))))
    return [file_id for file_id in newest if file_id in made]


def queue_files(session: Session, file_ids: list[int], bump: int | None, *,
                remake: bool = False) -> int:
    """Queue *file_ids* (merging *bump*, and *remake*, into existing entries);
    return how many."""
    if bump not in (None, 0, 1, 2):
        raise UsageError(f"--force must be 0, 1 or 2, not {bump}")
    if not file_ids:
        return 0
    queued = dict(session.execute(select(ProcessQueue.file_id, ProcessQueue.version_bump)
                                  .where(ProcessQueue.file_id.in_(file_ids))).all())
    new = [f for f in file_ids if f not in queued]
    if new:
        session.execute(insert(ProcessQueue.__table__),
                        [{"file_id": f, "version_bump": bump, "remake": remake} for f in new])
    if remake and queued:
        session.execute(update(ProcessQueue).where(ProcessQueue.file_id.in_(list(queued)))
                        .values(remake=True))
    if bump is not None:
        raise_ids = [f for f, old in queued.items() if old is None or bump < old]
        if raise_ids:
            session.execute(update(ProcessQueue).where(ProcessQueue.file_id.in_(raise_ids))
                            .values(version_bump=bump))
    return len(file_ids)


def _product_ids_by_names(session: Session, names: Iterable[str]) -> list[int]:
    rows = {p.product_name: p.product_id for p in session.scalars(select(Product))}
    ids = []
    for name in names:
        if name in rows:
            ids.append(rows[name])
        elif name.isdigit() and int(name) in rows.values():
            ids.append(int(name))
        else:
            raise UsageError(f"no product {name!r}")
    return ids


def by_product(session: Session, products: list[str], start=None, end=None,
               bump=None) -> int:
    ids = _product_ids_by_names(session, products)
    return queue_files(session, newest_file_ids(session, ids, start, end), bump)


def by_code(session: Session, code: str, start=None, end=None, bump=None) -> int:
    rows = session.scalars(select(Code)).all()
    match = [c for c in rows if c.filename == code or (code.isdigit() and c.code_id == int(code))]
    if not match:
        raise UsageError(f"no code {code!r} (give its id or filename)")
    code_ids = [c.code_id for c in match]
    product_ids = set(session.scalars(
        select(File.product_id).distinct()
        .join(FileCodeLink, FileCodeLink.resulting_file == File.file_id)
        .where(FileCodeLink.source_code.in_(code_ids))))
    ids = newest_file_ids(session, product_ids, start, end, made_by=code_ids)
    return queue_files(session, ids, bump, remake=True)


def by_instrument(session: Session, instrument: str, level: float | None = None,
                  start=None, end=None, bump=None) -> int:
    rows = session.scalars(select(Instrument)).all()
    match = [i.instrument_id for i in rows if i.instrument_name == instrument
             or (instrument.isdigit() and i.instrument_id == int(instrument))]
    if not match:
        raise UsageError(f"no instrument {instrument!r}")
    query = select(Product.product_id).join(
        InstrumentProductLink, InstrumentProductLink.product_id == Product.product_id).where(
        InstrumentProductLink.instrument_id.in_(match))
    if level is not None:
        query = query.where(Product.level == level)
    return queue_files(session, newest_file_ids(session, session.scalars(query), start, end), bump)


def by_date(session: Session, start, end, level: float | None = None, bump=None) -> int:
    query = select(Product.product_id)
    if level is not None:
        query = query.where(Product.level == level)
    return queue_files(session, newest_file_ids(session, session.scalars(query), start, end), bump)
