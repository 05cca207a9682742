"""Removing files' records from the database (purgeFileFromDB, deleteAllDBFiles).

``purge_files`` removes the rows of the named files (by ``file.filename``, or
by file id when the argument is all digits and no file has that name) and of
everything that refers to them, in one transaction under the processing lock.
With ``recursive`` it also removes every file made from them, at any depth
(``filefilelink`` downwards).  The files on disk are left alone, as the
original does: this edits the database only.  ``remove_file_records(session,
ids)`` is the same removal inside a caller's transaction and lock (fast_data
uses it after it has moved or deleted the files).

What refers to a file, and what happens to it (``FILE_REFERENCES``; a test
checks the list against the models, so a new table cannot be forgotten):

=================================  ==========================================
``unixtime.file_id``               deleted
``filefilelink`` both columns      deleted (links from and to the file)
``filecodelink.resulting_file``    deleted
``processqueue.file_id``           deleted
``logging_file.file_id``           deleted (NOT NULL, a foreign key)
``ingest_pending.file_id``         deleted: the promised move is cancelled;
                                   the file stays where it is (in incoming,
                                   the next ingest takes it as new)
``release.file_id``                refused: a released file is never purged
``job_event.file_id``              kept, file_id set NULL
``ingest_event.file_id``           kept, file_id set NULL
=================================  ==========================================

The event log is history: its rows stay (the job keeps its ``output_name``,
the event its ``output_path``, the ingest decision its ``filename``).  Only
the file id is cleared, because SQLite gives the next new file the id of a
deleted newest one: a kept id would one day name another file.

``purge_all_files`` (deleteAllDBFiles) removes every file's rows the same
way; ``plan_purge_all`` says what it would remove, for its dry run.

Everything is checked before anything is deleted: a name not in the
database, or a released file among those to remove, refuses the whole purge
(PurgeRefused, exit 1) and nothing changes.
"""
from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Delete, Engine, Update, delete, func, select, update
from sqlalchemy.orm import Session

from .db.engine import for_writing
from .db.models import (
    Base,
    File,
    FileCodeLink,
    FileFileLink,
    IngestEvent,
    IngestPending,
    JobEvent,
    LoggingFile,
    ProcessQueue,
    Product,
    Release,
    UnixTime,
)
from .db.queries import version_of
from .errors import EXIT_SOME_FAILED, DBProcessingError
from .ingest.archive import ProductPaths
from .lock import processing_lock
from .mission.tree import MissionTree, load_mission
from .Version import Version

logger = logging.getLogger(__name__)

#: Every column that holds a file id, and what a purge does with its rows:
#: "delete" the row, "null" the column (history kept), "refuse" the purge.
FILE_REFERENCES: tuple[tuple[type[Base], str, str], ...] = (
    (UnixTime, "file_id", "delete"),
    (FileFileLink, "source_file", "delete"),
    (FileFileLink, "resulting_file", "delete"),
    (FileCodeLink, "resulting_file", "delete"),
    (ProcessQueue, "file_id", "delete"),
    (LoggingFile, "file_id", "delete"),
    (IngestPending, "file_id", "delete"),
    (Release, "file_id", "refuse"),
    (JobEvent, "file_id", "null"),
    (IngestEvent, "file_id", "null"),
)

_CHUNK = 1000          # ids per IN (...): well under both backends' parameter limits
_MAX_ID = 2**31 - 1    # file_id is a 32-bit integer


class PurgeRefused(DBProcessingError):
    """A purge that cannot be done as asked (unknown name, released file); nothing changed."""

    exit_code = EXIT_SOME_FAILED


@dataclass(frozen=True)
class PurgedFile:
    file_id: int
    filename: str
    product: str
    date: datetime.date | None
    version: Version
    path: Path | None            # where the file is on disk (left alone); None if unknown
    made_from: str | None = None  # with -r: the purged file it was made from
    pending_move: str | None = None  # an interrupted ingest's move, cancelled

    def describe(self) -> str:
        date = self.date.isoformat() if self.date else "no date"
        return f"{self.filename} (file_id {self.file_id}, {self.product} {date} v{self.version})"


@dataclass
class PurgeResult:
    files: list[PurgedFile]
    #: rows deleted (or, for the event log, file ids cleared) per table
    rows: dict[str, int] = field(default_factory=dict)
    #: files not purged that were made from a purged one (they lose that link)
    kept_children: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    ids: list[int]
    made_from: dict[int, int]  # descendant id -> the purged id it was reached from


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start:start + _CHUNK]


def _resolve(session: Session, refs: Sequence[str]) -> list[int]:
    """File ids of *refs*, in order, without repeats; PurgeRefused names the unknown."""
    names = list(dict.fromkeys(refs))
    by_name: dict[str, int] = {}
    for part in [names[i:i + _CHUNK] for i in range(0, len(names), _CHUNK)]:
        by_name.update({n: i for n, i in session.execute(
            select(File.filename, File.file_id).where(File.filename.in_(part)))})
    wanted_ids = {int(r) for r in names if r not in by_name and r.isascii() and r.isdigit()
                  and 0 < int(r) <= _MAX_ID}
    known_ids: set[int] = set()
    for id_part in _chunks(wanted_ids):
        known_ids.update(session.scalars(select(File.file_id).where(File.file_id.in_(id_part))))
    ids: list[int] = []
    unknown: list[str] = []
    for ref in names:
        if ref in by_name:
            ids.append(by_name[ref])
        elif ref.isascii() and ref.isdigit() and int(ref) in known_ids:
            ids.append(int(ref))
        else:
            unknown.append(ref)
    if unknown:
        listed = ", ".join(repr(u) for u in unknown[:10])
        if len(unknown) > 10:
            listed += f" and {len(unknown) - 10} more"
        raise PurgeRefused(f"no file {listed} in the database (give file.filename, without "
                           f"a directory, or a file id); nothing removed")
    return list(dict.fromkeys(ids))


def _descendants(session: Session, ids: list[int]) -> dict[int, int]:
    """Every file made from *ids*, at any depth: descendant -> the file it came from."""
    seen, made_from = set(ids), {}
    frontier = set(ids)
    while frontier:
        found = set()
        for part in _chunks(frontier):
            for source, result in session.execute(
                    select(FileFileLink.source_file, FileFileLink.resulting_file)
                    .where(FileFileLink.source_file.in_(part))
                    .order_by(FileFileLink.source_file, FileFileLink.resulting_file)):
                if result not in seen:
                    seen.add(result)
                    made_from[result] = source
                    found.add(result)
        frontier = found
    return made_from


def _plan(session: Session, refs: Sequence[str], recursive: bool) -> _Plan:
    """What a purge would remove, or PurgeRefused; reads only."""
    named = _resolve(session, refs)
    made_from = _descendants(session, named) if recursive else {}
    ids = named + sorted(made_from)
    _refuse_released(session, ids, made_from)
    return _Plan(ids, made_from)


def _refuse_released(session: Session, ids: list[int], made_from: dict[int, int]) -> None:
    """PurgeRefused naming every released file among *ids*; reads only."""
    released: dict[int, list[str]] = {}
    for part in _chunks(ids):
        for file_id, number in session.execute(
                select(Release.file_id, Release.release_num).where(Release.file_id.in_(part))
                .order_by(Release.file_id, Release.release_num)):
            released.setdefault(file_id, []).append(number)
    if released:
        names = _filenames(session, set(released) | {made_from[i] for i in released
                                                      if i in made_from})
        details = []
        for file_id in sorted(released):
            text = f"{names[file_id]} is in release {', '.join(released[file_id])}"
            if file_id in made_from:
                text += f" (made from {names[made_from[file_id]]}, removed by -r)"
            details.append(text)
        raise PurgeRefused("a released file is never purged: " + "; ".join(details)
                           + "; nothing removed")


def _filenames(session: Session, ids: Iterable[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for part in _chunks(set(ids)):
        names.update((i, n) for i, n in session.execute(
            select(File.file_id, File.filename).where(File.file_id.in_(part))))
    return names


def _on_disk(paths: ProductPaths, file: File, product: Product) -> Path | None:
    try:
        return paths.of_file(product, file)
    except (DBProcessingError, ValueError, KeyError):
        return None


def _describe_files(session: Session, tree: MissionTree, plan: _Plan) -> list[PurgedFile]:
    rows: dict[int, tuple[File, Product]] = {}
    pending: dict[int, str] = {}
    for part in _chunks(plan.ids):
        rows.update({f.file_id: (f, p) for f, p in session.execute(
            select(File, Product).join(Product, Product.product_id == File.product_id)
            .where(File.file_id.in_(part)))})
        pending.update((i, p) for i, p in session.execute(
            select(IngestPending.file_id, IngestPending.source_path)
            .where(IngestPending.file_id.in_(part))))
    paths = ProductPaths(tree)
    result = []
    for file_id in plan.ids:
        f, product = rows[file_id]
        parent = plan.made_from.get(file_id)
        result.append(PurgedFile(
            file_id, f.filename, product.product_name, f.utc_file_date,
            version_of(f),
            _on_disk(paths, f, product),
            made_from=rows[parent][0].filename if parent is not None else None,
            pending_move=pending.get(file_id)))
    return result


def _kept_children(session: Session, ids: list[int]) -> list[str]:
    purged = set(ids)
    children: set[int] = set()
    for part in _chunks(ids):
        children.update(session.scalars(select(FileFileLink.resulting_file)
                                        .where(FileFileLink.source_file.in_(part))))
    return sorted(_filenames(session, children - purged).values())


def _remove(session: Session, ids: list[int]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model, column, action in FILE_REFERENCES:
        if action == "refuse":
            continue
        table = model.__tablename__
        col = getattr(model, column)
        for part in _chunks(ids):
            statement: Delete | Update
            if action == "delete":
                statement = delete(model).where(col.in_(part))
            else:
                statement = update(model).where(col.in_(part)).values({column: None})
            counts[table] = counts.get(table, 0) + cast("CursorResult[Any]", session.execute(
                statement.execution_options(synchronize_session=False))).rowcount
    for part in _chunks(ids):
        counts["file"] = counts.get("file", 0) + cast("CursorResult[Any]", session.execute(
            delete(File).where(File.file_id.in_(part))
            .execution_options(synchronize_session=False))).rowcount
    return counts


def check_purge(engine: Engine, refs: Sequence[str], recursive: bool = False) -> int:
    """How many files a purge would remove, or PurgeRefused; reads only, takes no lock."""
    with Session(engine) as session:
        return len(_plan(session, refs, recursive).ids)


def purge_files(engine: Engine, db_name: str, refs: Sequence[str],
                recursive: bool = False) -> PurgeResult:
    """Remove the records of the files *refs* (and, if *recursive*, of every file made
    from them) and of everything referring to them, in one transaction under the
    processing lock.  The files on disk are not touched.

    Raises PurgeRefused (exit 1, nothing changed) for a name not in the database or
    a released file, LockHeld (exit 3) while a live run holds the lock.
    """
    if not refs:
        raise PurgeRefused("no file given; nothing removed")
    with Session(engine) as session:
        tree = load_mission(session)
    # Checked once without the lock, so that a refused purge leaves no trace (not
    # even a logging row), and again under it, where the answer is authoritative.
    check_purge(engine, refs, recursive)
    with processing_lock(engine, tree.mission_id, db_name) as lock:
        with Session(for_writing(engine)) as session:
            plan = _plan(session, refs, recursive)
            files = _describe_files(session, tree, plan)
            kept = [] if recursive else _kept_children(session, plan.ids)
            counts = _remove(session, plan.ids)
            session.commit()
        lock.comment = f"Nominal Exit; purgeFileFromDB removed {len(files)} file(s)"
    for purged in files:
        logger.info("purged %s from the database%s; the file on disk is left alone%s",
                    purged.describe(),
                    f" (made from {purged.made_from})" if purged.made_from else "",
                    f" at {purged.path}" if purged.path else "")
    return PurgeResult(files, counts, kept)


# -- deleteAllDBFiles ---------------------------------------------------------

@dataclass
class PurgeAllPlan:
    """What removing every file record would do: the files, and rows per table."""

    files: list[PurgedFile]
    rows: dict[str, int]


def plan_purge_all(session: Session, tree: MissionTree) -> PurgeAllPlan:
    """Every file record and the rows a purge of all would remove (or, for the event
    log, clear the file id of); PurgeRefused (nothing changed) when any is released.
    Reads only."""
    released = session.execute(
        select(File.filename, Release.release_num).join(Release, Release.file_id == File.file_id)
        .order_by(File.filename, Release.release_num)).all()
    if released:
        shown = "; ".join(f"{n} is in release {r}" for n, r in released[:5])
        more = f" and {len(released) - 5} more" if len(released) > 5 else ""
        raise PurgeRefused(f"a released file is never purged: {shown}{more}; nothing removed")
    ids = list(session.scalars(select(File.file_id).order_by(File.file_id)))
    rows: dict[str, int] = {}
    for model, column, action in FILE_REFERENCES:
        if action == "refuse":
            continue
        col = getattr(model, column)
        # With every file gone, every row holding a file id goes (or loses the id);
        # filefilelink is listed twice, and its rows go once.
        count = session.execute(
            select(func.count()).select_from(model).where(col.is_not(None))).scalar_one()
        table = model.__tablename__
        rows[table] = count if action == "null" else max(rows.get(table, 0), count)
    rows["file"] = len(ids)
    return PurgeAllPlan(_describe_files(session, tree, _Plan(ids, {})), rows)


def purge_all_files(engine: Engine, db_name: str, expected: int | None = None) -> PurgeAllPlan:
    """Remove every file record (and every row referring to one) in one transaction
    under the processing lock; the files on disk stay.  With *expected*, refuse
    (nothing changed) when the number of files is no longer what was confirmed."""
    with Session(engine) as session:
        tree = load_mission(session)
        plan_purge_all(session, tree)
    with processing_lock(engine, tree.mission_id, db_name) as lock:
        with Session(for_writing(engine)) as session:
            plan = plan_purge_all(session, tree)
            if expected is not None and len(plan.files) != expected:
                raise PurgeRefused(f"the database now holds {len(plan.files)} file(s), not "
                                   f"the {expected} confirmed; nothing removed")
            plan.rows = _remove(session, [f.file_id for f in plan.files])
            session.commit()
        lock.comment = f"Nominal Exit; deleteAllDBFiles removed {len(plan.files)} file(s)"
    logger.info("removed all %d file record(s); the files on disk are left alone",
                len(plan.files))
    return plan
def remove_file_records(session: Session, file_ids: Sequence[int]) -> dict[str, int]:
    """Remove the records of the files *file_ids* and every row referring to them
    (``FILE_REFERENCES``) in the caller's session, which the caller commits and
    whose processing lock the caller holds (fast_data).  Ids not in the file
    table are skipped (a rerun after a crash); a released file refuses the whole
    removal (PurgeRefused) before anything is deleted.  Returns rows per table.
    """
    ids = sorted(set(file_ids))
    _refuse_released(session, ids, {})
    return _remove(session, ids)
