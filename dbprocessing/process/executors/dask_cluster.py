"""The Dask cluster ``--executor dask`` starts when given no scheduler: a child process.

The controller runs only the Dask client.  The scheduler and the ``-n``
nannies run in one child process of the controller (a ``LocalCluster`` in
it), each worker in a process of its own under that child, so that their CPU
is not the controller's.  The child writes the scheduler's address on its
standard output once every worker has registered, then reads its standard
input: ``close`` asks for an orderly shut-down (the controller waits for it);
the end of the input, or its parent pid changing, means the controller died
(killed, even by SIGKILL), and the child exits at once, its workers with it
(each worker process exits when its nanny's process does: distributed's own
watch).  The child runs in a session of its own, so a Ctrl-C on the terminal
reaches only the controller, which then shuts the cluster down itself.

The configuration of the clusters dbprocessing starts (``CLUSTER_CONFIG``) is
set in the child, and the workers inherit it from their nannies.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from ...errors import ExecutorLost

# A task is retried once when its worker dies under it, then reported failed.
SCHEDULER_CONFIG = {"distributed.scheduler.allowed-failures": 1}
# For the clusters dbprocessing starts: their tasks only wait on codes, so the
# event loops' health tick, the memory and system monitors can be slower and the
# statistical profiler is off (an idle LocalCluster of two workers: about 13 ms of
# cpu a second instead of 60-80).  Recommended for a cluster started by hand too.
QUIET_CONFIG = {"distributed.admin.tick.interval": "1s",
                "distributed.worker.memory.monitor-interval": "1s",
                "distributed.admin.system-monitor.interval": "2s",
                "distributed.worker.profile.enabled": False}
CLUSTER_CONFIG = {**SCHEDULER_CONFIG, **QUIET_CONFIG}

START_TIMEOUT = 120.0  # seconds for the scheduler and every worker to come up
STOP_TIMEOUT = 30.0    # seconds for an orderly shut-down before the cluster is killed
PARENT_CHECK = 1.0     # seconds between the child's looks at its parent pid
# The child imports with the controller's sys.path (as multiprocessing's spawn
# does), not with its working directory first.
BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
        "from dbprocessing.process.executors.dask_cluster import main; "
        "sys.exit(main(sys.argv[2:]))")


@contextmanager
def local_cluster(slots: int) -> Iterator[str]:
    """Start the cluster of *slots* single-threaded workers (each a ``cpu``
    resource of 1) in a child process; yield the scheduler's address; shut it
    down and wait for it on leaving.  ExecutorLost if it does not come up."""
    child = subprocess.Popen(
        [sys.executable, "-c", BOOT, json.dumps(sys.path), "--workers", str(slots)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    try:
        try:
            address = _read_address(child, slots)
        except BaseException:
            _kill(child)
            raise
        try:
            yield address
        finally:  # on an error too: the tasks are cancelled, the workers let go
            if not _stop(child):
                _kill(child)
    finally:
        child.stdin.close()  # type: ignore[union-attr]
        child.stdout.close()  # type: ignore[union-attr]


def _read_address(child: subprocess.Popen, slots: int) -> str:
    out = child.stdout.fileno()  # type: ignore[union-attr]
    deadline, text = time.monotonic() + START_TIMEOUT, b""
    while b"\n" not in text:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ExecutorLost(f"the Dask cluster of {slots} worker(s) did not start "
                               f"within {START_TIMEOUT:.0f} s (nothing was run)")
        if select.select([out], [], [], left)[0]:
            chunk = os.read(out, 4096)
            if not chunk:
                code = child.wait()
                raise ExecutorLost(f"the Dask cluster of {slots} worker(s) did not start "
                                   f"(its process exited {code}; nothing was run)")
            text += chunk
    return text.decode().strip()


def _stop(child: subprocess.Popen) -> bool:
    """Ask the child to close the cluster; False if it did not within STOP_TIMEOUT."""
    with suppress(OSError):  # already gone: BrokenPipeError
        child.stdin.write(b"close\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    try:
        child.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False
    return True


def _kill(child: subprocess.Popen) -> None:
    """Kill the child and its workers (its process group) and reap the child."""
    with suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.wait()


def main(argv: list[str] | None = None) -> int:
    """The child: start the cluster, write its address, wait to be told to close."""
    parser = argparse.ArgumentParser(prog="dbprocessing-dask-cluster")
    parser.add_argument("--workers", type=int, required=True)
    args = parser.parse_args(argv)
    parent = os.getppid()
    # The pipes to the controller on descriptors of their own (not inherited by
    # the workers); 0 and 1, which the workers inherit, elsewhere.
    control, answer = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    os.close(devnull)

    import dask
    from distributed import LocalCluster

    dask.config.set(CLUSTER_CONFIG)  # this process's: the nannies pass it to the workers
    try:
        # No dashboard; the scheduler's HTTP server (health, metrics) still
        # listens, on a free port rather than 8787: two runs at once (or any
        # other Dask on the host) must not collide.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                               resources={"cpu": 1}, dashboard_address=None,
                               scheduler_kwargs={"dashboard_address": ":0"},
                               silence_logs=logging.ERROR)
    except Exception as exc:  # whatever stopped it, one line for the controller's stderr
        print(f"dbprocessing: the Dask cluster did not start: {exc!r}", file=sys.stderr)
        return 1
    os.write(answer, f"{cluster.scheduler_address}\n".encode())
    os.close(answer)
    if _wait_for_close(control, parent):
        cluster.close()
        return 0
    os._exit(1)  # the controller is gone: no orderly close; the workers follow


def _wait_for_close(control: int, parent: int) -> bool:
    """True when the controller writes ``close``; False when it is gone."""
    text = b""
    while True:
        if select.select([control], [], [], PARENT_CHECK)[0]:
            chunk = os.read(control, 64)
            if not chunk:
                return False
            text += chunk
            if b"close" in text:
                return True
        elif os.getppid() != parent:
            return False
