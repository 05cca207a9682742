"""What a Dask worker runs: one plan's command line in a directory of its own.

Imported on the workers (by reference), so it needs no database and no
Dask: the controller builds the command line with its output under
``workdir``; each attempt (a retry after a lost worker is another attempt)
runs in a fresh ``workdir-<attempt>`` beside it, so a code orphaned by a
killed worker never writes where the retry writes.

What the run gave goes back through the shared filesystem, not through
Dask: ``workdir.json``, written atomically by the attempt that finished
(``read_outcome``).  The controller reads it when the scheduler says the
task is done, so no result is fetched from a worker (a round trip per run
on the controller's event loop).
"""
from __future__ import annotations

import datetime
import json
import os
import uuid
from pathlib import Path

from ..runner import Completed, run_in_workdir


def outcome_path(workdir: str | Path) -> Path:
    return Path(f"{workdir}.json")


def run_attempt(command: list[str], workdir: str, timeout: float | None) -> None:
    """Run *command* in a fresh attempt directory; write the command as run, the
    directory and what the run gave to ``outcome_path(workdir)``."""
    attempt = f"{workdir}-{uuid.uuid4().hex[:8]}"
    command = [part.replace(workdir, attempt) for part in command]
    Path(attempt).mkdir(parents=True)
    done = run_in_workdir(command, Path(attempt), timeout)
    text = json.dumps({"command": command, "attempt": attempt, "returncode": done.returncode,
                       "output": done.output, "seconds": done.seconds,
                       "timed_out": done.timed_out, "started_at": done.started_at.isoformat()})
    path = outcome_path(workdir)
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex[:8]}")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def read_outcome(workdir: Path) -> tuple[list[str], Path, Completed] | None:
    """The command as run, the attempt's directory and what the run gave (None if
    no attempt finished); the file is removed."""
    path = outcome_path(workdir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    path.unlink()
    return data["command"], Path(data["attempt"]), Completed(
        data["returncode"], data["output"], data["seconds"], data["timed_out"],
        datetime.datetime.fromisoformat(data["started_at"]))
