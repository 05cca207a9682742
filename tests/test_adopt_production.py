"""Adopting a real production database of the original: RBSP-ECT MagEIS (2014 schema).

The dump (tests/data/RBSP_MAGEIS_dump.json: 57 products, 17 processes, 922
files) is loaded into the original's 2014 schema and upgraded with
``MigrateDB -m URL -y``.  Then: every row still means what it meant; the
mission exported with configFromDB loads into a fresh database as the same
products and processes; the planner and printStatus see the archive as the
finished work it is.  Run with ``-s`` to see the per-table figures.
"""
from __future__ import annotations

import calendar
import datetime
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from dbprocessing.cli import (
    add_from_config,
    config_from_db,
    create_db,
    migrate_db,
    print_status,
    process_queue,
)
from dbprocessing.db import open_database
from dbprocessing.db.models import File
from dbprocessing.db.schema import inspect_schema
from dbprocessing.mission.tree import load_mission
from dbprocessing.process import reprocess
from dbprocessing.process.planner import Planner

from .legacy_schema import ORDER, RBSP_DUMP, build_2014, load_dump, read_dump

# Columns of the 2014 schema that adoption drops (see migrations/versions/0001).
DROPPED = {"file": {"newest_version"}}
ROOTDIR = "/n/space_data/cda/rbsp"


def _adopt(db_url: str, engine_for) -> dict[str, list[dict]]:
    engine = engine_for(db_url)
    meta = build_2014(engine)
    inserted = load_dump(engine, meta, RBSP_DUMP)
    assert inspect_schema(engine).kind == "original"
    assert migrate_db.main(["-m", db_url, "-y"]) == 0
    assert inspect_schema(engine).kind == "current"
    return inserted


@pytest.fixture
def adopted(db_url, engine_for, capsys) -> str:
    _adopt(db_url, engine_for)
    capsys.readouterr()
    return db_url


def _plain(value):
    """One spelling per value on both backends (SQLite hands back what it was given)."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 9)
    return value


def _compare(engine: sa.Engine, inserted: dict[str, list[dict]]) -> dict[str, dict[str, int]]:
    """Per dumped table: rows, and rows lost, changed or extra after adoption."""
    current = sa.MetaData()
    current.reflect(engine)
    figures = {}
    with engine.connect() as conn:
        for name in ORDER:
            if name not in inserted and name not in read_dump(RBSP_DUMP):
                continue
            table = current.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            want = {tuple(r[c] for c in pk): r for r in inserted.get(name, [])}
            got = {tuple(r[c] for c in pk): r for r in (
                dict(m) for m in conn.execute(sa.select(table)).mappings())}
            columns = [c for c in next(iter(want.values()), {}) if c not in DROPPED.get(name, ())]
            changed = [key for key in set(want) & set(got) if any(
                _plain(got[key][c]) != _plain(want[key][c]) for c in columns)]
            figures[name] = {"rows": len(want), "lost": len(set(want) - set(got)),
                             "changed": len(changed), "extra": len(set(got) - set(want))}
    return figures


def test_adopting_rbsp_keeps_every_row(db_url, engine_for, capsys):
    dump = read_dump(RBSP_DUMP)
    assert (len(dump["product"]), len(dump["process"]), len(dump["file"])) == (57, 17, 922)
    # The dropped flag holds nothing the versions do not say: it marks exactly the
    # highest version of each (product, date).
    best: dict[tuple, tuple] = {}
    for f in dump["file"]:
        key, version = (f["product_id"], f["utc_file_date"]), (
            f["interface_version"], f["quality_version"], f["revision_version"])
        best[key] = max(best.get(key, version), version)
    assert all(f["newest_version"] == ((f["interface_version"], f["quality_version"],
                                        f["revision_version"]) == best[(f["product_id"],
                                                                         f["utc_file_date"])])
               for f in dump["file"])

    inserted = _adopt(db_url, engine_for)
    engine = engine_for(db_url)
    figures = _compare(engine, inserted)
    with capsys.disabled():  # the figures, for people (shown with -s)
        print(f"\nadopted RBSP-ECT MagEIS on {engine.dialect.name}: "
              f"table rows lost changed extra")
        for name, f in figures.items():
            print(f"  {name:<22} {f['rows']:>5} {f['lost']:>4} {f['changed']:>7} "
                  f"{f['extra']:>5}")
    assert set(figures) >= {"file", "product", "process", "filefilelink", "filecodelink",
                            "code", "inspector", "logging", "release", "processqueue"}
    assert {name: (f["lost"], f["changed"], f["extra"]) for name, f in figures.items()} == {
        name: (0, 0, 0) for name in figures}
    assert figures["file"]["rows"] == 922

    # unixtime: one row per file, epoch seconds of its start and stop.
    with engine.connect() as conn:
        files = {r.file_id: r for r in conn.execute(sa.text(
            "SELECT file_id, utc_start_time, utc_stop_time FROM file"))}
        unix = {r.file_id: r for r in conn.execute(sa.text("SELECT * FROM unixtime"))}
    assert set(unix) == set(files) and len(unix) == 922

    def epoch(value) -> int:
        if isinstance(value, str):  # sa.text() on SQLite returns text
            value = datetime.datetime.fromisoformat(value)
        return calendar.timegm(value.timetuple())

    assert [file_id for file_id, row in files.items()
            if (unix[file_id].unix_start, unix[file_id].unix_stop)
            != (epoch(row.utc_start_time), epoch(row.utc_stop_time))] == []

    # The adopted database takes new files (a NOT NULL newest_version left behind
    # would refuse every one of them).
    engine = open_database(db_url)
    with Session(engine) as session:
        template = session.scalar(sa.select(File).order_by(File.file_id.desc()).limit(1))
        session.add(File(**{**{c: getattr(template, c) for c in (
            "utc_file_date", "utc_start_time", "utc_stop_time", "data_level",
            "quality_version", "revision_version", "file_create_date", "exists_on_disk",
            "product_id")}, "filename": "new_" + template.filename, "interface_version": 99}))
        session.commit()
        # ... and still refuses a file that stops before it starts (the original's CHECK).
        session.add(File(**{**{c: getattr(template, c) for c in (
            "utc_file_date", "data_level", "quality_version", "revision_version",
            "file_create_date", "exists_on_disk", "product_id")},
            "filename": "bad_" + template.filename, "interface_version": 98,
            "utc_start_time": template.utc_stop_time,
            "utc_stop_time": template.utc_start_time}))
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()
    engine.dispose()
    assert migrate_db.main(["-m", db_url, "-y"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def _products(url: str) -> dict[str, tuple]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT p.product_name, p.level, p.format, p.relative_path, i.instrument_name, "
                "s.satellite_name FROM product p JOIN instrument i USING (instrument_id) "
                "JOIN satellite s USING (satellite_id)")).all()
    finally:
        engine.dispose()
    return {r[0]: (float(r[1]), r[2], r[3], r[4], r[5]) for r in rows}


def _processes(url: str) -> dict[str, tuple]:
    engine = open_database(url)
    try:
        with engine.connect() as conn:
            names = {r[0]: r[1] for r in conn.execute(sa.text(
                "SELECT product_id, product_name FROM product"))}
            inputs: dict[int, set] = {}
            for pid, product, optional in conn.execute(sa.text(
                    "SELECT process_id, input_product_id, optional FROM productprocesslink")):
                inputs.setdefault(pid, set()).add((names[product], bool(optional)))
            rows = conn.execute(sa.text(
                "SELECT process_id, process_name, output_product, output_timebase "
                "FROM process")).all()
    finally:
        engine.dispose()
    return {r[1]: (names.get(r[2]), r[3], frozenset(inputs.get(r[0], ()))) for r in rows}


def test_exported_config_loads_into_a_fresh_database(adopted, tmp_path, capsys):
    # The adopted database is on the backend under test; the fresh one is a SQLite file.
    fresh = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert create_db.main([fresh]) == 0
    here = tmp_path / "rbsp"
    here.mkdir()
    configs = []
    # One config file holds one instrument: rbspa's MagEIS, then rbspb's.
    for satellite in ("rbspa", "rbspb"):
        target = tmp_path / f"{satellite}.conf"
        assert config_from_db.main(["-m", adopted, "-s", satellite, "-i", "mageis",
                                    str(target)]) == 0
        text = target.read_text()
        # configFromDB writes the mission's rootdir as it is in the database, and
        # addFromConfig stores it as written: neither checks that it exists.  The
        # production path does not exist here, so the fresh database is pointed at a
        # directory that does; this line is the only one changed.
        assert f"\nrootdir = {ROOTDIR}\n" in text and not Path(ROOTDIR).exists()
        target.write_text(text.replace(f"\nrootdir = {ROOTDIR}\n", f"\nrootdir = {here}\n"))
        configs.append(target)
    for target in configs:
        assert add_from_config.main(["-m", fresh, str(target)]) == 0
    capsys.readouterr()

    assert _products(fresh) == _products(adopted)
    assert len(_products(fresh)) == 57
    assert _processes(fresh) == _processes(adopted)
    assert len(_processes(fresh)) == 17
    engine = open_database(fresh)
    with Session(engine) as session:
        assert load_mission(session).rootdir == here
    engine.dispose()
    # Loading the export again changes nothing.
    for target in configs:
        assert add_from_config.main(["-m", fresh, str(target)]) == 0
        assert "nothing changed" in capsys.readouterr().out


def _identity(product_id: int, date: datetime.date, name: str, version: str) -> tuple:
    """(product, date, name without its version): what a remake would replace."""
    return product_id, date, name.replace(version, "{VERSION}", 1)


def test_planning_over_the_adopted_database_remakes_nothing(adopted, capsys):
    engine = open_database(adopted)
    with Session(engine) as session:
        existing = {_identity(f.product_id, f.utc_file_date, f.filename,
                              f"{f.interface_version}.{f.quality_version}.{f.revision_version}")
                    : f.filename for f in session.scalars(sa.select(File))}
        assert reprocess.by_date(session, None, None) == 362  # every newest file
        session.commit()

    assert process_queue.main(["-m", adopted, "-p", "-d"]) == 0
    printed = capsys.readouterr().out
    assert "dry run: nothing changed" in printed

    # The same plans, from the library: every wave, as the dry run walks them.
    with Session(engine) as session:
        planner = Planner(session, load_mission(session))
        plans, level = [], None
        while True:
            wave = planner.next_wave(level)
            if wave.level is None:
                break
            plans += wave.plans
            level = wave.level
    engine.dispose()
    assert plans, "the dump has outputs the original never made (e.g. rbspb L2 of 2013-09-01)"
    remakes = sorted(
        f"{p.describe()} -> replaces {existing[key]}" for p in plans
        if p.output_name and (key := _identity(p.output_product_id, p.date, p.output_name,
                                               str(p.output_version))) in existing)
    assert remakes == []
    names = {name for name in existing.values()}
    assert [p.output_name for p in plans if p.output_name in names] == []
    assert all(p.describe().split(":", 1)[1] in printed for p in plans)


def test_status_calls_the_existing_outputs_up_to_date(adopted, capsys):
    print_status.main(["-m", adopted, "--json"])
    rows = json.loads(capsys.readouterr().out)
    made = [r for r in rows if r["process"] is not None and r["filename"] is not None]
    assert len(made) > 100
    wrong = [f"{r['product']} {r['date']}: {r['state']}: {r['reason']}"
             for r in made if r["state"] != "up_to_date"]
    assert wrong == []
    # What the original never made is reported as missing or blocked, never stale.
    assert {r["state"] for r in rows if r["filename"] is None} <= {"missing", "blocked",
                                                                   "absent"}
