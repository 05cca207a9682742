"""Releases (the original's ``release`` table): named sets of files handed to users.

``tag_release`` records the newest file of every chosen (product, date) as
release N, in one transaction.  ``release_files`` lists a release,
``diff_releases`` compares two by (product, date): added, removed, version
changed; ``export_lines`` gives ``sha1sum -c`` lines (checksum, path relative
to the mission's root).

A released file cannot be deleted: ``release.file_id`` references
``file.file_id``, so the database itself refuses to delete a released row,
whatever command tries.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ..db.models import File, Product, Release
from ..db.queries import newest_file_ids, version_of
from ..errors import UsageError
from ..ingest.archive import ProductPaths
from ..mission.tree import MissionTree
from ..Version import Version


@dataclass(frozen=True)
class ReleasedFile:
    filename: str
    product: str
    date: datetime.date | None
    version: Version
    shasum: str | None
    path: str  # relative to the mission's root

    def as_dict(self) -> dict:
        return {"file": self.filename, "product": self.product,
                "date": self.date.isoformat() if self.date else None,
                "version": str(self.version), "shasum": self.shasum, "path": self.path}


def _check_number(number: str) -> None:
    if not number or len(number) > 20 or number != number.strip():
        raise UsageError(f"release number {number!r} must be 1 to 20 characters, "
                         f"no surrounding spaces")


def tag_release(session: Session, number: str, products: list[Product] | None,
                start: datetime.date | None, end: datetime.date | None) -> int:
    """Tag the newest file of each chosen (product, date) as release *number*."""
    _check_number(number)
    if session.scalar(select(func.count()).select_from(Release)
                      .where(Release.release_num == number)):
        raise UsageError(f"release {number} already exists; choose another number")
    product_ids = ([p.product_id for p in products] if products
                   else session.scalars(select(Product.product_id)).all())
    file_ids = newest_file_ids(session, product_ids, start, end)
    if not file_ids:
        raise UsageError("no file matches; nothing to release")
    session.execute(insert(Release), [{"file_id": file_id, "release_num": number}
                                      for file_id in file_ids])
    return len(file_ids)


def list_releases(session: Session) -> list[tuple[str, int]]:
    return [(number, count) for number, count in session.execute(
        select(Release.release_num, func.count()).group_by(Release.release_num)
        .order_by(Release.release_num))]


def release_files(session: Session, tree: MissionTree, number: str) -> list[ReleasedFile]:
    rows = session.execute(
        select(File, Product).join(Release, Release.file_id == File.file_id)
        .join(Product, Product.product_id == File.product_id)
        .where(Release.release_num == number)
        .order_by(Product.product_name, File.utc_file_date, File.filename)).all()
    if not rows:
        known = ", ".join(n for n, _ in list_releases(session)) or "none"
        raise UsageError(f"no release {number!r} (known: {known})")
    paths = ProductPaths(tree)
    result = []
    for f, product in rows:
        where = paths.of_file(product, f).relative_to(paths.root).as_posix()
        result.append(ReleasedFile(f.filename, product.product_name, f.utc_file_date,
                                   version_of(f), f.shasum, where))
    return result


def diff_releases(old: list[ReleasedFile], new: list[ReleasedFile]) -> dict[str, list]:
    """Added, removed and version-changed (product, date)s from *old* to *new*."""
    before = {(f.product, f.date): f for f in old}
    after = {(f.product, f.date): f for f in new}
    return {
        "added": [after[k].as_dict() for k in sorted(after.keys() - before.keys(), key=str)],
        "removed": [before[k].as_dict() for k in sorted(before.keys() - after.keys(), key=str)],
        "changed": [{"product": k[0], "date": k[1].isoformat() if k[1] else None,
                     "from": before[k].filename, "to": after[k].filename,
                     "from_version": str(before[k].version),
                     "to_version": str(after[k].version)}
                    for k in sorted(before.keys() & after.keys(), key=str)
                    if before[k].filename != after[k].filename],
    }


def export_lines(files: list[ReleasedFile]) -> list[str]:
    """``sha1sum -c`` lines: run ``sha1sum -c`` in the mission's root to verify."""
    return [f"{f.shasum or '-' * 40}  {f.path}" for f in files]
