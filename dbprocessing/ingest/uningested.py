"""Files on disk that no row knows (linkUningested): link them into incoming.

``find_uningested(session, tree, products)`` walks the directories of the
products (the fixed leading part of each ``relative_path``) and keeps the
regular files whose path under the mission root matches the product's
``relative_path/format`` (``mission/substitution.py`` ``name_regex``, so a
field used in both, like ``{Y}``, must agree: the file is where ingest would
put it) and whose name is not in the file table.  Hidden names (``.x``,
``.x.partial``), the incoming and error directories are never taken.

``link_uningested(tree, found)`` makes an absolute symlink to each in the
incoming directory, so the next ``ProcessQueue -i`` records it (ingest keeps a
linked file where it is and removes the link).  An existing incoming entry of
that name is never replaced: ``os.symlink`` refuses it atomically and the file
is reported as skipped.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import File, Instrument, Product, Satellite
from ..db.queries import find_product
from ..errors import FormatError, UsageError
from ..mission.substitution import name_regex
from ..mission.tree import MissionTree

logger = logging.getLogger(__name__)

_CHUNK = 1000


@dataclass(frozen=True)
class Uningested:
    path: Path       # the file, absolute
    product: str     # the first product whose pattern it matches


@dataclass
class LinkResult:
    linked: list[tuple[Path, Path]] = field(default_factory=list)   # (link, file)
    skipped: list[tuple[Path, str]] = field(default_factory=list)   # (file, why)


def _pattern(product: Product, instrument: str, satellite: str,
             mission: str) -> re.Pattern[str]:
    directory = product.relative_path.strip("/")
    full = product.format if directory in ("", ".") else f"{directory}/{product.format}"
    return name_regex(full, {"MISSION": mission, "PRODUCT": product.product_name,
                             "INSTRUMENT": instrument, "SATELLITE": satellite,
                             "SPACECRAFT": satellite})


def _fixed_prefix(relative_path: str) -> Path:
    """The leading directories of a relative_path that hold no ``{FIELD}``."""
    parts = []
    for part in Path(relative_path.strip("/")).parts:
        if "{" in part or part == "..":
            break
        parts.append(part)
    return Path(*parts) if parts else Path(".")


def _walk(root: Path, start: Path, skip: set[Path]) -> list[Path]:
    """Regular files under root/start (paths relative to root), hidden names left out."""
    found = []
    for directory, dirnames, filenames in os.walk(root / start):
        here = Path(directory)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and Path(os.path.abspath(here / d)) not in skip)
        for name in sorted(filenames):
            path = here / name
            if not name.startswith(".") and path.is_file() and not path.is_symlink():
                found.append(path.relative_to(root))
    return found


def find_uningested(session: Session, tree: MissionTree,
                    products: Sequence[str] = ()) -> tuple[list[Uningested], list[str]]:
    """Files under the products' directories that match a product but are in no row,
    and one note per product that could not be searched.  Reads only; UsageError
    names an unknown product."""
    if products:
        found_products = [find_product(session, p) for p in products]
        chosen = list({p.product_id: p for p in found_products}.values())
    else:
        chosen = list(session.scalars(select(Product).order_by(Product.product_name)))
    owners = {i: (inst, sat) for i, inst, sat in session.execute(
        select(Instrument.instrument_id, Instrument.instrument_name, Satellite.satellite_name)
        .join(Satellite, Satellite.satellite_id == Instrument.satellite_id))}
    root = Path(os.path.abspath(tree.rootdir))
    skip = {Path(os.path.abspath(tree.incoming)), Path(os.path.abspath(tree.errordir))}
    notes: list[str] = []
    patterns = []
    for product in chosen:
        instrument, satellite = owners.get(product.instrument_id, ("", ""))
        try:
            patterns.append((product, _pattern(product, instrument, satellite, tree.name)))
        except FormatError as exc:
            notes.append(f"product {product.product_name} not searched: {exc}")
    walked: dict[Path, list[Path]] = {}
    matches: dict[Path, str] = {}
    for product, regex in patterns:
        start = _fixed_prefix(product.relative_path)
        if start not in walked:
            walked[start] = _walk(root, start, skip) if (root / start).is_dir() else []
        for relative in walked[start]:
            if relative not in matches and regex.match(relative.as_posix()):
                matches[relative] = product.product_name
    names = sorted({p.name for p in matches})
    known: set[str] = set()
    for offset in range(0, len(names), _CHUNK):
        known.update(session.scalars(select(File.filename).where(
            File.filename.in_(names[offset:offset + _CHUNK]))))
    found = [Uningested(root / relative, product) for relative, product in sorted(
        matches.items()) if relative.name not in known]
    return found, notes


def check_incoming(tree: MissionTree) -> Path:
    """The incoming directory, or UsageError when links could not be made in it."""
    incoming = Path(os.path.abspath(tree.incoming))
    existing = incoming
    while not os.path.lexists(existing) and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"cannot make links in the incoming directory {incoming}: "
                         f"{existing} is not a writable directory")
    return incoming


def link_uningested(tree: MissionTree, found: Sequence[Uningested],
                    dry_run: bool = False) -> LinkResult:
    """Symlink each found file into incoming; never replace an incoming entry."""
    incoming = check_incoming(tree)
    result = LinkResult()
    for item in found:
        link = incoming / item.path.name
        if os.path.lexists(link):
            result.skipped.append((item.path, f"{link} already exists"))
            continue
        if dry_run:
            result.linked.append((link, item.path))
            continue
        incoming.mkdir(parents=True, exist_ok=True)
        try:
            os.symlink(item.path, link)
        except FileExistsError:
            result.skipped.append((item.path, f"{link} already exists"))
            continue
        result.linked.append((link, item.path))
        logger.info("linked uningested %s (product %s) into %s", item.path, item.product,
                    incoming)
    return result
