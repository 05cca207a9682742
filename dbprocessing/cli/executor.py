"""--executor and --scheduler, shared by ProcessQueue -p and DBRunner."""
from __future__ import annotations

import argparse
import os
from contextlib import AbstractContextManager

from ..process.executors import (
    EXECUTORS,
    SCHEDULER_ENV,
    Executor,
    check_executor,
    open_executor,
)


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--executor", choices=EXECUTORS, default="local",
                        help="where codes run: local child processes (default) or a Dask "
                             "cluster (needs dbprocessing[dask])")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help=f"with --executor dask: the scheduler's address "
                             f"(tcp://host:8786), or slurm / pbs for a dask-jobqueue "
                             f"cluster of -n jobs (default ${SCHEDULER_ENV}; unset: a "
                             f"LocalCluster of -n worker processes)")


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
