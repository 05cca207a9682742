"""Choosing the database from -m (spec section 10)."""
from __future__ import annotations

import datetime
import resource
import signal
import subprocess
import sys

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dbprocessing.cli import add_from_config
from dbprocessing.db.engine import resolve_url
from dbprocessing.errors import DatabaseNotFound, UsageError

from .missions import REPO


def test_existing_file_is_sqlite(tmp_path):
    path = tmp_path / "m.sqlite"
    path.touch()
    url = resolve_url(str(path))
    assert url.get_backend_name() == "sqlite" and url.database == str(path)


def test_bare_name_is_postgres_from_environment(monkeypatch):
    monkeypatch.setenv("PGUSER", "alice")
    monkeypatch.setenv("PGHOST", "db.example")
    monkeypatch.setenv("PGPORT", "5433")
    monkeypatch.setenv("PGPASSWORD", "s3cret")
    url = resolve_url("rbsp")
    assert (url.drivername, url.username, url.host, url.port, url.database, url.password) == (
        "postgresql+psycopg", "alice", "db.example", 5433, "rbsp", "s3cret")


@pytest.mark.parametrize("name", ["missing/dir/m.sqlite", "./nothere", "nothere.sqlite",
                                  "sqlite:////no/such/dir/x.sqlite"])
def test_path_that_does_not_exist_is_an_error(name):
    with pytest.raises(DatabaseNotFound):
        resolve_url(name)


def test_creating_allows_a_new_path(tmp_path):
    assert resolve_url(str(tmp_path / "new.sqlite"), creating=True).get_backend_name() == "sqlite"


def test_plain_postgresql_url_means_psycopg3():
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("name", ["", "notadriver://x"])
def test_bad_urls(name):
    with pytest.raises((UsageError, DatabaseNotFound)):
        resolve_url(name)


def test_unreachable_server_is_one_clear_line(tmp_path, capsys, example_dir):
    # Port 1 on loopback: nothing listens there, the refusal is immediate.
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=3"
    assert add_from_config.main(["-m", url, str(example_dir / "hello.conf")]) == 2
    err = capsys.readouterr().err
    assert "cannot reach database" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["printStatus", "ProcessQueue"])
def test_a_file_that_is_not_a_database_is_one_clear_line(tmp_path, command):
    """A mistyped -m naming some other file: exit 2 with one line, the file unchanged."""
    junk = tmp_path / "notes.txt"
    junk.write_text("not a database\n" * 100)
    argv = {"printStatus": ["-m", str(junk)], "ProcessQueue": ["-m", str(junk), "-i"]}
    result = subprocess.run([sys.executable, str(REPO / "scripts" / f"{command}.py"),
                             *argv[command]], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{command}: error: cannot open database sqlite:///{junk}: file is not a database"]
    assert junk.read_text() == "not a database\n" * 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_insert_rows_round_trip(hello, engine_for):
    # SQLite: a driver-level executemany of values converted by us; PostgreSQL: a
    # COPY.  Either way the ORM reads back exactly what went in.
    import datetime

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from dbprocessing.db.engine import insert_rows
    from dbprocessing.db.models import File, Product

    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    engine = engine_for(hello.db_url)
    stamp = datetime.datetime(1999, 12, 31, 23, 59, 58, 123456)
    base = {"utc_file_date": datetime.date(1999, 12, 31), "utc_start_time": stamp,
            "utc_stop_time": stamp + datetime.timedelta(seconds=1), "data_level": 0.5,
            "interface_version": 1, "quality_version": 0, "revision_version": 3,
            "file_create_date": datetime.datetime(2001, 2, 3, 4, 5, 6),
            "exists_on_disk": True, "quality_checked": None, "shasum": "0" * 40,
            "verbose_provenance": "100%", "check_date": None}
    with Session(engine) as session:
        product_id = session.scalars(select(Product.product_id)).first()
        rows = [{**base, "filename": f"x{i}.dat", "product_id": product_id,
                 "revision_version": i, "exists_on_disk": bool(i)} for i in range(3)]
        insert_rows(session, File.__table__, rows)
        session.commit()
        got = session.scalars(select(File).where(File.filename.like("x%.dat"))
                              .order_by(File.filename)).all()
        assert [(f.filename, f.utc_file_date, f.utc_start_time, f.utc_stop_time,
                 f.data_level, f.revision_version, f.file_create_date, f.exists_on_disk,
                 f.quality_checked, f.verbose_provenance) for f in got] == [
            (r["filename"], r["utc_file_date"], r["utc_start_time"], r["utc_stop_time"],
             0.5, r["revision_version"], r["file_create_date"], r["exists_on_disk"],
             None, "100%") for r in rows]
        assert got[0].process_keywords is None  # a column left out: its default


def test_insert_rows_first_in_a_transaction_is_committed(hello, engine_for):
    """insert_rows as the first statement on a connection, then commit(): the rows
    are there for another connection (on PostgreSQL the COPY goes through the
    driver; SQLAlchemy must know of the transaction for commit() to end it)."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from dbprocessing.db import core
    from dbprocessing.db.engine import for_writing, insert_rows
    from dbprocessing.db.models import Invocation

    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    engine = engine_for(hello.db_url)
    with Session(engine) as session:  # an invocation for the events to belong to
        invocation = Invocation(command="test", arguments="", hostname="h", pid=1, user="u",
                                started_at=datetime.datetime(2026, 1, 1))
        session.add(invocation)
        session.commit()
        invocation_id = invocation.invocation_id
    with for_writing(engine).connect() as writer:
        insert_rows(writer, core.ingest_event, [
            {"invocation_id": invocation_id, "filename": f"f{i}.dat", "accepted": False,
             "file_id": None, "product_id": None, "reason": "no product claims it",
             "at": datetime.datetime(2026, 1, 1, 0, 0, i)} for i in range(2)])
        writer.commit()
    with engine.connect() as reader:
        assert reader.execute(select(core.ingest_event.c.filename).order_by(
            core.ingest_event.c.filename)).scalars().all() == ["f0.dat", "f1.dat"]


def test_insert_rows_ids_and_one_of(hello, engine_for):
    # The new keys come back in the rows' order, the same keys the column's default
    # gives (PostgreSQL: taken from the sequence first); one_of is an IN (SQLite) or
    # an = ANY(array) (PostgreSQL) with the same answer.
    import datetime

    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from dbprocessing.db.engine import insert_rows_ids, one_of
    from dbprocessing.db.models import File, Product

    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    engine = engine_for(hello.db_url)
    day = datetime.date(1999, 12, 31)
    stamp = datetime.datetime(1999, 12, 31)
    base = {"utc_file_date": day, "utc_start_time": stamp, "utc_stop_time": stamp,
            "data_level": 0, "interface_version": 1, "quality_version": 0,
            "file_create_date": stamp, "exists_on_disk": True, "shasum": "0" * 40}
    with Session(engine) as session:
        product_id = session.scalars(select(Product.product_id)).first()

        def rows(prefix, n):  # distinct identities: the prefix's own revisions
            return [{**base, "filename": f"{prefix}{i}.dat", "product_id": product_id,
                     "revision_version": 10 * "abc".index(prefix) + i} for i in range(n)]

        first = insert_rows_ids(session, File.__table__, rows("a", 3), "filename")
        later = insert_rows_ids(session, File.__table__, rows("b", 2), "filename")
        assert first == sorted(first) and later == sorted(later) and later[0] > first[-1]
        session.commit()
        assert {n: i for n, i in session.execute(select(File.filename, File.file_id))} == {
            "a0.dat": first[0], "a1.dat": first[1], "a2.dat": first[2],
            "b0.dat": later[0], "b1.dat": later[1]}
        assert insert_rows_ids(session, File.__table__, [], "filename") == []
        assert set(session.scalars(select(File.filename).where(one_of(
            session, File.filename, ["a1.dat", "b1.dat", "c.dat"])))) == {"a1.dat", "b1.dat"}
        assert set(session.scalars(select(File.file_id).where(one_of(
            session, File.utc_file_date, {day})))) == set(first + later)
        assert not session.scalars(select(File.file_id).where(
            one_of(session, File.file_id, []))).all()
        if engine.dialect.name == "postgresql":
            # A default from a sequence the column does not own: read back by name.
            session.execute(text("CREATE SEQUENCE loose_ids START 1000"))
            session.execute(text("ALTER TABLE file ALTER COLUMN file_id "
                                 "SET DEFAULT nextval('loose_ids')"))
            session.execute(text("ALTER SEQUENCE file_file_id_seq OWNED BY NONE"))
            assert insert_rows_ids(session, File.__table__, rows("c", 2),
                                   "filename") == [1000, 1001]
            session.rollback()


def test_the_database_failing_midway_is_one_line_and_writes_nothing(created_db, backend,
                                                                     example_dir):
    """The database refusing a write halfway (SQLite: the disk full, by a file size
    limit on the command; PostgreSQL: a table locked elsewhere past lock_timeout):
    one line with the driver's words, no SQL, exit 1, nothing of the config kept."""
    conf = str(example_dir / "hello.conf")
    command = [sys.executable, str(REPO / "scripts" / "addFromConfig.py")]
    if backend == "sqlite":
        def limit() -> None:  # writes past 40,000 bytes fail (EFBIG), as on a full disk
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

        result = subprocess.run([*command, "-m", created_db, conf], preexec_fn=limit,
                                capture_output=True, text=True, timeout=120)
        said = "the database failed: disk I/O error"
    else:
        url = make_url(created_db)
        slow = url.update_query_dict({"options": url.query["options"] + " -clock_timeout=300"})
        engine = sa.create_engine(created_db)
        with engine.connect() as holder:  # holds the table until the command gave up
            holder.execute(sa.text("LOCK TABLE satellite IN ACCESS EXCLUSIVE MODE"))
            result = subprocess.run(
                [*command, "-m", slow.render_as_string(hide_password=False), conf],
                capture_output=True, text=True, timeout=120)
            holder.rollback()
        engine.dispose()
        said = "the database failed: canceling statement due to lock timeout"
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [f"addFromConfig: error: {said}"]
    engine = sa.create_engine(created_db)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM product")).scalar() == 0
    engine.dispose()
