"""The process queue as operators see it: listing (printProcessQueue) and flushing
(flushProcessQueue).

``queued_files`` reads the queue joined to its files and products, in queue
order (file_id) or sorted by product name, date and filename, optionally only
for some products.  ``queue_text`` and ``queue_html`` render it (one header
line or row, then one per file); ``write_atomically`` writes a rendering to a
file through a temporary file and a rename, so a reader never sees half a
listing.

``flush_queue`` empties the queue under the processing lock: a running
ProcessQueue reads the queue at the start of each wave and deletes the
entries it consumed only after their work, so flushing under it would lose
that work; with the lock held by a live run it refuses (LockHeld, exit 3).
"""
from __future__ import annotations

import datetime
import html
import logging
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, delete, func, select
from sqlalchemy.orm import Session

from ..db.engine import for_writing
from ..db.models import File, ProcessQueue, Product, Retry
from ..db.queries import find_product
from ..lock import processing_lock
from ..mission.tree import load_mission
from ..Version import Version

logger = logging.getLogger(__name__)

HEADER = ("file_id", "filename", "product", "utc_file_date", "version", "version_bump")


@dataclass(frozen=True)
class QueuedFile:
    file_id: int
    filename: str
    product: str
    date: datetime.date | None
    version: Version
    version_bump: int | None

    def cells(self) -> tuple[str, ...]:
        return (str(self.file_id), self.filename, self.product,
                self.date.isoformat() if self.date else "-", str(self.version),
                "-" if self.version_bump is None else str(self.version_bump))


def queued_files(session: Session, products: list[str] | None = None,
                 sort: bool = False) -> list[QueuedFile]:
    """The queued files, in queue order (file_id) or, with *sort*, by product
    name, date and filename; only those of *products* (names or ids) if given.
    An unknown product is a UsageError naming the known ones."""
    query = (select(File.file_id, File.filename, Product.product_name, File.utc_file_date,
                    File.interface_version, File.quality_version, File.revision_version,
                    ProcessQueue.version_bump)
             .join(File, File.file_id == ProcessQueue.file_id)
             .join(Product, Product.product_id == File.product_id)
             .order_by(ProcessQueue.file_id))
    if products:
        ids = {find_product(session, ref).product_id for ref in products}
        query = query.where(File.product_id.in_(ids))
    rows = [QueuedFile(r[0], r[1], r[2], r[3], Version(r[4], r[5], r[6]), r[7])
            for r in session.execute(query)]
    if sort:
        # Dateless files (utc_file_date is nullable) after the dated ones.
        rows.sort(key=lambda q: (q.product, q.date is None, q.date or datetime.date.min,
                                 q.filename))
    return rows


def queue_text(files: list[QueuedFile]) -> str:
    """A header line and one line per file, in aligned columns."""
    table = [HEADER] + [f.cells() for f in files]
    widths = [max(len(row[i]) for row in table) for i in range(len(HEADER))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in table]
    return "\n".join(lines) + "\n"


def queue_html(files: list[QueuedFile]) -> str:
    """An HTML table (a fragment to embed in a page): a header row, one row per file."""
    esc = html.escape
    lines = ['<table class="processqueue">',
             "<thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in HEADER) + "</tr></thead>",
             "<tbody>"]
    lines += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in f.cells()) + "</tr>"
              for f in files]
    lines += ["</tbody>", "</table>"]
    return "\n".join(lines) + "\n"


def flush_queue(engine: Engine, db_name: str) -> tuple[int, int]:
    """Remove every processqueue row, under the processing lock; return how many,
    and how many failed targets stay scheduled for retry (``retry`` rows, which
    the flush leaves: the next ProcessQueue -p retries those that are due).

    Raises LockHeld (exit 3) while a live run holds the lock; nothing is removed.
    """
    with Session(engine) as session:
        tree = load_mission(session)
    with processing_lock(engine, tree.mission_id, db_name) as lock:
        with Session(for_writing(engine)) as session:
            count = cast("CursorResult[Any]", session.execute(delete(ProcessQueue))).rowcount
            retries = session.scalar(select(func.count()).select_from(Retry)) or 0
            session.commit()
        lock.comment = f"Nominal Exit; flushProcessQueue removed {count} queue entr" \
                          f"{'y' if count == 1 else 'ies'}"
    logger.info("flushed the process queue: %d file(s) removed from it", count)
    return count, retries
