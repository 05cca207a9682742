"""Questions many stages ask of the database, each answered in one place.

* ``version_of(row)``: the Version of a file, code or inspector row (defined in
  ``core``, where Core callers take it without the models);
* ``newest_files(files)`` and ``newest_file_ids(session, ...)``: the newest
  version of each (product, date), among rows in hand or straight from the
  file table;
* ``find_product``, ``find_process``, ``find_codes``, ``find_instrument``,
  ``find_file``: a row by its name or id, or one UsageError naming what was
  asked for (and, for the small tables, what is known).

Functions take a session and never commit.
"""
from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..errors import UsageError
from .core import Versioned, file_row, version_of  # noqa: F401 (re-exported)
from .models import Code, File, FileCodeLink, Instrument, Process, Product


def newest_files(files: Iterable[File]) -> dict[tuple[int, datetime.date | None], File]:
    """The newest version of each (product, date) among *files*."""
    best: dict[tuple[int, datetime.date | None], File] = {}
    for f in files:
        key = (f.product_id, f.utc_file_date)
        if key not in best or version_of(f) > version_of(best[key]):
            best[key] = f
    return best


def newest_file_ids(session: Session, product_ids: Iterable[int],
                    start: datetime.date | None = None, end: datetime.date | None = None,
                    *, made_by: Iterable[int] | None = None) -> list[int]:
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
    best: dict[tuple[int, datetime.date], tuple[tuple[int, int, int], int]] = {}
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
    return [i for i in newest if i in made]


Row = TypeVar("Row")


def _find_all(session: Session, model: type[Row], ref: str, kind: str,
              name: InstrumentedAttribute[Any], key: InstrumentedAttribute[Any],
              ) -> list[Row]:
    """Rows of *model* whose *name* is *ref*, or whose id is *ref* when it is a number;
    an error listing the known names when there is none."""
    condition = name == ref
    if ref.isdigit():
        condition = condition | (key == int(ref))
    rows = list(session.scalars(select(model).where(condition)))
    if not rows:
        known = sorted(session.scalars(select(name)))
        listed = ", ".join(known[:30]) + (f" and {len(known) - 30} more"
                                          if len(known) > 30 else "")
        raise UsageError(f"no {kind} {ref!r} (known: {listed or 'none'})")
    return rows


def find_product(session: Session, ref: str) -> Product:
    """A product by name or id."""
    return _find_all(session, Product, ref, "product", Product.product_name,
                     Product.product_id)[0]


def find_process(session: Session, ref: str) -> Process:
    """A process by name or id."""
    return _find_all(session, Process, ref, "process", Process.process_name,
                     Process.process_id)[0]


def find_instrument(session: Session, ref: str) -> Instrument:
    """An instrument by name or id."""
    return _find_all(session, Instrument, ref, "instrument", Instrument.instrument_name,
                     Instrument.instrument_id)[0]


def find_codes(session: Session, ref: str) -> list[Code]:
    """Every code row with this filename (one per version), or the one with this id."""
    return _find_all(session, Code, ref, "code", Code.filename, Code.code_id)


def find_file(session: Session, ref: str) -> File:
    """A file by its filename (a path's directory is ignored) or its id."""
    return session.get_one(File, file_row(session, ref).file_id)
