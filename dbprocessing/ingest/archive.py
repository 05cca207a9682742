"""Archive: put files where they belong, never overwriting and never losing one.

* ``ProductPaths`` is the one home of a file's place in the archive:
  ``rootdir/<relative_path with substitutions>/<name>``, refused when it would
  leave rootdir; ``of_file`` gives a recorded file's path.
* ``move_file`` renames atomically; across filesystems it copies to a hidden
  ``.partial`` name beside the target, syncs, renames, then removes the source,
  so the file is always whole in at least one place.
* ``reject_file`` moves a file to the error directory, under a new unique name
  (``name.1``, ``name.2``...) when one of that name is already there.
"""
from __future__ import annotations

import contextlib
import datetime
import errno
import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FormatError
from ..mission.substitution import STAMP_FIELDS, fields_of, format_name, name_values
from ..mission.tree import MissionTree
from ..Version import Version
from .incoming import shown_name

if TYPE_CHECKING:  # ingest works on Core rows: the ORM is not imported for it
    from ..db.models import File, Product

logger = logging.getLogger(__name__)

_CHUNK = 1 << 20


def sha1_of(path: Path) -> str:
    # os.read on a descriptor: no file object to build and close (most files are small).
    digest = hashlib.sha1()
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        while chunk := os.read(fd, _CHUNK):
            digest.update(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest()


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def _directory_key(relative_path: str) -> tuple[tuple[str, ...], Callable[[Any], Any]]:
    """What tells one directory of *relative_path* from another: the values of its
    fields, and how much of the date it uses (the year, the month, or all of it)."""
    fields = fields_of(relative_path)
    stamp = {f for f in fields if f in STAMP_FIELDS}
    when: Callable[[Any], Any]
    if stamp <= {"Y", "y"}:
        when = (lambda date: date.year) if stamp else (lambda date: None)
    elif stamp <= {"Y", "y", "m", "b"}:
        when = lambda date: (date.year, date.month)  # noqa: E731
    else:
        when = lambda date: date  # noqa: E731
    return tuple(fields), when  # a date field given as a value of its own counts too


class ProductPaths:
    """Where a mission's files live in its archive: the one place that turns a
    product's ``relative_path`` into a directory, always checked to stay under the
    mission root (FormatError otherwise).  Checked directories are remembered (one
    run, many files)."""

    def __init__(self, tree: MissionTree) -> None:
        self.root = Path(os.path.abspath(tree.rootdir))
        self.mission = tree.name
        self._fields: dict[str, tuple[tuple[str, ...], Callable[[Any], Any]]] = {}
        self._dirs: dict[tuple, Path] = {}

    def directory(self, relative_path: str, values: Mapping[str, Any]) -> Path:
        """``rootdir/<relative_path filled with values>``.

        Formatted once per distinct directory: remembered by the values its
        pattern uses (a ``{Y}`` directory is one for a year of files)."""
        known = self._fields.get(relative_path)
        if known is None:
            known = self._fields[relative_path] = _directory_key(relative_path)
        fields, when = known
        date = values.get("datetime")
        key = (relative_path, None if date is None else when(date),
               *(None if values.get(f) is None else str(values[f]) for f in fields))
        checked = self._dirs.get(key)
        if checked is None:
            directory = format_name(relative_path, values)
            checked = Path(os.path.abspath(self.root / directory))
            if not _inside(checked, self.root):
                raise FormatError(f"product path {directory!r} leaves the mission root "
                                  f"{self.root}")
            self._dirs[key] = checked
        return checked

    def path(self, relative_path: str, name: str, values: Mapping[str, Any]) -> Path:
        """The file *name* in ``directory(relative_path, values)``."""
        if not name or "/" in name or name in (".", ".."):
            raise FormatError(f"not a file name: {name!r}")
        return self.directory(relative_path, values) / name

    def values(self, product: Product, date: datetime.date | None, version: Version | None,
               keywords: str | None) -> dict[str, Any]:
        """The ``{FIELD}`` values of a file of *product* in this mission."""
        return name_values(product.product_name, self.mission, date, version, keywords)

    def of_file(self, product: Product, file: File, relative_path: str | None = None) -> Path:
        """Where *file* of *product* lives (or would, under *relative_path*)."""
        from ..db.queries import version_of

        values = self.values(product, file.utc_file_date, version_of(file),
                             file.process_keywords)
        return self.path(product.relative_path if relative_path is None else relative_path,
                         file.filename, values)


def partial_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.partial")


def move_file(source: Path, target: Path) -> None:
    """Move *source* to *target* (which must not exist), atomically where possible."""
    if os.path.lexists(target):
        raise FileExistsError(errno.EEXIST, "target exists", str(target))
    try:
        os.rename(source, target)
        return
    except FileNotFoundError:
        if not os.path.lexists(source):
            raise
        target.parent.mkdir(parents=True, exist_ok=True)  # first file of a new directory
        return move_file(source, target)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    partial = partial_name(target)
    try:
        shutil.copy2(source, partial, follow_symlinks=False)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
    except OSError:  # a full disk, say: the half copy would only take more room
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise
    os.rename(partial, target)
    os.unlink(source)


def unique_path(directory: Path, name: str) -> Path:
    candidate = directory / name
    counter = 0
    while candidate.exists() or candidate.is_symlink():
        counter += 1
        candidate = directory / f"{name}.{counter}"
    return candidate


def archive_directory(directory: Path, made: set[Path], look_only: bool = False) -> str | None:
    """Make *directory* (a file's place in the archive) before the file is recorded,
    so that its move cannot fail for want of it; None, or why it cannot be made (a
    file in its way, say).  *made* holds those made already (one call each);
    *look_only* (a dry run) makes nothing, only looks."""
    if directory in made:
        return None
    try:
        if look_only:
            there = directory
            while not os.path.lexists(there) and there != there.parent:
                there = there.parent
            if not there.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        else:
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot make its archive directory {directory}: {exc.strerror or exc}"
    made.add(directory)
    return None


def unmovable(name: str, target: str | Path, exc: OSError) -> str:
    """Why a recorded file (*name*, its promise kept) is not in the archive yet, in
    words, logged as an error."""
    line = (f"{shown_name(name)} is recorded but cannot be moved to {shown_name(str(target))}"
            f": {exc.strerror or exc}; it stays where it is until the next run can move it")
    logger.error("%s", line)
    return line


def reject_file(path: Path, errordir: Path, reason: str) -> Path | None:
    """Move *path* into *errordir* (a new name if taken); None if it could not be moved."""
    try:
        errordir.mkdir(parents=True, exist_ok=True)
        target = unique_path(errordir, path.name)
        move_file(path, target)
    except OSError as exc:
        logger.error("could not move rejected %s to %s (%s); it stays in incoming",
                     shown_name(str(path)), errordir, exc)
        return None
    logger.info("rejected %s -> %s: %s", shown_name(path.name), shown_name(str(target)),
                reason)
    return target
