"""Relocate a product (changeProductDir): a new directory format, every file moved.

A product's files live at ``rootdir/<relative_path filled in>/<filename>``;
the file rows hold no path, so the product row's ``relative_path`` points at
all of its files at once.  Moving them one by one would leave the row pointing
at the wrong place for some of them, so the move goes in three steps, each
leaving every file at the place the row points at:

1. **link**: per file, an ``ingest_pending`` promise (the ingest journal) to
   remove the new name again is committed; then each file gets its second
   name at its new path (a hard link, or a copy through a hidden ``.partial``
   name and a rename across filesystems); the old name stays, and the row
   still points at it;
2. **switch**: one transaction sets ``relative_path`` and turns each promise
   round: now the old name is to be removed;
3. **clean**: each old name is removed once its new one is the same file (or
   has the same content), and its promise cleared.

Whatever a kill interrupts, the promises say what to remove: before the
switch the new names (the relocation is undone, so a rerun may even name
another directory), after it the old ones.  The rerun, or any ingest
(``recover_pending``), carries them out first.  The caller holds the
processing lock.
"""
from __future__ import annotations

import errno
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from sqlalchemy import Engine, Table, insert, select
from sqlalchemy.orm import Session

from .. import faults
from ..db.engine import for_writing
from ..db.models import File, IngestPending
from ..db.queries import find_product
from ..errors import EXIT_SOME_FAILED, DBProcessingError
from ..mission.tree import MissionTree
from . import BATCH_SIZE
from .archive import ProductPaths, partial_name, sha1_of
from .pipeline import recover_pending
from .record import clear_pending

logger = logging.getLogger(__name__)

# errno values for which a hard link is impossible here but a copy may work
_NO_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES}


class RelocateRefused(DBProcessingError):
    """The files cannot all be moved (missing, or the new place is taken); nothing changed."""

    exit_code = EXIT_SOME_FAILED


@dataclass(frozen=True)
class Move:
    file_id: int
    filename: str
    source: Path
    target: Path


@dataclass
class Relocation:
    product: str
    old_dir: str
    new_dir: str
    moves: list[Move] = field(default_factory=list)
    unchanged: int = 0       # files whose path is the same under both formats
    not_on_disk: int = 0     # rows with exists_on_disk false: nothing to move
    finished: int = 0        # promises of an interrupted run carried out first
    done: bool = False       # the row already had the new format


def _same_file(a: Path, b: Path) -> bool:
    """Whether *a* and *b* hold the same data (one inode, or equal content)."""
    try:
        return os.path.samefile(a, b) or sha1_of(a) == sha1_of(b)
    except OSError:
        return False


def plan_relocation(session: Session, tree: MissionTree, product_ref: str,
                    new_dir: str) -> Relocation:
    """Every move changing *product_ref* to *new_dir* needs, checked; reads only.

    UsageError (exit 2) for an unknown product, FormatError (exit 2) for a
    format that is malformed or leaves rootdir, RelocateRefused (exit 1) for a
    file that is in neither place or a new path taken by another file.
    """
    product = find_product(session, product_ref)
    plan = Relocation(product.product_name, product.relative_path, new_dir)
    if product.relative_path == new_dir:
        plan.done = True
        return plan
    paths = ProductPaths(tree)
    missing: list[str] = []
    taken: list[str] = []
    # Files an interrupted ingest promised to move are where it left them until
    # recover_pending (run first under the lock) has moved them: not missing.
    promised = set(session.scalars(select(IngestPending.file_id).join(
        File, File.file_id == IngestPending.file_id).where(
        File.product_id == product.product_id)))
    for f in session.scalars(select(File).where(File.product_id == product.product_id)
                             .order_by(File.file_id)):
        if f.file_id in promised:
            continue
        if not f.exists_on_disk:
            plan.not_on_disk += 1
            continue
        source = paths.of_file(product, f)
        target = paths.of_file(product, f, new_dir)
        if source == target:
            plan.unchanged += 1
            continue
        there = os.path.lexists(source)
        if os.path.lexists(target):
            if there and not _same_file(source, target):
                taken.append(f"{target} (not {f.filename} of the database)")
                continue
        elif not there:
            missing.append(f"{f.filename} (not at {source})")
            continue
        plan.moves.append(Move(f.file_id, f.filename, source, target))
    problems = []
    if missing:
        problems.append(f"{len(missing)} file(s) are not where the database says: "
                        + _listed(missing))
    if taken:
        problems.append(f"{len(taken)} new path(s) hold other files: " + _listed(taken))
    if problems:
        raise RelocateRefused(f"cannot move product {product.product_name} to {new_dir!r}: "
                              + "; ".join(problems) + "; nothing changed")
    return plan


def _listed(items: list[str]) -> str:
    more = f" and {len(items) - 5} more" if len(items) > 5 else ""
    return ", ".join(items[:5]) + more


def _link(source: Path, target: Path) -> None:
    """Give *source* a second name *target* (a hard link, else a whole copy)."""
    if os.path.lexists(target):
        return  # made by an interrupted run, checked the same by plan_relocation
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
        return
    except OSError as exc:
        if exc.errno not in _NO_LINK:
            raise
    partial = partial_name(target)
    shutil.copy2(source, partial)
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    os.rename(partial, target)


def _remove_old(move: Move, root: Path) -> bool:
    """Remove the old name once the new one holds the same data; False if it cannot."""
    if not os.path.lexists(move.source):
        return True
    if not os.path.lexists(move.target):
        logger.error("%s is not at %s; its old copy %s is kept", move.filename, move.target,
                     move.source)
        return False
    if not _same_file(move.source, move.target):
        logger.error("%s and %s differ; both kept for an operator", move.source, move.target)
        return False
    move.source.unlink()
    _prune(move.source.parent, root)
    return True


def _prune(directory: Path, root: Path) -> None:
    """Remove *directory* and its parents up to *root* while they are empty."""
    while directory != root and root in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent


def _pending_moves(session: Session, product_id: int) -> list[Move]:
    rows = session.execute(
        select(IngestPending, File.filename).join(File, File.file_id == IngestPending.file_id)
        .where(File.product_id == product_id, IngestPending.is_link.is_(False))
        .order_by(IngestPending.file_id))
    return [Move(p.file_id, name, Path(p.source_path), Path(p.target_path))
            for p, name in rows]


def _promise(session: Session, moves: list[tuple[int, Path, Path]]) -> None:
    """Journal *moves* (file id, the name to remove, the name that stays)."""
    if moves:
        session.execute(insert(cast(Table, IngestPending.__table__)), [
            {"file_id": file_id, "source_path": str(source), "target_path": str(target),
             "is_link": False} for file_id, source, target in moves])


def _clear(session: Session, file_ids: list[int]) -> int:
    """Clear the promises of *file_ids* (carried out) and empty the list."""
    count = len(file_ids)
    clear_pending(session, file_ids)
    session.commit()
    file_ids.clear()
    return count


def change_product_dir(engine: Engine, tree: MissionTree, product_ref: str, new_dir: str,
                       say: Callable[[str], None] = lambda _line: None) -> Relocation:
    """Change *product_ref*'s ``relative_path`` to *new_dir* and move its files there
    (crash-safe, see the module docstring).  The caller holds the processing lock."""
    with Session(for_writing(engine)) as session:
        # An interrupted ingest or relocation first: its promises name old places.
        recovery = recover_pending(session)
        if recovery.stuck:  # its promise names a place this move may change
            raise DBProcessingError(f"{recovery.stuck[0]}: move it by hand (or clear the "
                                    f"way), then run changeProductDir again")
        finished = recovery.finished
        plan = plan_relocation(session, tree, product_ref, new_dir)
        plan.finished = finished
        session.rollback()
        if plan.done:
            return plan
        # Until the switch, a killed run's new names are to be removed again.
        _promise(session, [(m.file_id, m.target, m.source) for m in plan.moves])
        session.commit()
        faults.checkpoint("relocate_promised")
        for move in plan.moves:
            _link(move.source, move.target)
            faults.checkpoint("relocate_linked")
        product = find_product(session, product_ref)
        product.relative_path = new_dir
        clear_pending(session, [m.file_id for m in plan.moves])
        _promise(session, [(m.file_id, m.source, m.target) for m in plan.moves])
        session.commit()
        faults.checkpoint("relocate_switched")
        say(f"product {plan.product}: directory {plan.old_dir!r} -> {new_dir!r}")
        removed = 0
        done: list[int] = []
        for move in _pending_moves(session, product.product_id):
            if _remove_old(move, tree.rootdir):
                done.append(move.file_id)
                say(f"moved {move.filename}: {move.source} -> {move.target}")
                faults.checkpoint("relocate_removed")
            if len(done) >= BATCH_SIZE:
                removed += _clear(session, done)
        removed += _clear(session, done)
    kept = len(plan.moves) - removed
    if kept:
        raise RelocateRefused(f"product {plan.product} now lives in {new_dir!r}, but the old "
                              f"copies of {kept} file(s) could not be removed (see the log)")
    return plan
