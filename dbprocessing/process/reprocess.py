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
from typing import cast

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from ..db.models import File, FileCodeLink, InstrumentProductLink, ProcessQueue, Product
from ..db.queries import find_codes, find_instrument, find_product, newest_file_ids
from ..errors import UsageError


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
        session.execute(insert(cast(Table, ProcessQueue.__table__)),
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


def by_product(session: Session, products: list[str], start: datetime.date | None = None,
               end: datetime.date | None = None, bump: int | None = None) -> int:
    ids = [find_product(session, name).product_id for name in products]
    return queue_files(session, newest_file_ids(session, ids, start, end), bump)


def by_code(session: Session, code: str, start: datetime.date | None = None,
            end: datetime.date | None = None, bump: int | None = None) -> int:
    code_ids = [c.code_id for c in find_codes(session, code)]
    product_ids = set(session.scalars(
        select(File.product_id).distinct()
        .join(FileCodeLink, FileCodeLink.resulting_file == File.file_id)
        .where(FileCodeLink.source_code.in_(code_ids))))
    ids = newest_file_ids(session, product_ids, start, end, made_by=code_ids)
    return queue_files(session, ids, bump, remake=True)


def by_instrument(session: Session, instrument: str, level: float | None = None,
                  start: datetime.date | None = None, end: datetime.date | None = None,
                  bump: int | None = None) -> int:
    match = [find_instrument(session, instrument).instrument_id]
    query = select(Product.product_id).join(
        InstrumentProductLink, InstrumentProductLink.product_id == Product.product_id).where(
        InstrumentProductLink.instrument_id.in_(match))
    if level is not None:
        query = query.where(Product.level == level)
    return queue_files(session, newest_file_ids(session, session.scalars(query), start, end), bump)


def by_date(session: Session, start: datetime.date, end: datetime.date,
            level: float | None = None, bump: int | None = None) -> int:
    query = select(Product.product_id)
    if level is not None:
        query = query.where(Product.level == level)
    return queue_files(session, newest_file_ids(session, session.scalars(query), start, end), bump)
