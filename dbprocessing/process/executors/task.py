"""What a Dask worker runs: one plan's command line in a directory of its own.

Imported on the workers (by reference), so it needs no database and no
Dask: the controller builds the command line with its output under
``workdir``; each attempt (a retry after a lost worker is another attempt)
runs in a fresh ``workdir-<attempt>`` beside it, so a code orphaned by a
killed worker never writes where the retry writes.
"""
from __future__ import annotations

import uuid
from pathlib import Path

from ..runner import Completed, run_in_workdir


def run_attempt(command: list[str], workdir: str,
                timeout: float | None) -> tuple[list[str], str, Completed]:
    """Run *command* in a fresh attempt directory; return the command as run,
    the directory, and what the run gave."""
    attempt = f"{workdir}-{uuid.uuid4().hex[:8]}"
    command = [part.replace(workdir, attempt) for part in command]
    Path(attempt).mkdir(parents=True)
    return command, attempt, run_in_workdir(command, Path(attempt), timeout)
