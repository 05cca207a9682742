"""Run: execute run plans as child processes (spec section 8, step 5).

Each run starts in an empty directory under ``rootdir/.work`` (the same
filesystem as the archive, so its output can be renamed into place
atomically); a recorded run's directory, emptied by the move, serves a later
run of the same ``run_plans``.  The
command line is the code, then ``extra_params`` (split on ``|``), then the
code's arguments (split on whitespace), then every input's full path, then
the output path (left out for RUN processes); ``{DATE}``, ``{ROOTDIR}``,
``{CODEDIR}`` and ``{CODEVERSION}`` are substituted.  No shell.  A ``.py``
code that is not executable runs under this Python.

Up to ``slots`` runs at once, a run taking ``cpu`` slots (capped at
``slots``).  Output is captured (up to 3 MiB whole, beyond that its first
and last MiB, so that a code stuck printing cannot fill the controller's
memory); a run past its timeout is killed with its whole process group.
Finished runs are handed back as they complete; waiting on children costs
no fixed sleep.  ``wait(timeout)`` of what ``run_plans``
returns says whether another run has finished, waiting at most *timeout*
seconds for one (not at all once none is left running), so that the
pipeline records runs finishing close together in one transaction.  When
the controller is interrupted while runs are left (Ctrl-C, SIGTERM, an error
recording a run), no further run starts and the running ones are killed with
their process groups: their queue entries stay, and the next run makes them.

This is the local executor; ``executors/`` chooses between it and Dask, whose
workers run ``run_in_workdir`` too.
"""
from __future__ import annotations

import datetime
import math
import os
import queue
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import DBProcessingError
from ..lock import utcnow

if TYPE_CHECKING:  # types only: ProcessQueue's idle check needs WORK, not the planner
    from ..mission.tree import MissionTree
    from .planner import RunPlan

WORK = ".work"
WATCH = 0.5  # seconds between asking run_in_workdir's *wanted* whether to go on
KEEP = 1 << 20  # bytes of a code's output kept from its start, and as many from its end
DRAIN = 5.0  # seconds to read what a killed code wrote (a child outside its group may hold on)


@dataclass(frozen=True)
class RunResult:
    plan: RunPlan
    command: tuple[str, ...]
    returncode: int | None
    output: str
    seconds: float
    timed_out: bool
    workdir: Path
    output_path: Path | None
    started_at: datetime.datetime  # UTC, when the code was started (for the event log)
    problem: str | None = None     # why it could not run at all (an executor's failure)

    @property
    def ok(self) -> bool:
        return (self.returncode == 0 and not self.timed_out and self.problem is None
                and (self.output_path is None or _regular_file(self.output_path)))

    def failure(self) -> str:
        if self.problem is not None:
            return self.problem
        if self.timed_out:
            return f"timed out after {self.plan.timeout:g} s and was killed"
        if self.returncode != 0:
            return f"exited with status {self.returncode}"
        return f"exited 0 but {_what_is_at(self.output_path)}"


def _regular_file(path: Path) -> bool:
    """Whether *path* is a file itself: not a symbolic link (the archive would hold
    the link, and its checksum would be of whatever it points to)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _what_is_at(path: Path | None) -> str:
    """Why the output at *path* is not one (a run's failure, in words)."""
    if path is None:
        return "made no output"
    if path.is_symlink():
        return f"its output is a symbolic link (to {os.readlink(path)}), not a file"
    if path.is_dir():
        return "its output is a directory, not a file"
    if path.exists():
        return "its output is not a regular file"
    try:
        left = sorted(entry.name for entry in os.scandir(path.parent))
    except OSError:
        left = []
    shown = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
    return "made no output file" + (f" (it left: {shown})" if left else "")


def _substitute(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def build_command(plan: RunPlan, tree: MissionTree, output_path: Path | None) -> list[str]:
    values = {"DATE": plan.date.strftime("%Y%m%d"), "ROOTDIR": str(tree.rootdir),
              "CODEDIR": str(plan.code_path.parent), "CODEVERSION": str(plan.code_version)}
    code = str(plan.code_path)
    # A .py code not there is started as it is: it then cannot start, and says so.
    command = ([code] if os.access(code, os.X_OK) or not code.endswith(".py")
               or not os.path.exists(code) else [sys.executable, code])
    command += [_substitute(p, values) for p in plan.extra_params.split("|") if p.strip()]
    command += [_substitute(a, values) for a in plan.code_arguments.split()]
    command += [str(i.path) for i in plan.inputs]
    if output_path is not None:
        command.append(str(output_path))
    return command


def clear_work(tree: MissionTree, keep: Collection[str] = ()) -> None:
    """Remove what killed runs left in the work directory (call holding the lock),
    but the run directories holding *keep* (outputs recorded, whose moves wait)."""
    work = tree.rootdir / WORK
    kept = {Path(path).relative_to(work).parts[0] for path in keep
            if Path(path).is_relative_to(work)}
    if not kept:
        shutil.rmtree(work, ignore_errors=True)
        return
    for entry in os.scandir(work):
        if entry.name in kept:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            os.unlink(entry.path)


class _Slots:
    def __init__(self, total: int) -> None:
        self.free = total
        self.total = total
        self.cond = threading.Condition()

    def take(self, n: int) -> int:
        n = min(n, self.total)
        with self.cond:
            self.cond.wait_for(lambda: self.free >= n)
            self.free -= n
        return n

    def give(self, n: int) -> None:
        with self.cond:
            self.free += n
            self.cond.notify_all()


@dataclass(frozen=True)
class Completed:
    """What running one command line gave (plain values: a Dask worker returns it)."""

    returncode: int | None
    output: str
    seconds: float
    timed_out: bool
    started_at: datetime.datetime
    problem: str | None = None  # why the code could not be started at all


class Stopped(Exception):
    """The runs were stopped (``Children.stop``) before this one started."""


class Children:
    """The codes running now, so that the runs can be stopped: once ``stop`` is
    called none starts and those running are killed, each with its process group
    (a code runs in a session of its own, so a terminal's Ctrl-C does not reach
    it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self.stopped = False

    def start(self, command: Sequence[str], workdir: Path) -> subprocess.Popen:
        if self.stopped:
            raise Stopped
        child = _start(command, workdir)
        with self._lock:  # (codes start outside it: several at once)
            if self.stopped:  # stopped while it started: it ends at once
                _kill_group(child)
            else:
                self._running.add(child)
        return child

    def ended(self, child: subprocess.Popen) -> None:
        with self._lock:
            self._running.discard(child)

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            for child in self._running:
                _kill_group(child)


def _start(command: Sequence[str], workdir: Path) -> subprocess.Popen:
    """Start a code (no shell) in *workdir*, in a session of its own, output captured."""
    return subprocess.Popen(list(command), cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)


def _kill_group(child: subprocess.Popen) -> None:
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_in_workdir(command: Sequence[str], workdir: Path, timeout: float | None,
                   children: Children | None = None,
                   wanted: Callable[[], bool] | None = None) -> Completed:
    """Run *command* (no shell) in *workdir* with captured output; past *timeout*
    seconds kill its whole process group.  With *children*, the code is one of
    them while it runs (Stopped: they were stopped before it started).  With
    *wanted*, asked every WATCH seconds while the code runs, the code is killed
    as soon as it says False (nobody waits for the run any more)."""
    began = time.monotonic()
    started_at = utcnow()
    try:
        child = (_start(command, workdir) if children is None
                 else children.start(command, workdir))
    except OSError as exc:
        reason = f"cannot start the code: {exc.strerror or exc}" + (
            f": {exc.filename}" if exc.filename else "")
        return Completed(127, f"{reason}\n", time.monotonic() - began, False, started_at,
                         reason)
    try:
        output, timed_out = _follow(child, None if timeout is None else began + timeout,
                                    wanted)
    finally:
        if children is not None:
            children.ended(child)
    return Completed(child.returncode, output, time.monotonic() - began, timed_out,
                     started_at)


class _Output:
    """A code's captured output: all of it up to 3 x KEEP bytes, else its first and
    last KEEP bytes (a code stuck printing must not fill the controller's memory)."""

    def __init__(self) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        room = KEEP - len(self.head)
        if room > 0:
            self.head += chunk[:room]
            chunk = chunk[room:]
        self.tail += chunk
        if len(self.tail) > 2 * KEEP:
            cut = len(self.tail) - KEEP
            del self.tail[:cut]
            self.dropped += cut

    def text(self) -> str:
        if not self.dropped:
            return bytes(self.head + self.tail).decode("utf-8", "replace")
        tail = self.tail[-KEEP:]
        middle = f"\n[... {self.dropped + len(self.tail) - len(tail)} bytes of output " \
                 f"left out ...]\n"
        return bytes(self.head + middle.encode() + tail).decode("utf-8", "replace")


def _follow(child: subprocess.Popen, deadline: float | None,
            wanted: Callable[[], bool] | None) -> tuple[str, bool]:
    """Read *child*'s output until it ends; past *deadline*, or once *wanted* (asked
    every WATCH seconds) says False, kill its process group.  Return the output
    and whether it timed out.  The end of the code is seen through a pidfd where
    the kernel has them (no polling of waitpid, which costs a run a millisecond
    when it has a timeout)."""
    assert child.stdout is not None
    output, fd = _Output(), child.stdout.fileno()
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    try:
        pidfd: int | None = os.pidfd_open(child.pid)
    except (AttributeError, OSError):  # not Linux 5.3 or newer
        pidfd = None
    reading, timed_out = True, False
    next_ask = None if wanted is None else time.monotonic() + WATCH
    try:
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                timed_out = True
                break
            if wanted is not None and next_ask is not None and now >= next_ask:
                if not wanted():
                    break
                next_ask = now + WATCH
            limits = [t - now for t in (deadline, next_ask) if t is not None]
            wait = min(limits) if limits else None
            if reading:  # until end of file: the code and whatever inherited its output
                if poller.poll(None if wait is None else math.ceil(wait * 1000)):
                    chunk = os.read(fd, 65536)
                    if chunk:
                        output.add(chunk)
                    else:
                        reading = False
                        poller.unregister(fd)
                        if pidfd is not None:
                            poller.register(pidfd, select.POLLIN)
                continue
            # The output closed: the code itself may still run.
            if pidfd is not None:
                if not poller.poll(None if wait is None else math.ceil(wait * 1000)):
                    continue
                child.wait()  # it has ended: at once
                return output.text(), False
            try:
                child.wait(timeout=wait)
                return output.text(), False
            except subprocess.TimeoutExpired:
                continue
        _kill_group(child)
        ends = time.monotonic() + DRAIN  # what it wrote before it was killed
        while reading and (left := ends - time.monotonic()) > 0 \
                and poller.poll(math.ceil(left * 1000)):
            chunk = os.read(fd, 65536)
            reading = bool(chunk)
            output.add(chunk)
        child.wait()
        return output.text(), timed_out
    finally:
        child.stdout.close()
        if pidfd is not None:
            os.close(pidfd)


def result_of(plan: RunPlan, command: Sequence[str], done: Completed, workdir: Path,
              output_path: Path | None) -> RunResult:
    return RunResult(plan, tuple(command), done.returncode, done.output, done.seconds,
                     done.timed_out, workdir, output_path, done.started_at, done.problem)


def make_work(tree: MissionTree) -> None:
    """Make ``rootdir/.work`` (where every code runs), or say why it cannot be."""
    work = tree.rootdir / WORK
    try:
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DBProcessingError(f"cannot make the work directory {work}, where codes run: "
                                f"{exc.strerror or exc}") from None


def new_workdir(tree: MissionTree) -> Path:
    """A fresh, unique work directory name under ``rootdir/.work`` (not created)."""
    return tree.rootdir / WORK / f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


class _WorkDirs:
    """The work directories of one ``run_plans``, reused: a finished run's
    directory, empty once the pipeline has moved its output into the archive,
    is handed to a later run instead of being removed and another made (a
    directory freed and another allocated per run cost the controller as much
    kernel time as starting the code, on ext4 under the churn of a run)."""

    def __init__(self, tree: MissionTree) -> None:
        self.tree = tree
        self.free: queue.SimpleQueue[Path] = queue.SimpleQueue()
        self.closed = False

    def take(self) -> Path:
        try:
            return self.free.get_nowait()
        except queue.Empty:
            workdir = new_workdir(self.tree)
            workdir.mkdir(parents=True)
            return workdir

    def give_back(self, workdir: Path) -> None:
        """Keep *workdir* for another run if it is empty and runs are still to
        start; remove it otherwise."""
        if not self.closed:
            try:
                with os.scandir(workdir) as entries:
                    empty = next(entries, None) is None
            except OSError:
                empty = False
            if empty:
                self.free.put(workdir)
                return
        discard(workdir)

    def close(self) -> None:
        """No run left to start: remove the directories kept."""
        self.closed = True
        while True:
            try:
                discard(self.free.get_nowait())
            except queue.Empty:
                return


def discard(workdir: Path) -> None:
    """Remove a run's work directory (nearly always empty: the output was moved out)."""
    try:
        workdir.rmdir()
    except OSError:
        shutil.rmtree(workdir, ignore_errors=True)


def _execute(plan: RunPlan, workdirs: _WorkDirs, slots: _Slots,
             children: Children) -> RunResult:
    if children.stopped:
        raise Stopped
    tree = workdirs.tree
    workdir = workdirs.take()
    output_path = workdir / plan.output_name if plan.output_name else None
    command = build_command(plan, tree, output_path)
    taken = slots.take(plan.cpu)
    try:
        done = run_in_workdir(command, workdir, plan.timeout, children)
    finally:
        slots.give(taken)
    return result_of(plan, command, done, workdir, output_path)


class FinishedRuns(Iterator[RunResult]):
    """The results of ``run_plans`` as runs finish; ``wait(timeout)`` says
    whether another can be taken, waiting for one at most *timeout* seconds
    (the pipeline records those together); ``release(result)``, once a
    result is recorded, removes its work directory or keeps it for a run yet
    to start."""

    def __init__(self, plans: Iterable[RunPlan], tree: MissionTree, slots: int) -> None:
        self._finished: queue.SimpleQueue[Future] = queue.SimpleQueue()
        self._held: Future | None = None  # taken off the queue by wait(), not yet yielded
        self._left: int | None = None     # runs submitted and not yet yielded
        self._workdirs = _WorkDirs(tree)
        self._results = self._run(plans, slots)

    def release(self, result: RunResult) -> None:
        self._workdirs.give_back(result.workdir)

    def __next__(self) -> RunResult:
        return next(self._results)

    def wait(self, timeout: float) -> bool:
        if self._held is not None or not self._finished.empty():
            return True
        if not self._left or timeout <= 0:
            return False
        try:
            self._held = self._finished.get(timeout=timeout)
        except queue.Empty:
            return False
        return True

    def _take(self) -> RunResult:
        done, self._held = self._held, None
        if done is None:
            done = self._finished.get()
        assert self._left
        self._left -= 1
        return done.result()

    def _run(self, plans: Iterable[RunPlan], slots: int) -> Iterator[RunResult]:
        pool_slots = _Slots(slots)
        # Twice as many threads as slots: the next runs' work directories and
        # command lines are ready, waiting for a slot, when a run ends, so a slot
        # is idle only for the start of a process (about 0.45 ms less per run).
        children = Children()
        with ThreadPoolExecutor(max_workers=2 * slots) as pool:
            count = 0
            for plan in plans:
                pool.submit(_execute, plan, self._workdirs, pool_slots,
                            children).add_done_callback(self._finished.put)
                count += 1
            self._left = count
            # One blocking get per run: no polling, and no rescan of the pending runs
            # (concurrent.futures.wait would cost O(pending) per finished run).
            try:
                while self._left:
                    yield self._take()
            except BaseException:
                # Interrupted, or the results are no longer wanted: start no more
                # runs, kill those running, and wait only for their threads.
                children.stop()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            finally:
                self._workdirs.close()


def run_plans(plans: Iterable[RunPlan], tree: MissionTree, slots: int) -> FinishedRuns:
    """Run every plan, at most *slots* cpu at once; yield results as runs finish."""
    return FinishedRuns(plans, tree, slots)
