#!/usr/bin/env python3
"""Benchmark ``ProcessQueue -p``: runs per second, controller overhead, SQL per run.

Builds a mission of D days: two level-0 products (one file per day each), a
DAILY level-1 process taking one with yesterday = tomorrow = 1 and the other
same-day, a FILE level-2 process, and a RUN process on level 2; codes are tiny
Python scripts.  Ingests, then runs ``ProcessQueue -p -n 2`` in-process and
prints, beside it, the wall time of a bare runner executing the very same
command lines with the same parallelism (the physical limit).

    python benchmarks/process.py --days 200 [--days 800] [--repeat 3] [--postgres URL]
    python benchmarks/process.py --days 200 --executor local --executor dask

Each of ``--repeat`` rounds measures every case (days, executor, backend)
once on a fresh mission, each run followed by the bare runner on its command
lines; it prints the median and range over the rounds of the wall time, the
wall/bare ratio (paired run by run), the controller's CPU per run (its own
process: ``RUSAGE_SELF``, the codes excluded) and statements per run, and,
paired by round, the ratios of each other case to local SQLite.

``--executor dask`` runs the same processing on a cluster of ``-n`` worker
processes started by the command (its start-up is in the wall time; its
scheduler and nannies run in a child process of the controller, the workers
under it: their CPU is sampled apart, see ``ClusterSampler``);
``--executor dask-address`` on a scheduler and ``-n`` workers started
beforehand in processes of their own, reached by address, as on a cluster.
In both the controller is only the Dask client, and the scheduler's and
workers' CPU (the codes excluded) is printed beside the controller's.

Targets (issue 4) at D = 200 on SQLite: controller overhead <= 2 ms per run
(wall time within 1.25x of the bare runner), <= 10 SQL statements per run;
D = 800 within 4.4x the time of D = 200.  Issue 13: controller CPU <= 2 ms
per run and wall <= 1.15x the bare runner at D = 200 and 800; PostgreSQL
within 1.5x of SQLite.  Issue 12: Dask within 1.5x of local, its controller
CPU per run no higher.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from dbprocessing.cli import add_from_config, create_db, process_queue

PLUGIN = '''
import datetime
from dbprocessing import inspector

class Inspector(inspector.inspector):
    code_name = '{prefix}.py'

    def inspect(self, kwargs):
        if not self.basename.startswith('{prefix}_'):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
        self.diskfile.params['version'] = inspector.extract_Version(self.basename)
        return True
'''
CODE = "#!{python}\nimport sys\nopen(sys.argv[-1], 'w').write(str(len(sys.argv)) + '\\n')\n"
RUN_CODE = "#!{python}\nimport sys\nsum(1 for name in sys.argv[1:] for _ in open(name))\n"


def product(key: str, level: int) -> str:
    return f"""
[product_{key}]
product_name = {key}
relative_path = {key}/{{Y}}
level = {level}
format = {key}_{{Y}}{{m}}{{d}}_v{{VERSION}}.dat
inspector_filename = {key}.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01
"""


def process(name: str, output: str, timebase: str, inputs: str, code: str) -> str:
    return f"""
[process_{name}]
process_name = {name}
output_product = {output}
output_timebase = {timebase}
{inputs}
code_filename = {code}
code_relative_path = .
code_start_date = 1950-01-01
code_stop_date = 2090-12-31
code_version = 1.0.0
code_date_written = 2025-01-01
"""


def build(root: Path, url: str, days: int) -> None:
    build_config(root, url)
    start = datetime.date(2020, 1, 1)
    for i in range(days):
        day = start + datetime.timedelta(days=i)
        for key in ("l0a", "l0b"):
            (root / "incoming" / f"{key}_{day:%Y%m%d}_v1.0.0.dat").write_text(f"{i}\n")
    assert quiet(process_queue.main, ["-i", "-m", url, "-q"]) == 0


def build_config(root: Path, url: str) -> None:
    """The mission's directories, plugins, codes and config, loaded into *url*."""
    for sub in ("inspectors", "codes", "incoming"):
        (root / sub).mkdir(parents=True)
    text = ("[mission]\nmission_name = bench\nrootdir = .\nincoming_dir = incoming\n"
            "codedir = codes\ninspectordir = inspectors\n\n[satellite]\nsatellite_name = s\n\n"
            "[instrument]\ninstrument_name = i\n")
    for key, level in (("l0a", 0), ("l0b", 0), ("l1", 1), ("l2", 2)):
        text += product(key, level)
        (root / "inspectors" / f"{key}.py").write_text(PLUGIN.format(prefix=key))
    text += process("make_l1", "product_l1", "DAILY",
                    "required_input1 = (\"product_l0a\", 1, 1)\nrequired_input2 = product_l0b",
                    "code.py")
    text += process("make_l2", "product_l2", "FILE", "required_input1 = product_l1", "code.py")
    text += process("report", "", "RUN", "required_input1 = product_l2", "run.py")
    (root / "bench.conf").write_text(text)
    for name, body in (("code.py", CODE), ("run.py", RUN_CODE)):
        path = root / "codes" / name
        path.write_text(body.format(python=sys.executable))
        path.chmod(0o755)
    quiet(add_from_config.main, ["-m", url, str(root / "bench.conf")])


def quiet(func, argv) -> int:
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        return func(argv)
    finally:
        sys.stdout.close()
        sys.stdout = saved


def command_lines(url: str, root: Path) -> list[list[str]]:
    """The command lines the controller ran, rebuilt from provenance and the RUN step."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT filename, verbose_provenance FROM file WHERE verbose_provenance IS NOT NULL"
        )).all()
    engine.dispose()
    commands = [shlex.split(provenance) for _, provenance in rows]
    for name, _ in rows:
        if name.startswith("l2_"):
            commands.append([str(root / "codes" / "run.py"),
                             str(root / "l2" / name[3:7] / name)])
    return commands


def bare_runner(commands: list[list[str]], slots: int) -> float:
    """Wall time to run the same command lines, *slots* at a time, outputs to a scratch dir."""
    with tempfile.TemporaryDirectory() as scratch:
        def one(command: list[str]) -> None:
            if command[0].endswith("code.py"):
                command = command[:-1] + [str(Path(scratch) / f"{uuid.uuid4().hex}.out")]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.STDOUT)

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=slots) as pool:
            list(pool.map(one, commands))
        return time.perf_counter() - began


@contextlib.contextmanager
def dask_cluster(root: Path, slots: int):
    """A scheduler and *slots* single-threaded workers in processes of their own;
    yield the scheduler's address and a function giving the CPU seconds the
    scheduler, the nannies and the workers have used so far (the codes, their
    children, excluded)."""
    import psutil
    from distributed import Client
    address_file = root / "scheduler.json"
    # The settings docs/scaling.md recommends, as environment variables.
    from dbprocessing.process.executors.dask import CLUSTER_CONFIG
    env = dict(os.environ, **{
        "DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
        for key, value in CLUSTER_CONFIG.items()})
    procs = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler",
                               "--port", "0", "--no-dashboard", "--scheduler-file",
                               str(address_file)], env=env, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
             str(address_file), "--nworkers", str(slots), "--nthreads", "1",
             "--resources", "cpu=1", "--no-dashboard"], env=env, stderr=subprocess.DEVNULL))
        while not address_file.exists():
            time.sleep(0.1)
        # Closed before the measurement: only the controller's client is in this process.
        with Client(scheduler_file=str(address_file)) as client:
            client.wait_for_workers(slots)
            # Warm, as the workers of a long-lived cluster are: the task's module
            # (its import of the runner brings SQLAlchemy) is loaded before the timing.
            client.run(exec, "import dbprocessing.process.executors.task")
            address = client.scheduler.address
        cluster = [psutil.Process(p.pid) for p in procs]
        cluster += [c for p in list(cluster) for c in p.children(recursive=True)]

        def cluster_cpu() -> float:
            total = 0.0
            for proc in cluster:
                with contextlib.suppress(psutil.Error):
                    times = proc.cpu_times()
                    total += times.user + times.system
            return total
        yield address, cluster_cpu
    finally:
        for proc in reversed(procs):
            proc.terminate()
            proc.wait()


class ClusterSampler:
    """The CPU of the Dask cluster the command starts in a child process: that
    child (scheduler and nannies) and its own children (the workers; the codes
    are theirs, one level further down, and are not counted), read every
    ``every`` seconds on a thread of its own while the command runs.  The
    last reading of each process is kept, so the final moments of each (at
    most ``every`` seconds) are missed: a lower bound.  The thread's own CPU,
    which is the benchmark's and not the controller's, is reported so that
    it can be taken out of the controller's."""

    def __init__(self, every: float = 0.1) -> None:
        import psutil
        self.psutil, self.every = psutil, every
        self.seen: dict[int, float] = {}
        self.thread_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ClusterSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def cpu(self) -> float:
        return sum(self.seen.values())

    def _run(self) -> None:
        psutil, me = self.psutil, self.psutil.Process()
        while True:
            for host in me.children():
                with contextlib.suppress(psutil.Error):
                    if "dask_cluster" not in " ".join(host.cmdline()):
                        continue
                    for proc in [host, *host.children()]:
                        with contextlib.suppress(psutil.Error):
                            times = proc.cpu_times()
                            self.seen[proc.pid] = times.user + times.system
            self.thread_cpu = time.thread_time()
            if self._stop.wait(self.every):
                return


def measure(url: str, root: Path, days: int, slots: int, executor: str = "local") -> dict:
    build(root, url, days)
    with contextlib.ExitStack() as stack:
        if executor == "dask-address":
            address, cluster_cpu = stack.enter_context(dask_cluster(root, slots))
            argv = ["--executor", "dask", "--scheduler", address]
            return _measure(url, root, days, slots, executor, argv, cluster_cpu)
        argv = ["--executor", executor]
        return _measure(url, root, days, slots, executor, argv)


def _measure(url: str, root: Path, days: int, slots: int, executor: str,
             argv: list[str], cluster_cpu=None) -> dict:
    count = {"n": 0}

    def counter(*_args) -> None:
        count["n"] += 1

    event.listen(sa.Engine, "before_cursor_execute", counter)
    os.environ["DBPROCESSING_LOG_DIR"] = str(root / "logs")
    cluster_before = cluster_cpu() if cluster_cpu else 0.0
    sampler = ClusterSampler() if executor == "dask" else contextlib.nullcontext()
    self_before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    try:
        with sampler:
            code = quiet(process_queue.main, ["-p", "-m", url, "-n", str(slots), "-q", *argv])
    finally:
        wall = time.perf_counter() - began
        event.remove(sa.Engine, "before_cursor_execute", counter)
    self_after = resource.getrusage(resource.RUSAGE_SELF)
    cluster = cluster_cpu() - cluster_before if cluster_cpu else None
    sampling = 0.0
    if isinstance(sampler, ClusterSampler):
        cluster, sampling = sampler.cpu(), sampler.thread_cpu
    if code != 0:
        raise SystemExit(f"ProcessQueue -p exited {code}")
    commands = command_lines(url, root)
    runs = len(commands)
    bare = bare_runner(commands, slots)
    cpu = (self_after.ru_utime - self_before.ru_utime
           + self_after.ru_stime - self_before.ru_stime) - sampling
    r = {"executor": executor, "days": days, "runs": runs, "wall": wall, "bare": bare,
         "rate": runs / wall, "cpu_per_run_ms": 1000 * cpu / runs,
         "overhead_per_run_ms": 1000 * (wall - bare) * slots / runs,
         "statements": count["n"] / runs}
    if cluster is not None:
        r["cluster_cpu_per_run_ms"] = 1000 * cluster / runs
    return r


def sqlite_url(root: Path) -> str:
    db = root / "bench.sqlite"
    quiet(create_db.main, [str(db)])
    return f"sqlite:///{db}"


def postgres_url(admin_url: str, *, create: bool = True) -> tuple[str, callable]:
    """A PostgreSQL schema of its own (created at head unless *create* is false)
    and the function that drops it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(admin_url).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    if create:
        quiet(create_db.main, [url])

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return url, drop


def _median(values: list[float]) -> float:
    return statistics.median(values)


def _spread(values: list[float], digits: int = 2) -> str:
    """The median and, over several rounds, the range: ``1.05 (0.98-1.12)``."""
    text = f"{_median(values):.{digits}f}"
    if len(values) > 1:
        text += f" ({min(values):.{digits}f}-{max(values):.{digits}f})"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, action="append",
                        help="days of data (repeatable; default 200 and 800)")
    parser.add_argument("-n", type=int, default=2, help="codes at once")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds; each measures every case once (default 3)")
    parser.add_argument("--postgres", default=os.environ.get("DBPROCESSING_TEST_POSTGRES_URL"))
    parser.add_argument("--executor", action="append",
                        choices=("local", "dask", "dask-address"),
                        help="where the codes run (repeatable; default local)")
    args = parser.parse_args()
    executors = args.executor or ["local"]
    results: dict[tuple[str, str, int], list[dict]] = {}
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
          flush=True)
    for round_ in range(args.repeat):
        for days in args.days or [200, 800]:
            for executor in executors:
                with tempfile.TemporaryDirectory(prefix="dbp_pbench_") as tmp:
                    root = Path(tmp) / "sqlite"
                    root.mkdir()
                    r = measure(sqlite_url(root), root, days, args.n, executor)
                results.setdefault(("sqlite", executor, days), []).append(r)
                _progress(round_, "sqlite", r)
                if args.postgres:
                    admin = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
                    url, drop = postgres_url(admin)
                    try:
                        with tempfile.TemporaryDirectory(prefix="dbp_pbench_") as tmp:
                            root = Path(tmp) / "pg"
                            root.mkdir()
                            r = measure(url, root, days, args.n, executor)
                    finally:
                        drop()
                    results.setdefault(("postgresql", executor, days), []).append(r)
                    _progress(round_, "postgresql", r)
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"\nmedian (range) of {args.repeat} round(s); wall/bare is paired: each run "
          f"against the bare runner right after it")
    print(f"{'backend':<11} {'executor':<12} {'days':>5} {'runs':>5} {'wall s':>20} "
          f"{'bare s':>20} {'wall/bare':>17} {'cpu ms/run':>17} {'stmt/run':>8} "
          f"{'Dask cluster cpu ms/run':>23}")
    for (backend, executor, days), rs in results.items():
        print(f"{backend:<11} {executor:<12} {days:>5} {rs[0]['runs']:>5} "
              f"{_spread([r['wall'] for r in rs]):>20} {_spread([r['bare'] for r in rs]):>20} "
              f"{_spread([r['wall'] / r['bare'] for r in rs]):>17} "
              f"{_spread([r['cpu_per_run_ms'] for r in rs]):>17} "
              f"{_median([r['statements'] for r in rs]):>8.1f} "
              f"{_spread([r.get('cluster_cpu_per_run_ms', 0.0) for r in rs]):>23}")
    _paired(results, executors, args.postgres is not None)
    return 0


def _progress(round_: int, backend: str, r: dict) -> None:
    print(f"round {round_ + 1}: {backend} {r['executor']} D={r['days']}: wall {r['wall']:.2f} s, "
          f"bare {r['bare']:.2f} s, {r['cpu_per_run_ms']:.2f} ms cpu/run, "
          f"{r['statements']:.1f} stmt/run"
          + (f", Dask scheduler and workers {r['cluster_cpu_per_run_ms']:.2f} ms cpu/run"
             if "cluster_cpu_per_run_ms" in r else ""), flush=True)


def _paired(results: dict, executors: list[str], postgres: bool) -> None:
    """Ratios of runs made in the same round: other executors and PostgreSQL
    against local SQLite."""
    lines = []
    for (backend, executor, days), rs in results.items():
        base = results.get(("sqlite", "local", days))
        if base is None or (backend, executor) == ("sqlite", "local"):
            continue
        pairs = list(zip(rs, base, strict=False))
        line = (f"{backend} {executor} / sqlite local, D={days}: wall "
                f"{_spread([a['wall'] / b['wall'] for a, b in pairs])}, controller cpu/run "
                f"{_spread([a['cpu_per_run_ms'] / b['cpu_per_run_ms'] for a, b in pairs])}")
        if "cluster_cpu_per_run_ms" in rs[0]:  # what the cluster adds, the codes excluded
            line += ", controller + Dask cluster cpu/run " + _spread(
                [(a['cpu_per_run_ms'] + a['cluster_cpu_per_run_ms']) / b['cpu_per_run_ms']
                 for a, b in pairs])
        lines.append(line)
    if lines:
        print("\npaired ratios, median (range) over rounds:")
        print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
