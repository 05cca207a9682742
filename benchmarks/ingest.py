#!/usr/bin/env python3
"""Benchmark ``ProcessQueue -i``: files per second and SQL statements per file.

Builds a mission of N small files over two products (one file per product per
day, trivial name-based plugins in the original's style), then runs the real
command (``process_queue.main``) and prints the figures.  With ``--prefill``
the archive first holds that many files already (rows inserted directly), to
show that the cost per file does not grow with the archive.

    python benchmarks/ingest.py                      # N=10000, SQLite, empty and 100k archive
    python benchmarks/ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1/test
    python benchmarks/ingest.py --n 2000 --prefill 0 --whole-process   # one whole process
    python benchmarks/ingest.py --n 2000 --prefill 0 --whole-process --baseline /tmp/old
        # paired: each run also made by the dbprocessing tree in /tmp/old (e.g.
        # ``git archive main dbprocessing | tar -x -C /tmp/old``), order alternating

With ``--postgres`` each attempt runs both backends (the order alternating) and
the PostgreSQL/SQLite ratios are printed attempt by attempt: wall time, this
process's CPU, and this process's CPU plus the server backends' (read from
``/proc`` when the server runs on this machine), which the machine's load moves
least.

Targets (issue 3): >= 2000 files/s on SQLite at N=10000, <= 3 statements per
file, and the same rate within 20% when the archive already holds 100000 files.
"""
from __future__ import annotations

import argparse
import datetime
import gc
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import Pool

from dbprocessing.cli import add_from_config, create_db, process_queue

PLUGIN = '''
import datetime
import re

from dbprocessing import inspector
from dbprocessing import Version


class Inspector(inspector.inspector):
    code_name = 'bench_{channel}.py'

    def inspect(self, kwargs):
        m = re.match(r'^bench_{channel}_(\\d{{8}})_v(\\d+\\.\\d+\\.\\d+)\\.dat$', self.basename)
        if m is None:
            return None
        day = datetime.datetime.strptime(m.group(1), '%Y%m%d')
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
        self.diskfile.params['version'] = Version.Version.fromString(m.group(2))
        return True
'''

CONFIG = """
[mission]
mission_name = bench
rootdir = .
incoming_dir = incoming
inspectordir = inspectors

[satellite]
satellite_name = sat

[instrument]
instrument_name = inst
"""

PRODUCT = """
[product_{channel}]
product_name = bench_{channel}
relative_path = {channel}/{{Y}}
level = 0
format = bench_{channel}_{{Y}}{{m}}{{d}}_v{{VERSION}}.dat
inspector_filename = bench_{channel}.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01
"""

START = datetime.date(1990, 1, 1)
# --whole-process: run ProcessQueue as a child process, start-up included
# (statements are then not counted).
WHOLE_PROCESS = False
# --baseline: the source tree the child imports dbprocessing from (None: ours).
SOURCE: str | None = None


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


class ServerCPU:
    """CPU seconds of the PostgreSQL backends of the connections opened while
    listening: each backend's ``/proc/PID/stat`` read when its connection opens
    and just before it closes (a server on this machine only; else 0)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start: dict[int, float] = {}

    @staticmethod
    def _cpu(pid: int) -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def connected(self, dbapi_connection, _record) -> None:
        pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
        if isinstance(pid, int) and (cpu := self._cpu(pid)) is not None:
            self._start[id(dbapi_connection)] = cpu
            dbapi_connection.bench_pid = pid

    def closing(self, dbapi_connection, _record) -> None:
        began = self._start.pop(id(dbapi_connection), None)
        if began is not None and (cpu := self._cpu(dbapi_connection.bench_pid)) is not None:
            self.seconds += cpu - began

    def __enter__(self) -> ServerCPU:
        event.listen(Pool, "connect", self.connected)
        event.listen(Pool, "close", self.closing)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(Pool, "connect", self.connected)
        event.remove(Pool, "close", self.closing)


def build(root: Path, url: str, n: int) -> None:
    (root / "inspectors").mkdir(parents=True)
    incoming = root / "incoming"
    incoming.mkdir()
    text = CONFIG
    for channel in ("a", "b"):
        (root / "inspectors" / f"bench_{channel}.py").write_text(PLUGIN.format(channel=channel))
        text += PRODUCT.format(channel=channel)
    (root / "bench.conf").write_text(text)
    quiet(add_from_config.main, ["-m", url, str(root / "bench.conf")])
    for i in range(n):
        channel = "ab"[i % 2]
        day = START + datetime.timedelta(days=i // 2)
        (incoming / f"bench_{channel}_{day:%Y%m%d}_v1.0.0.dat").write_text(f"{i}\n")


def prefill(url: str, count: int) -> None:
    """Put *count* file rows (dates after the benchmark's) straight into the archive."""
    engine = sa.create_engine(url)
    file_t = sa.table("file", *[sa.column(c) for c in (
        "filename", "utc_file_date", "utc_start_time", "utc_stop_time", "data_level",
        "interface_version", "quality_version", "revision_version", "file_create_date",
        "exists_on_disk", "product_id", "shasum")])
    now = datetime.datetime(2025, 1, 1)
    first = datetime.date(2060, 1, 1)
    with engine.begin() as conn:
        pids = [r[0] for r in conn.execute(sa.text("SELECT product_id FROM product "
                                                    "ORDER BY product_id"))]
        for start in range(0, count, 20000):
            rows = []
            for i in range(start, min(count, start + 20000)):
                day = first + datetime.timedelta(days=i // 2)
                stamp = datetime.datetime.combine(day, datetime.time())
                rows.append(dict(filename=f"old_{i}_{day:%Y%m%d}.dat", utc_file_date=day,
                                 utc_start_time=stamp, utc_stop_time=stamp,
                                 data_level=0, interface_version=1, quality_version=0,
                                 revision_version=0, file_create_date=now, exists_on_disk=True,
                                 product_id=pids[i % 2], shasum="0" * 40))
            conn.execute(file_t.insert(), rows)
        conn.execute(sa.text("INSERT INTO unixtime (file_id, unix_start, unix_stop) "
                             "SELECT file_id, 0, 0 FROM file"))
    # Settle the archive as a long-lived one would be: SQLite's WAL written back
    # into the database, PostgreSQL's statistics up to date.
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    engine.dispose()


def quiet(func, argv) -> int:
    devnull = open(os.devnull, "w")
    saved = sys.stdout
    sys.stdout = devnull
    try:
        return func(argv)
    finally:
        sys.stdout = saved
        devnull.close()


def run_one(label: str, url: str, root: Path, n: int, prefill_count: int) -> dict:
    build(root, url, n)
    if prefill_count:
        prefill(url, prefill_count)
    os.environ["DBPROCESSING_LOG_DIR"] = str(root / "logs")
    if WHOLE_PROCESS:
        return run_whole(label, url, root, n, prefill_count)
    counter = StatementCounter()
    event.listen(sa.Engine, "before_cursor_execute", counter)
    gc.collect()
    try:
        with ServerCPU() as server:
            began, cpu_began = time.perf_counter(), time.process_time()
            code = quiet(process_queue.main, ["-i", "-m", url, "-q"])
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu_began
    finally:
        event.remove(sa.Engine, "before_cursor_execute", counter)
    if code != 0:
        raise SystemExit(f"{label}: ProcessQueue -i exited {code}")
    left = len(list((root / "incoming").iterdir()))
    if left:
        raise SystemExit(f"{label}: {left} files left in incoming")
    return {"label": label, "n": n, "prefill": prefill_count, "seconds": elapsed,
            "rate": n / elapsed, "statements": counter.count,
            "per_file": counter.count / n, "cpu": cpu, "server_cpu": server.seconds}


def run_whole(label: str, url: str, root: Path, n: int, prefill_count: int) -> dict:
    """The installed ``ProcessQueue -i`` as a process of its own: start-up included."""
    script = Path(sys.executable).parent / "ProcessQueue"
    argv = ([str(script)] if script.is_file() else
            [sys.executable, "-c", "import sys; from dbprocessing.cli.process_queue "
                                   "import main; sys.exit(main())"])
    env = dict(os.environ)
    if SOURCE is not None:
        env["PYTHONPATH"] = os.pathsep.join([SOURCE] + [p for p in env.get(
            "PYTHONPATH", "").split(os.pathsep) if p])
    began = time.perf_counter()
    proc = subprocess.Popen(argv + ["-i", "-m", url, "-q"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{label}: ProcessQueue -i exited {proc.returncode}: {err}")
    left = len(list((root / "incoming").iterdir()))
    if left:
        raise SystemExit(f"{label}: {left} files left in incoming")
    cpu = usage.ru_utime + usage.ru_stime  # the child's own CPU: steadier on a busy machine
    return {"label": label, "n": n, "prefill": prefill_count, "seconds": elapsed,
            "rate": n / elapsed, "statements": 0, "per_file": float("nan"),
            "cpu": cpu, "cpu_rate": n / cpu}


def sqlite_case(n: int, prefill_count: int, workdir: Path) -> dict:
    root = workdir / "mission"
    root.mkdir()
    db = root / "bench.sqlite"
    quiet(create_db.main, [str(db)])
    return run_one("sqlite", f"sqlite:///{db}", root, n, prefill_count)


def postgres_case(admin_url: str, n: int, prefill_count: int, workdir: Path) -> dict:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(admin_url).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        root = workdir / "mission"
        root.mkdir()
        quiet(create_db.main, [url])
        return run_one("postgresql", url, root, n, prefill_count)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="files to ingest")
    parser.add_argument("--prefill", type=int, default=100000,
                        help="files already in the archive for the second run (0: skip)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs per case; the median is printed")
    parser.add_argument("--postgres", default=os.environ.get("DBPROCESSING_TEST_POSTGRES_URL"),
                        help="PostgreSQL URL to benchmark too")
    parser.add_argument("--whole-process", action="store_true",
                        help="run the installed ProcessQueue -i as a process of its own and "
                             "time it from start to exit (start-up included)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="with --whole-process: also run every case with the "
                             "dbprocessing package in DIR, paired with ours (alternating "
                             "which goes first), and print both and their ratios")
    args = parser.parse_args()
    global WHOLE_PROCESS
    WHOLE_PROCESS = args.whole_process
    if args.baseline:
        if not args.whole_process:
            parser.error("--baseline needs --whole-process")
        return paired(args)
    results = []
    with tempfile.TemporaryDirectory(prefix="dbp_bench_") as tmp:
        workdir = Path(tmp)
        # Untimed warm-up: imports, SQLAlchemy's statement caches, the page cache.
        warm = workdir / "warm"
        warm.mkdir()
        sqlite_case(200, 0, warm)
        cases = [("sqlite", p) for p in sorted({0, args.prefill})]
        if args.postgres:
            cases += [("postgresql", p) for p in sorted({0, args.prefill})]
        url = (args.postgres or "").replace("postgresql://", "postgresql+psycopg://", 1)
        done: dict[tuple[str, int], list[dict]] = {case: [] for case in cases}
        for prefill_count in sorted({0, args.prefill}):
            # Each attempt runs every backend, the order alternating, so that the
            # PostgreSQL/SQLite ratio of an attempt compares runs of the same minute.
            backends = [b for b, p in cases if p == prefill_count]
            for attempt in range(args.repeat):
                for backend in backends if attempt % 2 == 0 else backends[::-1]:
                    where = workdir / f"{backend}_{prefill_count}_{attempt}"
                    where.mkdir()
                    done[backend, prefill_count].append(
                        sqlite_case(args.n, prefill_count, where) if backend == "sqlite"
                        else postgres_case(url, args.n, prefill_count, where))
                    shutil.rmtree(where, ignore_errors=True)
        for case in cases:
            runs = sorted(done[case], key=lambda r: r["rate"])
            median = dict(runs[len(runs) // 2])
            median["all"] = [round(r["rate"]) for r in runs]
            if WHOLE_PROCESS:
                rates = sorted(r["cpu_rate"] for r in runs)
                median["cpu_rates"] = [round(r) for r in rates]
                median["cpu_rate"] = rates[len(rates) // 2]
            results.append(median)
    print(f"{'backend':<11} {'files':>7} {'archive':>8} {'seconds':>8} {'files/s':>9} "
          f"{'statements':>10} {'stmt/file':>9}  all runs (files/s)")
    for r in results:
        print(f"{r['label']:<11} {r['n']:>7} {r['prefill']:>8} {r['seconds']:>8.2f} "
              f"{r['rate']:>9.0f} {r['statements']:>10} {r['per_file']:>9.3f}  {r['all']}")
    if args.postgres and not WHOLE_PROCESS:
        print("\nPostgreSQL against SQLite, attempt by attempt (median [all]): wall time; "
              "CPU of this process; CPU of this process and the server's backends")
        for prefill_count in sorted({0, args.prefill}):
            pairs = list(zip(done["sqlite", prefill_count], done["postgresql", prefill_count],
                             strict=True))
            wall = sorted(p["seconds"] / s["seconds"] for s, p in pairs)
            client = sorted(p["cpu"] / s["cpu"] for s, p in pairs)
            both = sorted((p["cpu"] + p["server_cpu"]) / s["cpu"] for s, p in pairs)
            print(f"  archive {prefill_count:>7}: wall {_ratios(wall)}   client CPU "
                  f"{_ratios(client)}   client + server CPU {_ratios(both)}")
    if WHOLE_PROCESS:
        # Wall-clock files/s follows the machine's load; files per CPU second of the
        # child (start-up included) is what the code costs.
        print(f"\n{'backend':<11} {'files':>7} {'archive':>8} {'files/cpu-s':>12}  all runs")
        for r in results:
            print(f"{r['label']:<11} {r['n']:>7} {r['prefill']:>8} {r['cpu_rate']:>12.0f}  "
                  f"{r['cpu_rates']}")
    print(f"(load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


def _ratios(values: list[float]) -> str:
    return f"{values[len(values) // 2]:.2f}x [{', '.join(f'{v:.2f}' for v in values)}]"


def paired(args: argparse.Namespace) -> int:
    """Each case run by the baseline tree and by ours, one after the other."""
    global SOURCE
    baseline = str(Path(args.baseline).resolve())
    if not (Path(baseline) / "dbprocessing" / "__init__.py").is_file():
        raise SystemExit(f"--baseline: no dbprocessing package in {baseline}")
    ours = str(Path(__file__).resolve().parents[1])
    lines = []
    with tempfile.TemporaryDirectory(prefix="dbp_bench_") as tmp:
        workdir = Path(tmp)
        for prefill_count in sorted({0, args.prefill}):
            runs: dict[str, list[dict]] = {"baseline": [], "ours": []}
            for attempt in range(args.repeat):
                order = ["baseline", "ours"] if attempt % 2 == 0 else ["ours", "baseline"]
                for which in order:
                    SOURCE = baseline if which == "baseline" else ours
                    where = workdir / f"{which}_{prefill_count}_{attempt}"
                    where.mkdir()
                    runs[which].append(sqlite_case(args.n, prefill_count, where))
                    shutil.rmtree(where, ignore_errors=True)
            ratios = sorted(b["cpu"] / o["cpu"]
                            for b, o in zip(runs["baseline"], runs["ours"], strict=True))
            lines.append(f"N={args.n}, archive {prefill_count}:")
            for which, rs in runs.items():
                walls = sorted(r["rate"] for r in rs)
                cpus = sorted(r["cpu_rate"] for r in rs)
                lines.append(f"  {which:<8} files/s wall {walls[len(walls) // 2]:>7.0f} "
                             f"{[round(x) for x in walls]}   files per CPU second "
                             f"{cpus[len(cpus) // 2]:>7.0f} {[round(x) for x in cpus]}")
            lines.append(f"  CPU baseline/ours, paired: median {ratios[len(ratios) // 2]:.2f}x "
                         f"{[round(x, 2) for x in ratios]}")
    print("\n".join(lines))
    print(f"(load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
