"""Writing a file so that readers see the old file or the new one, never a part.

``write_atomically(path, data)`` writes through a temporary file in the same
directory, flushed to disk, then renamed over *path*.  Every report, listing,
status file and exported config goes through it.  (Archiving a data file is a
move, not a write: ``ingest/archive.py``.)
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: str | bytes, *, exclusive: bool = False) -> None:
    """Write *data* (text as UTF-8) to *path* through a temporary file and a rename.

    The new file keeps the mode of the file it replaces, or gets the mode
    ``open()`` would give it.  With *exclusive*, an existing *path* is left
    alone and FileExistsError raised.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, _mode_for(path))
        if exclusive:
            # link() refuses an existing target, so a racing writer is not overwritten.
            os.link(temporary, path)
            os.unlink(temporary)
        else:
            os.replace(temporary, path)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def _mode_for(path: Path) -> int:
    """mkstemp creates 0600: keep the replaced file's mode, or give a new file the
    mode open() would (a listing is often read by a web server)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
