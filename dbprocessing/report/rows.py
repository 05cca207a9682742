"""Files as the status report reads them: plain rows, each read once a call.

Status reads some 100,000 files of a whole archive, as plain rows of
``COLUMNS`` (no ORM object per file), indexed by position in the loops over
them (an attribute of a Row costs several times as much).  It reads a
product's files several times over one call: by date, as the files of an
ingested product or the outputs of a process, and again as the candidate
inputs of the product's children (by date, or for a DAILY child by the
unixtime of their data); and the queue's plans read the candidates of a
process again.  ``FileRows`` reads each product's files once per kind of
query and answers a query over a span within the span already read from
the rows in hand, by the very condition of the query (in SQL's three-valued
logic), so that the answer is the rows the query would have given; and the
files of a DAILY process's inputs are read by date with their unixtime, so
that when every file of such a product is in hand its candidates come from
them too.  The rows come in the order of the read that gave them: the
queries have no ORDER BY, so no order was promised before either (it
matters only when two files hold the same newest version of one (product,
date), and then only to which of them counts).
"""
from __future__ import annotations

import datetime
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from ..db.models import File, UnixTime

# Columns of a file that status and the proof read, as a plain row.
COLUMNS = (File.file_id, File.product_id, File.utc_file_date, File.utc_start_time,
           File.utc_stop_time, File.interface_version, File.quality_version,
           File.revision_version, File.process_keywords, File.filename, File.shasum)
# Their positions.
ID, PRODUCT, DATE, START, STOP, KEYWORDS, FILENAME, SHASUM = 0, 1, 2, 3, 4, 8, 9, 10
VERSION = slice(5, 8)
# A row of the unixtime query has the file's unix_start and unix_stop after COLUMNS.
UNIX_START, UNIX_STOP = 11, 12
if TYPE_CHECKING:
    from typing_extensions import Unpack

    FileRow = Row[Unpack[tuple[Any, ...]]]  # a row of COLUMNS: what status shows of a file


def newest_rows(rows: list[FileRow]) -> tuple[dict[Any, FileRow], set[Any]]:
    """The newest row of each (product, date) (the first of equal versions, as
    ``newest_files``), and the keys whose newest version is held by two rows."""
    best: dict[Any, FileRow] = {}
    tied: set[Any] = set()
    for r in rows:
        key = (r[PRODUCT], r[DATE])
        old = best.get(key)
        if old is None:
            best[key] = r
            continue
        mine, theirs = r[VERSION], old[VERSION]
        if mine > theirs:
            best[key] = r
            tied.discard(key)
        elif mine == theirs:
            tied.add(key)
    return best, tied


class FileRows:
    """Each product's files, read once a call by date and once by unixtime.

    The files of a product some DAILY process takes (*timed*) are read by date
    with their unixtime (an outer join): once the rows in hand hold every file
    of such a product (its whole span of dates, and no file without a date),
    the unixtime query is answered from them too."""

    def __init__(self, session: Session, timed: Collection[int] = ()) -> None:
        self.session = session
        self.timed_products = set(timed)
        # product id -> the span read and its rows (in the order the query gave them)
        self._dated: dict[int, tuple[datetime.date, datetime.date, list[FileRow]]] = {}
        self._timed: dict[int, tuple[int, int, list[FileRow]]] = {}
        self._extents: dict[int, tuple[datetime.date, datetime.date, int]] | None = None

    def extents(self) -> dict[int, tuple[datetime.date, datetime.date, int]]:
        """Every product's first and last file date and how many of its files have
        none, in one query over the date index (products with dated files only)."""
        if self._extents is None:
            self._extents = {
                product_id: (first, last, undated) for product_id, first, last, undated in
                self.session.execute(select(
                    File.product_id, func.min(File.utc_file_date), func.max(File.utc_file_date),
                    func.count() - func.count(File.utc_file_date)).group_by(File.product_id))
                if first is not None and last is not None}
        return self._extents

    def dated(self, product_ids: Sequence[int], first: datetime.date,
              last: datetime.date) -> list[FileRow]:
        """The files of *product_ids* with ``first <= utc_file_date <= last``, product
        after product; those not in hand read in one query a kind (with or without
        unixtime)."""
        found = {p: self._dated_in_hand(p, first, last) for p in product_ids}  # each once
        for timed in (True, False):
            wanted = [p for p, rows in found.items()
                      if rows is None and (p in self.timed_products) == timed]
            if not wanted:
                continue
            query = select(*COLUMNS)
            if timed:
                query = query.add_columns(UnixTime.unix_start, UnixTime.unix_stop).outerjoin(
                    UnixTime, UnixTime.file_id == File.file_id)
            read = self._by_product(wanted, query.where(
                File.product_id.in_(wanted), File.utc_file_date >= first,
                File.utc_file_date <= last))
            for p in wanted:
                found[p] = read[p]
                self._dated[p] = (first, last, read[p])
        return [r for p in found for r in found[p] or ()]

    def _by_product(self, product_ids: list[int], query: Select) -> dict[int, list[FileRow]]:
        """The rows of *query* by product (each in the order the query gave them)."""
        read: dict[int, list[FileRow]] = {p: [] for p in product_ids}
        for r in self.session.connection().execute(query).all():
            read[r[PRODUCT]].append(r)
        return read

    def _dated_in_hand(self, product_id: int, first: datetime.date,
                       last: datetime.date) -> list[FileRow] | None:
        held = self._dated.get(product_id)
        if held is None or not (held[0] <= first and last <= held[1]):
            return None
        if held[0] == first and held[1] == last:
            return held[2]
        return [r for r in held[2] if first <= r[DATE] <= last]

    def _every_file(self, product_id: int) -> list[FileRow] | None:
        """The rows in hand by date, with their unixtime, if they are every file of
        *product_id*."""
        held = self._dated.get(product_id)
        if held is None or product_id not in self.timed_products:
            return None
        extent = self.extents().get(product_id)
        if extent is None or extent[2] or not (held[0] <= extent[0] and extent[1] <= held[1]):
            return None
        return held[2]

    def timed(self, product_ids: Sequence[int], start: int, stop: int) -> list[FileRow]:
        """The files of *product_ids* whose unixtime meets [start, stop) (``unix_start
        < stop and (unix_stop > start or unix_start >= start)``: a DAILY process's
        candidates), with their unix_start and unix_stop after ``COLUMNS``, product
        after product; those not in hand read in one query."""
        found = {p: self._timed_in_hand(p, start, stop) for p in product_ids}
        wanted = [p for p, rows in found.items() if rows is None]
        if wanted:
            read = self._by_product(wanted, select(
                *COLUMNS, UnixTime.unix_start, UnixTime.unix_stop)
                .join(UnixTime, UnixTime.file_id == File.file_id)
                .where(File.product_id.in_(wanted), UnixTime.unix_start < stop,
                       (UnixTime.unix_stop > start) | (UnixTime.unix_start >= start)))
            for p in wanted:
                found[p] = read[p]
                self._timed[p] = (start, stop, read[p])
        return [r for p in found for r in found[p] or ()]

    def _timed_in_hand(self, product_id: int, start: int, stop: int) -> list[FileRow] | None:
        held = self._timed.get(product_id)
        if held is not None and held[0] <= start and stop <= held[1]:
            if held[0] == start and held[1] == stop:
                return held[2]
            wider = held[2]
        else:
            every = self._every_file(product_id)  # a file with no unixtime: None
            if every is None:
                return None
            wider = every
        rows = [r for r in wider if r[UNIX_START] is not None and r[UNIX_START] < stop and (
            (r[UNIX_STOP] is not None and r[UNIX_STOP] > start) or r[UNIX_START] >= start)]
        if held is None or not (held[0] <= start and stop <= held[1]):
            self._timed[product_id] = (start, stop, rows)  # else the wider span's stay
        return rows
