"""The Dask executor: each plan a task on a ``distributed`` cluster.

The controller builds each plan's command line (its output under a work
directory in ``rootdir/.work``, which must be the same path on every worker:
a shared filesystem) and submits ``task.run_attempt`` with it; the worker
runs it without a shell, enforces the timeout and leaves exit code,
timings and captured output in ``workdir.json`` beside the work directory,
which the controller reads when the task is done (no result crosses Dask).
The controller records the output exactly as for a local run.  A code's
``code_cpu`` is a request for the workers' ``cpu`` resource (capped at the
largest worker's), so heavy codes do not pile onto one worker.

Faults: a task whose worker dies is run once more elsewhere, then reported
failed (the scheduler's ``allowed-failures`` = 1; ``retries=1`` covers an
error of the task itself).  A lost scheduler cancels the client's tasks:
``run`` yields what finished and raises ``ExecutorLost``.
"""
from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask
from distributed import Client, LocalCluster, as_completed

from ...errors import ExecutorLost, UsageError
from ...lock import utcnow
from ...mission.tree import MissionTree
from ..planner import RunPlan
from ..runner import WORK, RunResult, build_command, result_of
from . import JOBQUEUES
from .task import outcome_path, read_outcome, run_attempt

logger = logging.getLogger(__name__)

# A task is retried once when its worker dies under it, then reported failed.
SCHEDULER_CONFIG = {"distributed.scheduler.allowed-failures": 1}
CONNECT_TIMEOUT = "30s"


class DaskExecutor:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._warned = False

    def cpu_cap(self) -> int | None:
        """The largest ``cpu`` resource of a worker (None when no worker declares one)."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        if not workers:
            logger.info("waiting for a Dask worker")
            self.client.wait_for_workers(1)
            workers = self.client.scheduler_info(n_workers=-1)["workers"]
        cpus = [w.get("resources", {}).get("cpu") for w in workers.values()]
        cpus = [int(c) for c in cpus if c]
        if not cpus:
            if not self._warned:
                logger.warning("no Dask worker declares a cpu resource "
                               "(dask worker --resources cpu=N): code_cpu is not enforced")
                self._warned = True
            return None
        return max(cpus)

    def run(self, plans: Sequence[RunPlan], tree: MissionTree) -> Iterator[RunResult]:
        if not plans:
            return
        cap = self.cpu_cap()
        pending = {}
        batches: dict[int | None, list] = {}  # one client.map per cpu request
        for plan in plans:
            workdir = tree.rootdir / WORK / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            output = workdir / plan.output_name if plan.output_name else None
            command = build_command(plan, tree, output)
            cpu = max(1, min(plan.cpu, cap)) if cap else None
            batches.setdefault(cpu, []).append((plan, command, workdir))
        for cpu, batch in batches.items():
            futures = self.client.map(
                run_attempt, [c for _, c, _ in batch], [str(w) for _, _, w in batch],
                [p.timeout for p, _, _ in batch], pure=False, retries=1,
                key=[f"run-{p.process_name}-{p.date:%Y%m%d}-{w.name}" for p, _, w in batch],
                resources={"cpu": cpu} if cpu else None)
            for future, (plan, command, workdir) in zip(futures, batch, strict=True):
                pending[future.key] = (future, plan, command, workdir)
        done = []  # released together at the end: one message, not one per run
        try:
            # Only the news that a task finished comes through Dask; what the run
            # gave is read from the shared filesystem (task.py): no result fetched.
            for future in as_completed([f for f, *_ in pending.values()],
                                       loop=self.client.loop):
                _, plan, command, workdir = pending.pop(future.key)
                done.append(future)
                if future.status == "finished":
                    yield _finished_run(plan, command, workdir)
                elif future.status == "cancelled":
                    raise ExecutorLost(f"lost the Dask scheduler "
                                       f"({len(pending) + 1} run(s) not finished)")
                else:
                    yield _lost_run(plan, command, workdir, future.exception())
        finally:
            left = [f for f, *_ in pending.values()] + done
            if left and self.client.status == "running":
                self.client.cancel(left)


def _finished_run(plan: RunPlan, command: list[str], workdir: Path) -> RunResult:
    outcome = read_outcome(workdir)
    if outcome is None:
        return RunResult(plan, tuple(command), None, "", 0.0, False, workdir, None, utcnow(),
                         problem=f"the Dask task finished but left no {outcome_path(workdir)}")
    ran, attempt, done = outcome
    output = attempt / plan.output_name if plan.output_name else None
    return result_of(plan, ran, done, attempt, output)


def _lost_run(plan: RunPlan, command: list[str], workdir: Path, exc: BaseException) -> RunResult:
    """The result of a task that did not come back: its worker died (twice), or it raised."""
    if type(exc).__name__ == "KilledWorker":
        problem = "its Dask worker died while running it, and again on the retry"
    else:
        problem = f"the Dask task failed: {type(exc).__name__}: {exc}"
    return RunResult(plan, tuple(command), None, f"{exc}\n", 0.0, False, workdir, None,
                     utcnow(), problem=problem)


def jobqueue_cluster(kind: str, **options: Any) -> Any:
    """A dask-jobqueue SLURMCluster or PBSCluster from dask's configuration
    (``jobqueue.slurm`` / ``jobqueue.pbs``; *options* override it), whose
    workers declare their cores as the ``cpu`` resource."""
    from dask_jobqueue import PBSCluster, SLURMCluster
    cls = {"slurm": SLURMCluster, "pbs": PBSCluster}[kind]
    cores = options.get("cores") or dask.config.get(f"jobqueue.{kind}.cores", None)
    processes = options.get("processes") or dask.config.get(f"jobqueue.{kind}.processes", None)
    if not cores:
        raise UsageError(f"--scheduler {kind}: set jobqueue.{kind}.cores in the Dask "
                         f"configuration (~/.config/dask/jobqueue.yaml)")
    if not processes:  # one worker per job, its threads only wait on codes
        options["processes"] = processes = 1
    per_worker = max(1, int(cores) // int(processes))
    extra = list(options.pop("worker_extra_args", None)
                 or dask.config.get(f"jobqueue.{kind}.worker-extra-args", None) or [])
    if "--resources" not in extra:
        extra += ["--resources", f"cpu={per_worker}"]
    with dask.config.set(SCHEDULER_CONFIG):
        return cls(worker_extra_args=extra, **options)


@contextmanager
def open_dask(*, slots: int, scheduler: str | None) -> Iterator[DaskExecutor]:
    """Start (or reach) the cluster, yield its executor, shut down what was started."""
    cluster = None
    with dask.config.set(SCHEDULER_CONFIG):
        if scheduler in JOBQUEUES:
            cluster = jobqueue_cluster(scheduler)
            cluster.scale(jobs=slots)
        elif not scheduler:
            cluster = LocalCluster(n_workers=slots, threads_per_worker=1, processes=True,
                                   resources={"cpu": 1}, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        try:
            client = Client(cluster if cluster is not None else scheduler,
                            timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, ValueError, TypeError) as exc:
            if cluster is not None:
                cluster.close()
            raise UsageError(f"--scheduler {scheduler}: cannot reach it: {exc}") from None
    logger.info("Dask executor on %s", client.scheduler.address)
    try:
        yield DaskExecutor(client)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
