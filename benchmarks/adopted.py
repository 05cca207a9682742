#!/usr/bin/env python3
"""Benchmark explainBuild and printLineage of one file on an adopted production database.

Builds the original's 2014 schema, loads the RBSP-ECT MagEIS dump
(tests/data/RBSP_MAGEIS_dump.json: 57 products, 17 processes, 922 files) and
adopts it with ``MigrateDB -m URL -y``, as tests/test_adopt_production.py
does.  Then, for a few files (a level-0 file, a level-0.5 file with a child, a
level-1 file with parents and a code, a level-2 file), times, median of
--repeat:

* the library call (``explain`` / ``read_graph`` with ``as_text``) in one
  session, the database already open;
* the whole command, ``explainBuild -m DB FILE`` and ``printLineage -m DB
  FILE``, in-process (opening the database and the schema check included);

and counts the SQL statements of the library call.  Target (issue 10): under
0.2 s for the library call.

    python benchmarks/adopted.py [--repeat 7] [--postgres URL]

PostgreSQL (``--postgres``, default ``$DBPROCESSING_TEST_POSTGRES_URL``) runs
in a schema of its own, dropped afterwards.
"""
from __future__ import annotations

import argparse
import os
import statistics
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

from dbprocessing.cli import explain_build, migrate_db, print_lineage  # noqa: E402
from dbprocessing.db import open_database  # noqa: E402
from dbprocessing.db.engine import make_engine, resolve_url  # noqa: E402
from dbprocessing.mission.tree import load_mission  # noqa: E402
from dbprocessing.report.lineage import as_text, read_graph  # noqa: E402
from dbprocessing.report.status import explain  # noqa: E402
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


def measure(url: str, repeat: int) -> list[dict]:
    engine = open_database(url)
    statements = 0

    def count(*_args) -> None:
        nonlocal statements
        statements += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    results = []
    for name in FILES:
        for label, call, command in (("explainBuild", _explain, explain_build.main),
                                     ("printLineage", _lineage, print_lineage.main)):
            library = []
            for _ in range(repeat):
                with Session(engine) as session:
                    tree = load_mission(session)
                    statements = 0
                    began = time.perf_counter()
                    call(session, tree, name)
                    library.append(time.perf_counter() - began)
            whole = []
            for _ in range(repeat):
                began = time.perf_counter()
                quiet(command, ["-m", url, name])
                whole.append(time.perf_counter() - began)
            results.append({"command": label, "file": name,
                            "library": statistics.median(library),
                            "whole": statistics.median(whole), "statements": statements})
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
    print(f"{'backend':<11} {'command':<13} {'library s':>9} {'command s':>9} {'stmts':>5}  file")
    for backend, results in runs:
        for r in results:
            print(f"{backend:<11} {r['command']:<13} {r['library']:>9.3f} {r['whole']:>9.3f} "
                  f"{r['statements']:>5}  {r['file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
