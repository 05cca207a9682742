"""What every command that works on a mission database does around its one call.

``open_mission(database)`` opens the database (refusing a schema that is not
this code's head), points the daily log at it, loads the mission tree when it
is first asked for, and disposes the engine at the end.  ``locked(prog,
argv)`` takes the processing lock and begins the event log for the block; the
block may set the held lock's ``comment`` (``Nominal Exit`` otherwise, the
error when it raises).  Commands that do not take the lock never begin an
invocation unless they ask for one (``event_log``).  ``executor_from(args)``
is where the codes of ProcessQueue -p and DBRunner run (``--executor``,
``--scheduler``; process/executors/).
"""
from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..process.executors import (
    EXECUTORS,
    SCHEDULER_ENV,
    Executor,
    check_executor,
    open_executor,
)

if TYPE_CHECKING:  # the database layer is imported when a mission is opened, not for -h
    from sqlalchemy import Engine

    from ..events import EventLog
    from ..lock import HeldLock
    from ..mission.tree import MissionTree


@dataclass
class LockedRun:
    """The processing lock this run holds and the event log of its invocation."""

    lock: HeldLock
    events: EventLog


@dataclass
class OpenMission:
    """One command's open database: its engine and, when asked for, its mission."""

    database: str
    engine: Engine
    _tree: MissionTree | None = field(default=None, repr=False)

    @property
    def tree(self) -> MissionTree:
        if self._tree is None:
            from ..mission.tree import load_mission

            with self.engine.connect() as conn:
                self._tree = load_mission(conn)
        return self._tree

    @contextmanager
    def locked(self, prog: str, argv: Sequence[str]) -> Iterator[LockedRun]:
        """Hold the processing lock, with the invocation logged, for the block."""
        from ..events import EventLog
        from ..lock import processing_lock

        with processing_lock(self.engine, self.tree.mission_id, self.database) as held:
            yield LockedRun(held, EventLog.begin(self.engine, prog, list(argv),
                                                 held.logging_id))

    def event_log(self, prog: str, argv: Sequence[str]) -> EventLog:
        """An invocation logged without the lock (DBRunner without -i)."""
        from ..events import EventLog

        return EventLog.begin(self.engine, prog, list(argv), None)


@contextmanager
def open_mission(database: str, *, echo: bool = False,
                 log_level: str = "INFO") -> Iterator[OpenMission]:
    """Open *database* for one command; dispose of it when the block ends."""
    from .. import DBlogging
    from ..db import open_database
    from ..db.engine import describe

    engine = open_database(database, echo=echo)
    try:
        DBlogging.configure(describe(engine.url), log_level)
        yield OpenMission(database, engine)
    finally:
        engine.dispose()


# -- where codes run (ProcessQueue -p, DBRunner) ------------------------------

def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="where codes run: local child processes (default) or a Dask "
                             "cluster (needs dbprocessing[dask])")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help=f"with --executor dask: the scheduler's address "
                             f"(tcp://host:8786), or slurm / pbs for a dask-jobqueue "
                             f"cluster of -n jobs (default ${SCHEDULER_ENV}; unset: a "
                             f"cluster of -n worker processes, started in child processes)")


def scheduler_of(args: argparse.Namespace) -> str | None:
    if args.scheduler:
        return args.scheduler
    return os.environ.get(SCHEDULER_ENV) or None if args.executor == "dask" else None


def check_executor_arguments(args: argparse.Namespace) -> None:
    """Refuse an unusable executor before anything is opened or written (exit 2)."""
    check_executor(args.executor, scheduler_of(args))


def executor_from(args: argparse.Namespace) -> AbstractContextManager[Executor]:
    """The executor the arguments ask for; started on entering the context."""
    return open_executor(args.executor, slots=args.num_proc, scheduler=scheduler_of(args))
