"""What a Dask worker runs: one plan's command line in a directory of its own.

Imported on the workers (by reference), so it needs no database and no
Dask: the controller builds the command line with its output under
``workdir``; each attempt (a retry after a lost worker is another attempt)
runs in a fresh ``workdir-<attempt>`` beside it, so a code orphaned by a
killed worker never writes where the retry writes.

What the run gave goes back through the shared filesystem, not through
Dask: a JSON file in the run's outbox directory, written atomically by the
attempt that finished (``read_outcome``).  The task returns nothing and
nobody holds its future, so the controller gets no message per task: it
looks in the outbox (executors/dask.py).  The outbox is also how the task
learns that the controller stopped: it removes the outbox, and a task whose
outbox is gone kills its code (with its process group) within
``runner.WATCH`` seconds and reports nothing (Dask's cancel does not stop a
task already running).
"""
from __future__ import annotations

import datetime
import json
import os
import uuid
from pathlib import Path

from ...lock import utcnow
from ..runner import Completed, run_in_workdir


def run_attempt(command: list[str], workdir: str, timeout: float | None,
                outcome: str) -> None:
    """Run *command* in a fresh attempt directory; write the command as run, the
    directory and what the run gave to the file *outcome*."""
    attempt = f"{workdir}-{uuid.uuid4().hex[:8]}"
    command = [part.replace(workdir, attempt) for part in command]
    try:
        Path(attempt).mkdir(parents=True)
    except OSError as exc:
        reason = f"cannot make the work directory {attempt}: {exc.strerror or exc}"
        done = Completed(127, f"{reason}\n", 0.0, False, utcnow(), reason)
    else:
        # The controller removes the outbox when it stops (Ctrl-C, SIGTERM, an error):
        # then nobody waits for this run, and the code is killed.
        outbox = os.path.dirname(outcome)
        done = run_in_workdir(command, Path(attempt), timeout,
                              wanted=lambda: os.path.isdir(outbox))
        if not os.path.isdir(outbox):
            return
    text = json.dumps({"command": command, "attempt": attempt, "returncode": done.returncode,
                       "output": done.output, "seconds": done.seconds,
                       "timed_out": done.timed_out, "started_at": done.started_at.isoformat(),
                       "problem": done.problem})
    partial = f"{outcome}.{uuid.uuid4().hex[:8]}"  # not a name the controller looks for
    Path(partial).write_text(text, encoding="utf-8")
    os.replace(partial, outcome)


def read_outcome(path: Path) -> tuple[list[str], Path, Completed] | None:
    """The command as run, the attempt's directory and what the run gave (None if
    the file is not there); the file is removed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    path.unlink()
    return data["command"], Path(data["attempt"]), Completed(
        data["returncode"], data["output"], data["seconds"], data["timed_out"],
        datetime.datetime.fromisoformat(data["started_at"]), data.get("problem"))
