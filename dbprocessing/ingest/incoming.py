"""Incoming: the files waiting in the mission's incoming directory (spec section 7, step 1).

``list_incoming`` gives regular files and symlinks matching the glob, in name
order, leaving out names that start with ``.`` (uploaders hide partial copies
that way).  ``incoming_status`` gives a listed entry's status (one ``lstat``
for a regular file), or says why it cannot be ingested (a dangling or looping
symlink, not a regular file, empty); a file that cannot be read is found when
its checksum is taken.
"""
from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ..errors import UsageError


def _waiting(directory: Path, pattern: str) -> Iterator[str]:
    """The names of the entries waiting in *directory*, in directory order."""
    try:
        with os.scandir(directory) as entries:
            for e in entries:
                if not e.name.startswith(".") and fnmatch.fnmatchcase(e.name, pattern) \
                        and (e.is_symlink() or e.is_file(follow_symlinks=False)):
                    yield e.name
    except FileNotFoundError:
        return
    except OSError as exc:
        raise UsageError(f"cannot list the incoming directory {directory}: "
                         f"{exc.strerror or exc}") from None


def shown_name(name: str) -> str:
    """*name* as text a database, a log and a terminal take: a byte that is not
    UTF-8 (which Python holds as a lone surrogate) written as ``\\xNN``."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return name


def list_incoming(directory: Path, pattern: str = "*") -> list[Path]:
    return [directory / name for name in sorted(_waiting(directory, pattern))]


def anything_incoming(directory: Path, pattern: str = "*") -> bool:
    """Whether ``list_incoming`` would list anything (it stops at the first entry)."""
    return next(_waiting(directory, pattern), None) is not None


def incoming_status(path: Path) -> tuple[os.stat_result, bool] | str:
    """The status of the file at *path* (through a symlink) and whether *path* is a
    symlink; or, as a string, why it cannot be ingested."""
    try:
        status = os.lstat(path)
        is_link = stat.S_ISLNK(status.st_mode)
        if is_link:
            try:
                real = path.resolve(strict=True)
            except RuntimeError:
                return "symlink loop"
            except OSError:
                return f"symlink to a missing target ({os.readlink(path)})"
            if not real.is_file():
                return "symlink to something that is not a regular file"
            status = os.stat(path)
        if status.st_size == 0:
            return "empty file (0 bytes)"
    except PermissionError:
        return "unreadable (permission denied)"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return status, is_link
