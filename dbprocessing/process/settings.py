"""How a processing run runs (``RunSettings``): light to import, so that
ProcessQueue builds it before it knows whether there is work (and the
planner, the runner and the ORM are imported only then)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..progress import Progress
from . import RETRY_AFTER_HOURS

if TYPE_CHECKING:
    from ..events import EventLog
    from .executors import Executor


def _silent(_line: str) -> None:
    pass


@dataclass(frozen=True)
class RunSettings:
    """How a processing run runs its codes and reports (``ProcessQueue -p``, DBRunner).

    The codes run on *executor* (None: local child processes, *slots* cpu at
    once); a code with no timeout of its own is killed after *timeout*
    seconds.  A failed run is tried again by a later run *retry_after* hours
    on (doubled for each further failure; None: only when its code changes or
    an input is queued).  With *events*, each wave's jobs are logged before
    they run and each outcome with the transaction that records it.  *say*
    gets a line per outcome; *progress* counts runs as they become known and
    as they finish.  *dry_run*: plan and say what would run, change nothing.
    """

    slots: int = 2
    timeout: float | None = None
    retry_after: float | None = RETRY_AFTER_HOURS
    dry_run: bool = False
    executor: Executor | None = None
    events: EventLog | None = None
    say: Callable[[str], None] = _silent
    progress: Progress = field(default_factory=Progress)
