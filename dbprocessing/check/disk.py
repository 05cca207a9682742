"""Check the database against the disk: missing files, wrong flags, checksums, strays.

``check_disk(session, tree, ...)`` computes where each file row's file lives
(``rootdir/<product relative_path>/<filename>``, as ingest put it) and reports:

* ``missing_file``: ``exists_on_disk`` is true and the file is not there;
* ``exists_flag``: ``exists_on_disk`` is false and the file is there;
* ``shasum_mismatch``: the file's SHA-1 is not the recorded one;
* ``stray_file``: a file in a product directory that no row knows (a file
  whose name a row knows, in the wrong directory, is not moved as a stray:
  the row's ``missing_file`` finding says where it is).

Rows whose ingest move is still promised (``ingest_pending``) are skipped: the
next run completes that move.  Hidden names (``.x.partial``: a move in
progress) are never strays.  Reads only.
"""
from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import File, IngestPending, Product
from ..db.queries import newest_file_ids
from ..errors import DBProcessingError
from ..ingest.archive import ProductPaths, sha1_of
from ..ingest.incoming import shown_name
from ..mission.substitution import date_from_fields, name_regex, parse_name
from ..mission.tree import MissionTree
from ..process.provenance import RUNLOGS
from .findings import (
    EXISTS_FLAG,
    MISSING_FILE,
    SHASUM_MISMATCH,
    STRAY_FILE,
    Finding,
    in_range,
)

logger = logging.getLogger(__name__)


@dataclass
class DiskReport:
    findings: list[Finding]
    checked: list[str]  # paths of the rows checked, in order (dbOnlyFiles -v)


def check_disk(session: Session, tree: MissionTree, start: datetime.date | None = None,
               end: datetime.date | None = None, *, checksums: bool = True,
               newest_only: bool = False, strays: bool = True) -> DiskReport:
    """Findings between the file table and the disk, for files dated in [start, end]."""
    products = {p.product_id: p for p in session.scalars(select(Product))}
    pending = set(session.scalars(select(IngestPending.file_id)))
    newest = set(newest_file_ids(session, products, start, end)) if newest_only else None
    paths = ProductPaths(tree)
    known_paths: set[Path] = set()
    known_names: set[str] = set()
    findings: list[Finding] = []
    checked: list[str] = []
    for row in session.scalars(select(File).order_by(File.file_id)):
        product = products[row.product_id]
        known_names.add(row.filename)
        try:
            path = paths.of_file(product, row)
        except (DBProcessingError, ValueError) as exc:
            logger.warning("cannot place %s on disk (%s); not checked", row.filename, exc)
            continue
        known_paths.add(path)
        if row.file_id in pending or not in_range(row.utc_file_date, start, end):
            continue
        if newest is not None and row.file_id not in newest:
            continue
        checked.append(str(path))
        findings.extend(_check_row(row, product, path, checksums))
    if strays:
        stray_findings, misplaced = _strays(tree, list(products.values()), known_paths,
                                            known_names, start, end)
        findings = [_misplaced(f, misplaced) for f in findings] + stray_findings
    return DiskReport(findings, checked)


def _objects(row: File, product: Product, path: Path) -> dict:
    return {"file_id": row.file_id, "filename": row.filename,
            "product": product.product_name, "path": str(path)}


def _check_row(row: File, product: Product, path: Path, checksums: bool) -> list[Finding]:
    present = path.is_file()
    where = f"{row.filename} (file_id {row.file_id}, {product.product_name})"
    found = []
    if row.exists_on_disk and not present:
        found.append(Finding(MISSING_FILE, f"{where} is not at {path}",
                             "set exists_on_disk false", _objects(row, product, path),
                             row.utc_file_date, product.product_name))
    elif not row.exists_on_disk and present:
        found.append(Finding(EXISTS_FLAG, f"{where} is at {path} but exists_on_disk is false",
                             "set exists_on_disk true", _objects(row, product, path),
                             row.utc_file_date, product.product_name))
    if present and checksums and row.shasum:
        actual = sha1_of(path)
        if actual != row.shasum:
            found.append(Finding(
                SHASUM_MISMATCH, f"{where}: SHA-1 on disk {actual}, recorded {row.shasum}",
                "record the SHA-1 on disk (as updateSHAsum; the old one is kept in the "
                "event log)",
                {**_objects(row, product, path), "recorded": row.shasum, "on_disk": actual},
                row.utc_file_date, product.product_name))
    return found


def _special_dirs(tree: MissionTree) -> set[Path]:
    """The mission's own directories: never walked into as product directories."""
    return {Path(os.path.abspath(p)) for p in
            (tree.incoming, tree.errordir, tree.codedir, tree.inspectordir,
             tree.rootdir / RUNLOGS)}


def _product_dirs(tree: MissionTree, products: list[Product]) -> dict[Path, list[Product]]:
    """Every existing directory that is some product's directory (its relative_path
    with any date filled in), with the products that live there."""
    root = Path(os.path.abspath(tree.rootdir))
    special = _special_dirs(tree) - {root}
    found: dict[Path, list[Product]] = {}
    for product in products:
        relative = os.path.normpath(product.relative_path or ".")
        try:
            pattern = name_regex(relative)
        except DBProcessingError as exc:
            logger.warning("product %s: cannot look for strays (%s)", product.product_name, exc)
            continue
        parts = [] if relative == "." else relative.split(os.sep)
        fixed = next((i for i, part in enumerate(parts) if "{" in part), len(parts))
        top = root.joinpath(*parts[:fixed])
        depth = len(parts) - fixed
        for directory in _walk(top, depth, special):
            rel = os.path.relpath(directory, root)
            if pattern.match(rel if parts else "."):
                found.setdefault(directory, []).append(product)
    return found


def _walk(top: Path, depth: int, special: set[Path]) -> list[Path]:
    """*top* and its subdirectories exactly *depth* levels down (not hidden, not special).
    Symlinked directories are followed: archives are often split across disks."""
    level = [top] if top.is_dir() else []
    for _ in range(depth):
        level = [Path(e.path) for d in level for e in os.scandir(d)
                 if e.is_dir() and not e.name.startswith(".")
                 and Path(e.path) not in special]
    return level


def _misplaced(finding: Finding, misplaced: dict[str, Path]) -> Finding:
    """A missing file whose name is in another product directory: say where."""
    where = misplaced.get(finding.objects.get("filename", ""))
    if finding.kind != MISSING_FILE or where is None:
        return finding
    return replace(finding, subject=f"{finding.subject} (a file of that name is at {where})",
                   objects={**finding.objects, "found_at": str(where)})


def _strays(tree: MissionTree, products: list[Product], known: set[Path],
            names: set[str], start: datetime.date | None,
            end: datetime.date | None) -> tuple[list[Finding], dict[str, Path]]:
    """Strays, and files of known names found where their rows do not put them."""
    own = _special_dirs(tree) | {Path(os.path.abspath(tree.rootdir))}
    findings = []
    misplaced: dict[str, Path] = {}
    for directory, owners in sorted(_product_dirs(tree, products).items()):
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if entry.name.startswith(".") or entry.is_dir():
                continue
            path = Path(entry.path)
            if path in known:
                continue
            if entry.name in names:  # a row knows it, elsewhere: not a stray
                misplaced.setdefault(entry.name, path)
                continue
            owner, date = _claim(owners, entry.name)
            if directory in own and owner is None:
                continue  # a mission's own directory holds other files too
            if not in_range(date, start, end):
                continue
            product = (owner or owners[0]).product_name
            findings.append(Finding(
                STRAY_FILE, f"{shown_name(str(path))} is in the directory of {product} but "
                f"no file row "
                f"knows it", f"move it to the error directory {tree.errordir} (never deleted)",
                {"path": str(path), "product": product}, date, product))
    return findings, misplaced


def _claim(owners: list[Product], name: str) -> tuple[Product | None, datetime.date | None]:
    """The product whose format *name* matches, and the date the name gives."""
    for product in owners:
        try:
            fields = parse_name(product.format, name)
        except DBProcessingError:
            continue
        if fields is not None:
            return product, date_from_fields(fields)
    return None, None



