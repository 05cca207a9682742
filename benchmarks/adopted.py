#!/usr/bin/env python3
"""Benchmark explainBuild, printLineage and printStatus on an adopted production database.

Builds the original's 2014 schema, loads the RBSP-ECT MagEIS dump
(tests/data/RBSP_MAGEIS_dump.json: 57 products, 17 processes, 922 files) and
adopts it with ``MigrateDB -m URL -y``, as tests/test_adopt_production.py
does.  Then, for a few files (a level-0 file, a level-0.5 file with a child, a
level-1 file with parents and a code, a level-2 file), times, median of
--repeat:

* the library call (``explain`` / ``read_graph`` with ``as_text``) in one
  session, the database already open (wall, and CPU of this process);
* the whole command, ``explainBuild -m DB FILE`` and ``printLineage -m DB
  FILE``, in-process (opening the database and the schema check included,
  process start-up and imports not);
* the installed console command as a child process, start-up and imports
  included (wall and CPU, user + system);

and counts the SQL statements of the library call.  The same for
``printStatus -m DB``: every product over the whole range (a table; the
library call as printStatus makes it, ``mission_status(..., plans=False)``).
Targets (issue 13): under 0.2 s for explainBuild and printLineage of one
file, under 1 s for printStatus of everything.

    python benchmarks/adopted.py [--repeat 7] [--postgres URL]

PostgreSQL (``--postgres``, default ``$DBPROCESSING_TEST_POSTGRES_URL``) runs
in a schema of its own, dropped afterwards.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from process import postgres_url, quiet  # noqa: E402
from startup import command_argv, console_scripts  # noqa: E402
from status import child, spread  # noqa: E402

from dbprocessing.cli import (  # noqa: E402
    explain_build,
    migrate_db,
    print_lineage,
    print_status,
)
from dbprocessing.db import open_database  # noqa: E402
from dbprocessing.db.engine import make_engine, resolve_url  # noqa: E402
from dbprocessing.mission.tree import load_mission  # noqa: E402
from dbprocessing.report.explain import explain  # noqa: E402
from dbprocessing.report.lineage import as_text, read_graph  # noqa: E402
from dbprocessing.report.status import mission_status  # noqa: E402
from tests.legacy_schema import RBSP_DUMP, build_2014, load_dump  # noqa: E402

FILES = ("ect_rbspa_0374_364_01.ptp.gz",
         "rbspa_int_ect-mageisM35-ns-L05_0374_v3.0.0.cdf",
         "rbspa_int_ect-mageisM35-ns-L1_20130907_v3.0.0.cdf",
         "rbspb_int_ect-mageis-L2_20130908_v3.0.0.cdf")


def adopt(url: str) -> None:
    engine = make_engine(resolve_url(url, creating=True))
    try:
        load_dump(engine, build_2014(engine), RBSP_DUMP)
    finally:
        engine.dispose()
    if quiet(migrate_db.main, ["-m", url, "-y"]) != 0:
        raise SystemExit(f"MigrateDB failed on {url}")


def _lineage(session: Session, _tree, name: str) -> str:
    return as_text(read_graph(session, name), True, True)


def _explain(session: Session, tree, name: str) -> list[str]:
    return explain(session, tree, filename=name)[1]


def _status(session: Session, tree, _name: str) -> int:
    return len(mission_status(session, tree, None, None, None, plans=False))  # as printStatus


EVERYTHING = "(every product, whole range)"


def measure(url: str, repeat: int) -> list[dict]:
    engine = open_database(url)
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    scripts = console_scripts()
    results = []
    cases = [(name, label, call, command) for name in FILES
             for label, call, command in (("explainBuild", _explain, explain_build.main),
                                          ("printLineage", _lineage, print_lineage.main))]
    cases.append((EVERYTHING, "printStatus", _status, print_status.main))
    for name, label, call, command in cases:
        argv = ["-m", url] + ([] if name == EVERYTHING else [name])
        library, library_cpu = [], []
        for _ in range(repeat):
            with Session(engine) as session:
                tree = load_mission(session)
                statements = 0
                began, began_cpu = time.perf_counter(), time.process_time()
                call(session, tree, name)
                library.append(time.perf_counter() - began)
                library_cpu.append(time.process_time() - began_cpu)
        whole = []
        for _ in range(repeat):
            began = time.perf_counter()
            quiet(command, argv)
            whole.append(time.perf_counter() - began)
        runs = [child(command_argv(label, scripts[label]) + argv) for _ in range(repeat)]
        results.append({"command": label, "file": name, "library": library, "library_cpu": library_cpu,
                        "whole": whole,
                        "child_wall": [w for w, _ in runs], "child_cpu": [c for _, c in runs],
                        "statements": statements})
    engine.dispose()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", default=os.environ.get("DBPROCESSING_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    runs: list[tuple[str, list[dict]]] = []
    with tempfile.TemporaryDirectory(prefix="dbp_abench_") as tmp:
        url = f"sqlite:///{Path(tmp) / 'rbsp.sqlite'}"
        adopt(url)
        runs.append(("sqlite", measure(url, args.repeat)))
    if args.postgres:
        # An empty schema: MigrateDB adopts the original's tables, it creates none.
        url, drop = postgres_url(args.postgres.replace("postgresql://",
                                                       "postgresql+psycopg://", 1),
                                 create=False)
        try:
            adopt(url)
            runs.append(("postgresql", measure(url, args.repeat)))
        finally:
            drop()
    print(f"median (min-max) seconds of {args.repeat}; 'in-process': the command's main() "
          f"with the database\nclosed; 'child': the console command, start-up included")
    print(f"{'backend':<11} {'command':<13} {'stmts':>5}  {'library':<21} {'library CPU':<21} "
          f"{'in-process':<21} {'child wall':<21} {'child CPU':<21} file")
    for backend, results in runs:
        for r in results:
            print(f"{backend:<11} {r['command']:<13} {r['statements']:>5}  "
                  f"{spread(r['library']):<21} {spread(r['library_cpu']):<21} "
                  f"{spread(r['whole']):<21} "
                  f"{spread(r['child_wall']):<21} {spread(r['child_cpu']):<21} {r['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
