#!/usr/bin/env python3
"""What issue 13's absolute targets leave room for on this machine: the floors.

Some of the issue's figures are absolute (files per second, seconds), so
whether they can be met depends on the machine.  This prints, median (min-max)
of --repeat, the costs no implementation on our stack can avoid, and what
they allow:

* start-up: the CPU of ``python -c "import sqlalchemy, sqlite3"`` (the issue's
  reference) and of importing the ORM and our models, as child processes;
* per file ingested: the filesystem work (``lstat`` of the incoming file, a
  check that the target name is free, reading it for its SHA-1, the rename
  into the archive) on --files small real files, and an original-style
  plugin's work on the name (a regular expression and ``strptime``);
* printStatus of a whole archive: reading 102,500 rows of the file table's
  columns with plain ``sqlite3`` (no SQLAlchemy, no decision) and writing
  100,000 lines of a status table to /dev/null.

From these: the most files per second a whole ``ProcessQueue -i`` of N files
could reach if recording them in the database and all bookkeeping cost
nothing (N / (start-up + N x per-file floor)), and the least a printStatus of
100,000 dates could cost if deciding each date's state cost nothing.

    python benchmarks/floor.py [--repeat 5] [--files 2000]
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE = "import sqlalchemy, sqlite3"
ORM = "import sqlalchemy.orm, sqlite3, dbprocessing.db.models"
NAME = re.compile(r"^bench_a_(\d{8})_v(\d+\.\d+\.\d+)\.dat$")


def child_cpu(code: str) -> float:
    """CPU seconds (user + system) of ``python -c code`` in a child process."""
    proc = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"python -c {code!r} exited {proc.returncode}")
    return usage.ru_utime + usage.ru_stime


def per_file(root: Path, count: int) -> tuple[float, float]:
    """CPU seconds a file of the filesystem work and of a plugin's name parsing."""
    incoming, archive = root / "incoming", root / "archive"
    incoming.mkdir()
    archive.mkdir()
    day = datetime.date(2000, 1, 1)
    names = []
    for i in range(count):
        name = f"bench_a_{day + datetime.timedelta(days=i):%Y%m%d}_v1.0.0.dat"
        (incoming / name).write_text(f"{i}\n")
        names.append(name)
    began = time.process_time()
    for name in names:
        source, target = str(incoming / name), str(archive / name)
        os.lstat(source)
        os.path.lexists(target)
        with open(source, "rb") as f:
            hashlib.sha1(f.read()).hexdigest()
        os.rename(source, target)
    files = (time.process_time() - began) / count
    began = time.process_time()
    for name in names:
        match = NAME.match(name)
        assert match is not None
        datetime.datetime.strptime(match.group(1), "%Y%m%d")
    parse = (time.process_time() - began) / count
    return files, parse


def archive_rows(path: Path, count: int) -> None:
    """A table with the columns status reads of each file, *count* rows."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE file (file_id INTEGER PRIMARY KEY, filename TEXT, "
                 "product_id INTEGER, utc_file_date TEXT, utc_start_time TEXT, "
                 "utc_stop_time TEXT, interface_version INTEGER, quality_version INTEGER, "
                 "revision_version INTEGER, process_keywords TEXT, shasum TEXT)")
    day = datetime.date(1960, 1, 1)
    conn.executemany("INSERT INTO file VALUES (?, ?, ?, ?, ?, ?, 1, 0, 0, NULL, ?)", (
        (i, f"p{i % 4}_{day + datetime.timedelta(days=i // 4):%Y%m%d}_v1.0.0.dat", i % 4,
         (d := day + datetime.timedelta(days=i // 4)).isoformat(), f"{d} 00:00:00.000000",
         f"{d + datetime.timedelta(days=1)} 00:00:00.000000", "0" * 40)
        for i in range(count)))
    conn.commit()
    conn.close()


def read_and_print(path: Path, lines: int) -> tuple[float, float]:
    """CPU seconds to read every row with plain sqlite3, and to print *lines* lines."""
    began = time.process_time()
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT * FROM file").fetchall()
    conn.close()
    read = time.process_time() - began
    began = time.process_time()
    with open(os.devnull, "w") as out:
        for r in rows[:lines]:
            out.write(f"{r[1]:<40} {r[3]} up_to_date   {r[1]:<40} up to date\n")
    return read, time.process_time() - began


def spread(values: list[float], scale: float = 1.0, digits: int = 3) -> str:
    values = [v * scale for v in values]
    return (f"{statistics.median(values):.{digits}f} "
            f"({min(values):.{digits}f}-{max(values):.{digits}f})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    reference, orm, files, parse, read, printed = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        archive_rows(Path(tmp) / "status.sqlite", 102_500)
        for attempt in range(args.repeat):
            reference.append(child_cpu(REFERENCE))
            orm.append(child_cpu(ORM))
            root = Path(tmp) / f"files{attempt}"
            root.mkdir()
            f, p = per_file(root, args.files)
            files.append(f)
            parse.append(p)
            r, w = read_and_print(Path(tmp) / "status.sqlite", 100_000)
            read.append(r)
            printed.append(w)
    print(f"median (min-max) of {args.repeat}; CPU seconds unless marked")
    print(f"start-up: {REFERENCE!r} {spread(reference)}; {ORM!r} {spread(orm)}")
    print(f"per file ingested (us): filesystem {spread(files, 1e6, 1)}, "
          f"plugin name parsing {spread(parse, 1e6, 1)}")
    print(f"printStatus of 100,000 dates: read 102,500 rows with sqlite3 {spread(read)}, "
          f"print 100,000 lines {spread(printed)}")
    start, start_orm = statistics.median(reference), statistics.median(orm)
    each = statistics.median(files) + statistics.median(parse)
    print()
    print("ceilings if the database and all bookkeeping cost nothing:")
    for n, target in ((2000, 3000), (10_000, 5000)):
        print(f"  ProcessQueue -i of {n:>6} files: {n / (start + n * each):>6.0f} files/s "
              f"after importing SQLAlchemy, {n / (start_orm + n * each):>6.0f} after the "
              f"ORM and models (target >= {target})")
    status_floor = start + statistics.median(read) + statistics.median(printed)
    print(f"  printStatus of 100,000 dates: at least {status_floor:.2f} s "
          f"(target < 1 s)")
    print(f"  any command using SQLAlchemy: at least {start:.2f} s "
          f"(explainBuild, printLineage target < 0.2 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
