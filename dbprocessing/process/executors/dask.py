"""The Dask executor: each plan a task on a ``distributed`` cluster.

The controller builds each plan's command line (its output under a work
directory in ``rootdir/.work``, which must be the same path on every worker:
a shared filesystem) and submits ``task.run_attempt`` with it, one
``client.map`` per cpu request; the worker runs it without a shell,
enforces the timeout and leaves exit code, timings and captured output in a
JSON file in the wave's outbox directory (``.work/dask-*``).  The tasks are
fire-and-forget: the client holds no future, so the scheduler sends it
nothing per task (a message per task cost the controller's event loop about
0.3 ms).  The controller learns that a run finished by finding its file in
the outbox, looked at every few milliseconds, and records the output
exactly as for a local run (the runs finishing close together in one
transaction: the results' ``wait``, as the local runner's).  A code's ``code_cpu`` is a request for the
workers' ``cpu`` resource (capped at the largest worker's), so heavy codes
do not pile onto one worker.

Faults: a task whose worker dies is run once more elsewhere, then given up
by the scheduler (its ``allowed-failures`` = 1; ``retries=1`` covers an
error of the task itself).  Once a second the controller asks the scheduler
which of the runs still out it knows; a task it has forgotten (finished or
given up) that left no file within ``LOST_AFTER`` is reported failed.  A
lost scheduler (the client no longer running): ``run`` yields what finished,
asks nothing more, and raises ``ExecutorLost``; the tasks still out are
cancelled whenever ``run`` ends early.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import uuid
from collections.abc import Generator, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
from distributed import Client, Future, fire_and_forget

from ...errors import ExecutorLost, UsageError
from ...lock import utcnow
from ...mission.tree import MissionTree
from ..planner import RunPlan
from ..runner import WORK, RunResult, build_command, result_of
from . import JOBQUEUES
from .dask_cluster import CLUSTER_CONFIG, local_cluster
from .dask_cluster import SCHEDULER_CONFIG as SCHEDULER_CONFIG  # its home before
from .task import read_outcome, run_attempt

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = "30s"
POLL = (0.002, 0.05)  # seconds between looks in the outbox: after a find, and at most
CHECK_EVERY = 1.0     # seconds between asking the scheduler about the tasks still out
CHECK_TIMEOUT = 30.0  # seconds that question may take (a scheduler's host gone silent)
# A task the scheduler no longer knows, with no outcome file this long, failed.  The
# grace covers a graph the scheduler has not registered yet and a shared filesystem
# that shows a new file late.
LOST_AFTER = 10.0
LOST_WORKER = ("its Dask worker died while running it, and again on the retry "
               "(or the task could not run there: see the workers' logs)")


@dataclass
class _Run:
    plan: RunPlan
    command: list[str]
    workdir: Path
    key: str
    gone_since: float | None = None  # when the scheduler was first seen not knowing it


class _Wave:
    """A wave's runs still out, by the name of their outcome file in the outbox,
    and the names found there and not yet taken."""

    def __init__(self) -> None:
        self.pending: dict[str, _Run] = {}
        self.outbox = Path()
        self.ready: list[str] = []

    def scan(self) -> bool:
        """Whether a finished run can be taken (the outbox looked at when none is known)."""
        if not self.ready and self.pending:
            with os.scandir(self.outbox) as entries:
                self.ready = [e.name for e in entries if e.name in self.pending]
        return bool(self.ready)

    def take(self) -> RunResult:
        name = self.ready.pop()
        return _finished_run(self.pending.pop(name), self.outbox / name)


class WaveResults(Iterator[RunResult]):
    """What ``DaskExecutor.run`` gives: the wave's results as runs finish, and
    ``wait(timeout)``, whether another has finished, looking in the outbox for
    at most *timeout* seconds (not at all once none is left running), so that
    the pipeline records runs finishing close together in one transaction."""

    def __init__(self, wave: _Wave, results: Generator[RunResult, None, None]) -> None:
        self._wave, self._results = wave, results

    def __next__(self) -> RunResult:
        return next(self._results)

    def close(self) -> None:
        """Stop early: the tasks still out are cancelled."""
        self._results.close()

    def wait(self, timeout: float) -> bool:
        wave = self._wave
        if wave.scan():
            return True
        if timeout <= 0 or not wave.pending:
            return False
        # A look every POLL[1] (a few times in the pipeline's HOLD): whatever finished by
        # then joins the batch, held that long anyway; few looks, little controller CPU.
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, POLL[1]))
            if wave.scan():
                return True
        return False


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

    def run(self, plans: Sequence[RunPlan], tree: MissionTree) -> WaveResults:
        wave = _Wave()
        return WaveResults(wave, self._run(plans, tree, wave))

    def _run(self, plans: Sequence[RunPlan], tree: MissionTree,
             wave: _Wave) -> Generator[RunResult, None, None]:
        if not plans:
            return
        if self.client.status != "running":  # lost since the last wave
            raise ExecutorLost(f"lost the Dask scheduler ({len(plans)} run(s) not started)")
        cap = self.cpu_cap()
        outbox = wave.outbox = tree.rootdir / WORK / f"dask-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        outbox.mkdir(parents=True)
        pending = wave.pending  # by the name of its outcome file in the outbox
        batches: dict[int | None, list[_Run]] = {}  # one client.map per cpu request
        for plan in plans:
            workdir = tree.rootdir / WORK / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            output = workdir / plan.output_name if plan.output_name else None
            run = _Run(plan, build_command(plan, tree, output), workdir,
                       f"run-{plan.process_name}-{plan.date:%Y%m%d}-{workdir.name}")
            pending[f"{workdir.name}.json"] = run
            cpu = max(1, min(plan.cpu, cap)) if cap else None
            batches.setdefault(cpu, []).append(run)
        try:
            for cpu, batch in batches.items():
                futures = self.client.map(
                    run_attempt, [r.command for r in batch], [str(r.workdir) for r in batch],
                    [r.plan.timeout for r in batch],
                    [str(outbox / f"{r.workdir.name}.json") for r in batch],
                    key=[r.key for r in batch], pure=False, retries=1,
                    resources={"cpu": cpu} if cpu else None)
                fire_and_forget(futures)  # the client lets go of them: no news per task
                del futures
            yield from self._collect(wave)
        finally:
            if pending and self.client.status == "running":
                self._cancel([r.key for r in pending.values()])
            shutil.rmtree(outbox, ignore_errors=True)

    def _collect(self, wave: _Wave) -> Iterator[RunResult]:
        """Yield each run as its outcome file appears; the runs the scheduler gave
        up as failed; raise ExecutorLost once the scheduler is gone."""
        wait, next_check = POLL[0], time.monotonic() + CHECK_EVERY
        while wave.pending:
            if self.client.status != "running":
                while wave.scan():  # what finished is recorded
                    yield wave.take()
                raise ExecutorLost(f"lost the Dask scheduler ({len(wave.pending)} run(s) "
                                   f"not finished)")
            if wave.scan():
                yield wave.take()
                wait = POLL[0]
                continue
            time.sleep(wait)
            wait = min(2 * wait, POLL[1])
            now = time.monotonic()
            if now >= next_check:
                next_check = now + CHECK_EVERY
                yield from self._check(wave, now)

    def _check(self, wave: _Wave, now: float) -> Iterator[RunResult]:
        """Ask the scheduler which runs still out it knows; yield those it forgot
        that left an outcome (a late view of the outbox) or none for LOST_AFTER."""
        pending, outbox = wave.pending, wave.outbox
        try:
            states = self.client.sync(self.client.scheduler.get_task_status,
                                      keys=[r.key for r in pending.values()],
                                      callback_timeout=CHECK_TIMEOUT)
        except OSError:  # TimeoutError included
            return  # the scheduler is gone: the client's status says so next
        for name, run in list(pending.items()):
            if name not in pending or name in wave.ready:  # taken, or found by wait()
                continue
            if states.get(run.key) is not None:
                run.gone_since = None
                continue
            path = outbox / name
            if path.exists():
                yield _finished_run(pending.pop(name), path)
                continue
            if run.gone_since is None:
                run.gone_since = now
            elif now - run.gone_since >= LOST_AFTER:
                yield _lost_run(pending.pop(name))

    def _cancel(self, keys: list[str]) -> None:
        """Cancel tasks nobody holds: a future made for each key only to name it,
        and force, which lets go of the fire-and-forget hold too."""
        self.client.cancel([Future(key, self.client) for key in keys], force=True,
                           reason="the controller stopped",
                           msg="dbprocessing stopped before these runs finished")


def _finished_run(run: _Run, path: Path) -> RunResult:
    plan = run.plan
    outcome = read_outcome(path)
    if outcome is None:
        return RunResult(plan, tuple(run.command), None, "", 0.0, False, run.workdir, None,
                         utcnow(), problem=f"the Dask task left no {path}")
    ran, attempt, done = outcome
    output = attempt / plan.output_name if plan.output_name else None
    return result_of(plan, ran, done, attempt, output)


def _lost_run(run: _Run) -> RunResult:
    """The result of a task that ended without an outcome: its worker died twice."""
    return RunResult(run.plan, tuple(run.command), None, f"{LOST_WORKER}\n", 0.0, False,
                     run.workdir, None, utcnow(), problem=LOST_WORKER)


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
    with dask.config.set(CLUSTER_CONFIG):
        return cls(worker_extra_args=extra, **options)


@contextmanager
def open_dask(*, slots: int, scheduler: str | None) -> Iterator[DaskExecutor]:
    """Start (or reach) the cluster, yield its executor, shut down what was started."""
    with ExitStack() as stack:
        cluster, given = None, scheduler
        if not scheduler:  # a cluster in a child process, reached by its address
            scheduler = stack.enter_context(local_cluster(slots))
        with dask.config.set(CLUSTER_CONFIG):
            if scheduler in JOBQUEUES:
                cluster = jobqueue_cluster(scheduler)
                stack.callback(cluster.close)
                cluster.scale(jobs=slots)
            try:
                client = Client(cluster if cluster is not None else scheduler,
                                timeout=CONNECT_TIMEOUT, set_as_default=False)
            except (OSError, ValueError, TypeError) as exc:
                what = f"--scheduler {given}" if given else "the Dask cluster started"
                raise UsageError(f"{what}: cannot reach it: {exc}") from None
        stack.callback(client.close)  # before the cluster's shut-down
        logger.info("Dask executor on %s", client.scheduler.address)
        yield DaskExecutor(client)
