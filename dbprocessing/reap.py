"""Reaping superseded versions (fast_data): archive or delete old, unwanted files.

``select_reapable(session, tree, cutoff, ...)`` picks the files that may go:

* not the newest version of their (product, ``utc_file_date``);
* in no release;
* ``utc_file_date`` (the day the data are for, not when the file was made)
  strictly before the cutoff; a file without a date is never picked;
* not an ancestor (through ``filefilelink``, at any depth) of a file that is
  kept, i.e. a newest or released one: what a kept file was made from stays,
  so its provenance can still be followed to files on disk.
  ``include_parents`` drops this protection.

``reap_files(engine, tree, plan)`` does, for each picked file, first the disk
step and then the record step, so that a crash between them never loses a
file and a rerun (which picks the same files) completes the work:

* disk: ``archive`` moves it to ``archive/<path under rootdir>`` (atomic
  rename, or copy + sync + rename + unlink across filesystems); ``delete``
  unlinks it; a file already gone from its place (already archived by an
  interrupted run, or removed by hand) is taken as done;
* records: with ``reap_records`` the file's row and every row referring to it
  go, through ``purge.remove_file_records`` (the purgeFileFromDB logic);
  otherwise a moved or deleted file's row is kept with ``exists_on_disk``
  false.  One transaction per batch of files whose disk step is done.

The caller holds the processing lock.  With ``dry_run`` nothing is changed:
the result says what would be done.
"""
from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from . import faults
from .db.engine import for_writing
from .db.models import File, FileFileLink, Product, Release
from .db.queries import find_product, newest_file_ids, version_of
from .errors import DBProcessingError, UsageError
from .ingest.archive import ProductPaths, move_file, sha1_of
from .mission.tree import MissionTree
from .purge import remove_file_records
from .Version import Version

logger = logging.getLogger(__name__)

_BATCH = 200  # files whose records change in one transaction


@dataclass(frozen=True)
class ReapPlan:
    """What to do with the files a reap picks (and whether to do it at all)."""

    cutoff: datetime.date
    archive: Path | None = None      # move files here (keeping the path under rootdir)
    delete: bool = False             # unlink files
    reap_records: bool = False       # remove the files' records
    include_parents: bool = False    # also files a kept file was made from
    products: tuple[str, ...] = ()   # only these products (names or ids); all when empty
    dry_run: bool = False


@dataclass(frozen=True)
class Reapable:
    file_id: int
    filename: str
    product: str
    date: datetime.date
    version: Version
    path: Path | None      # where it lives under rootdir; None when the product path fails
    relative: Path | None  # the same, relative to rootdir

    def describe(self) -> str:
        return f"{self.filename} ({self.product} {self.date.isoformat()} v{self.version})"


@dataclass
class ReapResult:
    picked: list[Reapable] = field(default_factory=list)
    protected: int = 0                         # old, superseded, but a kept file's ancestor
    actions: list[str] = field(default_factory=list)  # one line per thing done (or to do)
    archived: int = 0
    deleted: int = 0
    already_gone: int = 0                      # not at its place on disk
    records_removed: int = 0
    marked_missing: int = 0                    # rows kept with exists_on_disk false
    bytes: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self, plan: ReapPlan) -> str:
        would = "would " if plan.dry_run else ""
        parts = [f"{len(self.picked)} file(s) older than {plan.cutoff.isoformat()} are "
                 f"neither newest nor released"]
        if self.protected:
            parts.append(f"{self.protected} more kept because a newest or released file "
                         f"was made from them (--include-parents takes them too)")
        if plan.archive is not None:
            verb = "would archive" if plan.dry_run else "archived"
            parts.append(f"{verb} {self.archived} file(s), {self.bytes} bytes, to "
                         f"{plan.archive}")
        if plan.delete:
            parts.append(f"would delete {self.deleted} file(s), freeing {self.bytes} bytes"
                         if plan.dry_run else
                         f"deleted {self.deleted} file(s), freed {self.bytes} bytes")
        if self.already_gone:
            parts.append(f"{self.already_gone} already gone from disk")
        if plan.reap_records:
            parts.append(f"{would}remove {self.records_removed} record(s)" if plan.dry_run
                         else f"removed {self.records_removed} record(s)")
        elif self.marked_missing:
            parts.append(f"{would}mark {self.marked_missing} record(s) not on disk"
                         if plan.dry_run else
                         f"marked {self.marked_missing} record(s) not on disk")
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        return "; ".join(parts)


def _ancestors(session: Session, kept: set[int]) -> set[int]:
    """Every file a file in *kept* was made from, at any depth (one read of the links)."""
    sources: dict[int, list[int]] = {}
    for source, result in session.execute(
            select(FileFileLink.source_file, FileFileLink.resulting_file)):
        sources.setdefault(result, []).append(source)
    seen: set[int] = set()
    frontier = list(kept)
    while frontier:
        found = []
        for file_id in frontier:
            for source in sources.get(file_id, ()):
                if source not in seen:
                    seen.add(source)
                    found.append(source)
        frontier = found
    return seen


def select_reapable(session: Session, tree: MissionTree, plan: ReapPlan,
                    ) -> tuple[list[Reapable], int]:
    """The files a reap takes, in (product, date, version) order, and how many more
    it would take but for the parent protection.  Reads only."""
    if plan.products:
        product_ids = sorted({find_product(session, p).product_id for p in plan.products})
    else:
        product_ids = list(session.scalars(select(Product.product_id)))
    newest = set(newest_file_ids(session, product_ids))
    released = set(session.scalars(select(Release.file_id)))
    old = [(f, p) for f, p in session.execute(
        select(File, Product).join(Product, Product.product_id == File.product_id)
        .where(File.product_id.in_(product_ids), File.utc_file_date.is_not(None),
               File.utc_file_date < plan.cutoff))
        if f.file_id not in newest and f.file_id not in released]
    protected: set[int] = set()
    if old and not plan.include_parents:
        every_newest = newest if not plan.products else set(newest_file_ids(
            session, list(session.scalars(select(Product.product_id)))))
        protected = _ancestors(session, every_newest | released)
    paths = ProductPaths(tree)
    picked = []
    for f, product in old:
        if f.file_id in protected:
            continue
        version = version_of(f)
        date = f.utc_file_date
        assert date is not None  # the query keeps dated files only
        path: Path | None
        relative: Path | None
        try:
            path = paths.of_file(product, f)
            relative = path.relative_to(paths.root)
        except (DBProcessingError, ValueError, KeyError):
            path = relative = None
        picked.append(Reapable(f.file_id, f.filename, product.product_name,
                               date, version, path, relative))
    picked.sort(key=lambda r: (r.product, r.date, r.version, r.filename))
    kept_back = sum(1 for f, _ in old if f.file_id in protected)
    return picked, kept_back


def check_archive_dir(archive: Path, tree: MissionTree) -> Path:
    """*archive* made absolute, or UsageError when files could not be moved there.

    Nothing is created: the directory, or its nearest existing parent, must be a
    writable directory, and it must not be the mission root itself.
    """
    archive = Path(os.path.abspath(archive.expanduser()))
    if archive == Path(os.path.abspath(tree.rootdir)):
        raise UsageError(f"-a {archive} is the mission root: archived files would stay "
                         f"where they are")
    existing = archive
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"-a {archive}: {existing} is not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"-a {archive}: {existing} is not writable")
    return archive


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _disk_step(item: Reapable, plan: ReapPlan, result: ReapResult) -> bool:
    """Archive or delete one file (or say what would be done); False when it failed."""
    assert item.path is not None and item.relative is not None
    source = item.path
    if plan.archive is not None:
        target = plan.archive / item.relative
        if os.path.lexists(source) and os.path.lexists(target):
            # An interrupted cross-filesystem move leaves both copies: finish it.
            if sha1_of(source) != sha1_of(target):
                result.failed.append(f"{item.describe()}: {target} exists with other "
                                     f"contents; left alone")
                return False
            result.actions.append(f"{'would remove' if plan.dry_run else 'removed'} "
                                  f"{source} (already archived at {target})")
            if not plan.dry_run:
                os.unlink(source)
        elif os.path.lexists(source):
            size = _size(source)
            result.actions.append(f"{'would move' if plan.dry_run else 'moved'} {source} "
                                  f"-> {target} ({size} bytes)")
            if not plan.dry_run:
                target.parent.mkdir(parents=True, exist_ok=True)
                move_file(source, target)
            result.bytes += size
        elif os.path.lexists(target):
            result.actions.append(f"{item.filename} is already archived at {target}")
            result.bytes += _size(target)
        else:
            result.already_gone += 1
            result.actions.append(f"{item.filename} is not on disk at {source} nor in the "
                                  f"archive")
            return True
        result.archived += 1
    elif plan.delete:
        if os.path.lexists(source):
            size = _size(source)
            result.actions.append(f"{'would delete' if plan.dry_run else 'deleted'} "
                                  f"{source} ({size} bytes)")
            if not plan.dry_run:
                os.unlink(source)
            result.bytes += size
            result.deleted += 1
        else:
            result.already_gone += 1
            result.actions.append(f"{item.filename} is already gone from {source}")
    return True


def _record_step(engine: Engine, done: list[Reapable], plan: ReapPlan,
                 result: ReapResult) -> None:
    """Remove the records of *done*, or mark them not on disk, in one transaction."""
    if not done:
        return
    ids = [item.file_id for item in done]
    if plan.reap_records:
        for item in done:
            result.actions.append(f"{'would remove' if plan.dry_run else 'removed'} the "
                                  f"record of {item.describe()}")
        result.records_removed += len(ids)
        if plan.dry_run:
            return
        with Session(for_writing(engine)) as session:
            remove_file_records(session, ids)
            session.commit()
    elif plan.archive is not None or plan.delete:
        result.marked_missing += len(ids)
        if plan.dry_run:
            return
        with Session(for_writing(engine)) as session:
            session.execute(update(File).where(File.file_id.in_(ids))
                            .values(exists_on_disk=False)
                            .execution_options(synchronize_session=False))
            session.commit()


def _batches(items: list[Reapable]) -> Iterable[list[Reapable]]:
    for start in range(0, len(items), _BATCH):
        yield items[start:start + _BATCH]


def reap_files(engine: Engine, tree: MissionTree, plan: ReapPlan,
               say: Callable[[str], None] = lambda line: None) -> ReapResult:
    """Pick the reapable files and archive, delete and/or forget them (see the module
    docstring); *say* gets each action as it is done.  The caller holds the lock."""
    result = ReapResult()
    with Session(engine) as session:
        result.picked, result.protected = select_reapable(session, tree, plan)
    moves = plan.archive is not None or plan.delete
    for batch in _batches(result.picked):
        done: list[Reapable] = []
        for item in batch:
            before = len(result.actions)
            if moves and item.path is None:
                result.failed.append(f"{item.describe()}: its product path cannot be "
                                     f"formed; left alone")
            else:
                try:
                    if not moves or _disk_step(item, plan, result):
                        done.append(item)
                except OSError as exc:
                    result.failed.append(f"{item.describe()}: {exc.strerror or exc}; "
                                         f"left alone")
            for line in result.actions[before:]:
                say(line)
            if moves and not plan.dry_run:
                faults.checkpoint("reaped_file")
        before = len(result.actions)
        _record_step(engine, done, plan, result)
        for line in result.actions[before:]:
            say(line)
    for problem in result.failed:
        logger.error("fast_data: %s", problem)
    if not plan.dry_run:
        logger.info("fast_data: %s", result.summary(plan))
    return result
