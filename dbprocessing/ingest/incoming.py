"""Incoming: the files waiting in the mission's incoming directory (spec section 7, step 1).

``list_incoming`` gives regular files and symlinks matching the glob, in name
order, leaving out names that start with ``.`` (uploaders hide partial copies
that way).  ``incoming_problem`` says why a listed entry cannot be ingested
(a dangling or looping symlink, not a regular file, empty), or None; a file
that cannot be read is found when its checksum is taken.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ..errors import UsageError


def list_incoming(directory: Path, pattern: str = "*") -> list[Path]:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise UsageError(f"cannot list the incoming directory {directory}: "
                         f"{exc.strerror or exc}") from None
    names = sorted(e.name for e in entries
                   if not e.name.startswith(".") and fnmatch.fnmatchcase(e.name, pattern)
                   and (e.is_symlink() or e.is_file(follow_symlinks=False)))
    return [directory / name for name in names]


def incoming_problem(path: Path) -> str | None:
    try:
        if path.is_symlink():
            try:
                real = path.resolve(strict=True)
            except RuntimeError:
                return "symlink loop"
            except OSError:
                return f"symlink to a missing target ({os.readlink(path)})"
            if not real.is_file():
                return "symlink to something that is not a regular file"
        if path.stat().st_size == 0:
            return "empty file (0 bytes)"
    except PermissionError:
        return "unreadable (permission denied)"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    return None
