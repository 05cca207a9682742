"""Executors: where a wave's run plans execute (``--executor {local,dask}``).

An executor takes a wave's ``RunPlan`` list and yields one ``RunResult`` per
plan as runs finish.  Planning, recording outputs (process/provenance.py)
and the event log are the same whichever ran the code; only the controller
touches the database and the lock.

- ``local`` (local.py): child processes of the controller, ``-n`` cpu slots
  (process/runner.py).
- ``dask`` (dask.py): tasks on a Dask ``distributed`` cluster: one of ``-n``
  worker processes started in a child process (dask_cluster.py), a scheduler
  at an address, or a Slurm/PBS
  cluster from dask-jobqueue's configuration.  Needs ``dbprocessing[dask]``.

An executor that loses its cluster raises ``ExecutorLost`` after yielding
every run that finished: the caller stops starting work and leaves the rest
on the queue.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

from ...errors import UsageError

if TYPE_CHECKING:  # ProcessQueue's arguments need EXECUTORS, not the planner
    from ...mission.tree import MissionTree
    from ..planner import RunPlan
    from ..runner import RunResult

EXECUTORS = ("local", "dask")
SCHEDULER_ENV = "DBPROCESSING_DASK_SCHEDULER"
JOBQUEUES = ("slurm", "pbs")  # --scheduler values that start a dask-jobqueue cluster
DASK_EXTRA = "--executor dask needs the dask extra: pip install 'dbprocessing[dask]'"


class Executor(Protocol):
    def run(self, plans: Sequence[RunPlan], tree: MissionTree) -> Iterator[RunResult]:
        """Run every plan; yield each result as its run finishes."""
        ...


def check_executor(kind: str, scheduler: str | None = None) -> None:
    """Refuse an executor that cannot be used here, before anything is written."""
    if kind not in EXECUTORS:
        raise UsageError(f"unknown executor {kind!r} (choose from {', '.join(EXECUTORS)})")
    if kind == "local":
        if scheduler:
            raise UsageError("--scheduler needs --executor dask")
        return
    needed = ["distributed"] + (["dask_jobqueue"] if scheduler in JOBQUEUES else [])
    for module in needed:
        try:
            importlib.import_module(module)
        except ImportError:
            raise UsageError(DASK_EXTRA) from None


def open_executor(kind: str = "local", *, slots: int = 2,
                  scheduler: str | None = None) -> AbstractContextManager[Executor]:
    """The executor *kind*, started on entering and shut down on leaving.

    dask: *scheduler* is a scheduler address (``tcp://host:8786``), ``slurm`` or
    ``pbs`` (a dask-jobqueue cluster of *slots* jobs), or None for a
    cluster of *slots* worker processes started in a child process.
    """
    check_executor(kind, scheduler)
    if kind == "local":
        return _local(slots)
    try:
        from .dask import open_dask
    except ImportError:
        raise UsageError(DASK_EXTRA) from None
    return open_dask(slots=slots, scheduler=scheduler)


@contextmanager
def _local(slots: int) -> Iterator[Executor]:
    from .local import LocalExecutor
    yield LocalExecutor(slots)
