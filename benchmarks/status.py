#!/usr/bin/env python3
"""Benchmark printStatus on a 100,000-file archive: one product and month; everything.

Builds the mission of benchmarks/process.py (l0a, l0b -> l1 DAILY with a
+-1 day window on l0a -> l2 FILE -> RUN), then fills the archive directly with
rows as ProcessQueue would have written them: every product one file per day
for FILES / 4 days, l1 with its four input links and code link, l2 with one,
plus a second version of l0a on every tenth day (so part of l1 is stale) and
a queue entry on every 50th l0b file.  Then times, median of --repeat:

* the library call (``mission_status``) for one product over 31 days;
* the whole command, ``printStatus -m DB -p l1 -s D -e D+30 --json``, in-process
  (opening the database and the schema check included);

and counts SQL statements of the library call.  Target (issue 5): under 1 s on
SQLite for the command.  Then explainBuild and printLineage of the month's
first l1 file (queued: its l0a input has a second version), median of
--repeat: the library call (wall and CPU) and the installed command as a child
process (start-up included).  Target (issue 13): under 0.2 s.  Then the
question of issue 13, every product over the whole range (``mission_status``
with no product and no dates), median and range of --whole-repeat:

* the library call as printStatus makes it (``mission_status(..., plans=False)``),
  wall and CPU seconds;
* the whole command as an operator runs it, the installed ``printStatus -m
  DB`` (a table) as a child process: process start-up, imports, opening the
  database and printing included; wall and CPU (user + system) seconds.

Target (issue 13): under 1 s.

    python benchmarks/status.py [--files 100000] [--repeat 5] [--whole-repeat 3]
                                [--postgres URL] [--keep DIR]

``--keep DIR`` builds the SQLite archive in DIR and keeps it; a later run with
the same DIR (and --files) times the archive already there instead of building
it again (PostgreSQL is always built afresh).
"""
from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from process import build_config, postgres_url, quiet  # noqa: E402
from startup import command_argv, console_scripts  # noqa: E402

from dbprocessing.cli import create_db, print_status  # noqa: E402
from dbprocessing.db import open_database  # noqa: E402
from dbprocessing.db.models import (  # noqa: E402
    Code,
    File,
    FileCodeLink,
    FileFileLink,
    ProcessQueue,
    Product,
    UnixTime,
)
from dbprocessing.ingest.record import epoch  # noqa: E402
from dbprocessing.mission.tree import load_mission  # noqa: E402
from dbprocessing.report.explain import explain  # noqa: E402
from dbprocessing.report.lineage import as_text, read_graph  # noqa: E402
from dbprocessing.report.status import mission_status  # noqa: E402

START = datetime.date(1960, 1, 1)
DAY = datetime.timedelta(days=1)


def fill(url: str, files: int) -> int:
    """Insert the archive's rows; return how many file rows."""
    engine = open_database(url)
    days = files // 4
    with Session(engine) as session:
        products = {p.product_name: p.product_id for p in session.scalars(select(Product))}
        codes = {c.process_id: c.code_id for c in session.scalars(select(Code))}
        make_l1, make_l2 = sorted(codes)[:2]
        rows, ids = [], {}
        now = datetime.datetime(2026, 1, 1)
        for key, level in (("l0a", 0), ("l0b", 0), ("l1", 1), ("l2", 2)):
            for i in range(days):
                day = START + DAY * i
                versions = [(1, 0, 0)] + ([(1, 1, 0)] if key == "l0a" and i % 10 == 0 else [])
                for version in versions:
                    rows.append({
                        "filename": f"{key}_{day:%Y%m%d}_v{'.'.join(map(str, version))}.dat",
                        "product_id": products[key], "data_level": level,
                        "utc_file_date": day,
                        "utc_start_time": datetime.datetime.combine(day, datetime.time()),
                        "utc_stop_time": datetime.datetime.combine(day + DAY, datetime.time()),
                        "interface_version": version[0], "quality_version": version[1],
                        "revision_version": version[2], "file_create_date": now,
                        "exists_on_disk": True, "shasum": "0" * 40})
        for start in range(0, len(rows), 20000):
            chunk = rows[start:start + 20000]
            result = session.execute(insert(File).returning(File.file_id, File.filename,
                                                            sort_by_parameter_order=True), chunk)
            ids.update({name: file_id for file_id, name in result})
        session.execute(insert(UnixTime), [
            {"file_id": ids[r["filename"]], "unix_start": epoch(r["utc_start_time"]),
             "unix_stop": epoch(r["utc_stop_time"])} for r in rows])
        links, code_links, queue = [], [], []
        for i in range(days):
            day = START + DAY * i
            l1 = ids[f"l1_{day:%Y%m%d}_v1.0.0.dat"]
            for k in (-1, 0, 1):
                if 0 <= i + k < days:
                    links.append((ids[f"l0a_{day + DAY * k:%Y%m%d}_v1.0.0.dat"], l1))
            links.append((ids[f"l0b_{day:%Y%m%d}_v1.0.0.dat"], l1))
            l2 = ids[f"l2_{day:%Y%m%d}_v1.0.0.dat"]
            links.append((l1, l2))
            code_links += [(l1, codes[make_l1]), (l2, codes[make_l2])]
            if i % 50 == 0:
                queue.append(ids[f"l0b_{day:%Y%m%d}_v1.0.0.dat"])
        session.execute(insert(FileFileLink), [{"source_file": s, "resulting_file": r}
                                               for s, r in links])
        session.execute(insert(FileCodeLink), [{"resulting_file": r, "source_code": c}
                                               for r, c in code_links])
        session.execute(insert(ProcessQueue), [{"file_id": f, "version_bump": None}
                                               for f in queue])
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return len(rows)


def count_statements(engine: Engine) -> list[int]:
    """A one-item list counting the SQL statements *engine* sends (set it to 0 to reset)."""
    sent = [0]

    def count(*_args) -> None:
        sent[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    return sent


def measure(url: str, repeat: int, first: datetime.date) -> dict:
    last = first + DAY * 30
    engine = open_database(url)
    sent = count_statements(engine)
    library, states = [], {}
    for _ in range(repeat):
        sent[0] = 0
        began = time.perf_counter()
        with Session(engine) as session:
            rows = mission_status(session, load_mission(session), ["l1"], first, last)
        library.append(time.perf_counter() - began)
        states = {}
        for r in rows:
            states[r.state] = states.get(r.state, 0) + 1
    engine.dispose()
    command = []
    argv = ["-m", url, "-p", "l1", "-s", first.isoformat(), "-e", last.isoformat(), "--json"]
    for _ in range(repeat):
        began = time.perf_counter()
        quiet(print_status.main, argv)
        command.append(time.perf_counter() - began)
    return {"library": statistics.median(library), "command": statistics.median(command),
            "statements": sent[0], "states": states, "dates": len(rows)}


def child(argv: list[str]) -> tuple[float, float]:
    """Run *argv* as a child process to the end: its wall and CPU (user + system)
    seconds.  Exit 0 or 1 (printStatus: something is not up to date) only."""
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: "
                         f"{err.decode(errors='replace').strip()}")
    return wall, usage.ru_utime + usage.ru_stime


def spread(values: list[float]) -> str:
    """Median (min-max) of *values*, in seconds."""
    return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"


def measure_whole(url: str, repeat: int) -> dict:
    """printStatus of every product over the whole range: the library call, and the
    installed command as a child process."""
    engine = open_database(url)
    sent = count_statements(engine)
    wall, cpu, dates = [], [], 0
    for _ in range(repeat):
        sent[0] = 0
        began, began_cpu = time.perf_counter(), time.process_time()
        with Session(engine) as session:
            dates = len(mission_status(session, load_mission(session), None, None, None,
                                       plans=False))  # as printStatus asks
        wall.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
    engine.dispose()
    argv = command_argv("printStatus", console_scripts()["printStatus"]) + ["-m", url]
    runs = [child(argv) for _ in range(repeat)]
    return {"dates": dates, "statements": sent[0], "library_wall": wall,
            "library_cpu": cpu, "command_wall": [w for w, _ in runs],
            "command_cpu": [c for _, c in runs]}


def measure_questions(url: str, repeat: int, name: str) -> list[dict]:
    """explainBuild and printLineage of the file *name*: the library call (wall
    and CPU seconds) and the installed command as a child process."""
    engine = open_database(url)
    results = []
    for label, call in (("explainBuild", lambda s, t: explain(s, t, filename=name)),
                        ("printLineage", lambda s, _t: as_text(read_graph(s, name),
                                                                True, True))):
        wall, cpu = [], []
        for _ in range(repeat):
            with Session(engine) as session:
                tree = load_mission(session)
                began, began_cpu = time.perf_counter(), time.process_time()
                call(session, tree)
                wall.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
        argv = command_argv(label, console_scripts()[label]) + ["-m", url, name]
        runs = [child(argv) for _ in range(repeat)]
        results.append({"command": label, "library_wall": wall, "library_cpu": cpu,
                        "command_wall": [w for w, _ in runs],
                        "command_cpu": [c for _, c in runs]})
    engine.dispose()
    return results


def run(label: str, url: str, root: Path, files: int, repeat: int,
        whole_repeat: int, built: bool = False) -> dict:
    if built:
        engine = open_database(url)
        with Session(engine) as session:
            count = len(session.scalars(select(File.file_id)).all())
        engine.dispose()
    else:
        build_config(root, url)
        count = fill(url, files)
    first = START + DAY * (files // 8)  # a month in the middle of the archive
    result = measure(url, repeat, first)
    result.update(backend=label, files=count)
    result["question_file"] = name = f"l1_{first:%Y%m%d}_v1.0.0.dat"
    result["questions"] = measure_questions(url, repeat, name)
    if whole_repeat:
        result["whole"] = measure_whole(url, whole_repeat)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--whole-repeat", type=int, default=3,
                        help="runs of every product over the whole range (0: skip)")
    parser.add_argument("--postgres", default=os.environ.get("DBPROCESSING_TEST_POSTGRES_URL"))
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="build the SQLite archive in DIR and keep it; reuse it if there")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="dbp_sbench_") as tmp:
        root = (args.keep or Path(tmp)) / "sqlite"
        db = root / "bench.sqlite"
        built = args.keep is not None and db.exists()
        if not built:
            root.mkdir(parents=True)
            quiet(create_db.main, [str(db)])
        results.append(run("sqlite", f"sqlite:///{db}", root, args.files, args.repeat,
                           args.whole_repeat, built))
    if args.postgres:
        url, drop = postgres_url(args.postgres.replace("postgresql://",
                                                       "postgresql+psycopg://", 1))
        try:
            with tempfile.TemporaryDirectory(prefix="dbp_sbench_") as tmp:
                results.append(run("postgresql", url, Path(tmp), args.files, args.repeat,
                           args.whole_repeat))
        finally:
            drop()
    print(f"{'backend':<11} {'files':>7} {'dates':>5} {'library s':>9} {'command s':>9} "
          f"{'stmts':>5}  states")
    for r in results:
        print(f"{r['backend']:<11} {r['files']:>7} {r['dates']:>5} {r['library']:>9.3f} "
              f"{r['command']:>9.3f} {r['statements']:>5}  {r['states']}")
    print("\none file's questions: median (min-max) seconds")
    print(f"{'backend':<11} {'command':<13} {'library wall':<22}{'library CPU':<22}"
          f"{'command wall':<22}{'command CPU':<22}file")
    for r in results:
        for q in r["questions"]:
            print(f"{r['backend']:<11} {q['command']:<13} {spread(q['library_wall']):<22}"
                  f"{spread(q['library_cpu']):<22}{spread(q['command_wall']):<22}"
                  f"{spread(q['command_cpu']):<22}{r['question_file']}")
    whole = [r for r in results if "whole" in r]
    if whole:
        print("\nevery product, whole range: median (min-max) seconds")
        print(f"{'backend':<11} {'dates':>6} {'stmts':>6}  {'library wall':<22}"
              f"{'library CPU':<22}{'command wall':<22}command CPU")
    for r in whole:
        w = r["whole"]
        print(f"{r['backend']:<11} {w['dates']:>6} {w['statements']:>6}  "
              f"{spread(w['library_wall']):<22}{spread(w['library_cpu']):<22}"
              f"{spread(w['command_wall']):<22}{spread(w['command_cpu'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
