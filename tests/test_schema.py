"""Schema: CreateDB, MigrateDB, adoption of the original's databases, model/migration parity."""
from __future__ import annotations

import calendar
import datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from dbprocessing.cli import create_db, migrate_db
from dbprocessing.db import core, open_database
from dbprocessing.db.models import Base
from dbprocessing.db.schema import HEAD_REVISION, inspect_schema, script_directory
from dbprocessing.errors import SchemaError

from .legacy_schema import LATER_COLUMNS, ORDER, build_original, load_dump


def test_create_db_makes_head_schema_matching_models(db_url, engine_for, capsys):
    assert create_db.main([db_url]) == 0
    assert "schema revision 0006" in capsys.readouterr().out
    engine = engine_for(db_url)
    assert inspect_schema(engine).kind == "current"
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())


def test_head_revision_constant_is_alembics_head():
    # Commands check the schema against HEAD_REVISION without loading alembic;
    # the test above proves that alembic's head matches the models.
    assert HEAD_REVISION == script_directory().get_current_head()


def test_core_views_match_the_models():
    # db/core.py's light tables (a run's fixed path, without the ORM) name real
    # columns of the models, with the models' types where they give one.
    for view in core.TABLES:
        table = Base.metadata.tables[view.name]
        for column in view.columns:
            assert column.name in table.columns, f"{view.name}.{column.name}"
            if not isinstance(column.type, sa.types.NullType):
                assert isinstance(table.columns[column.name].type, type(column.type)), \
                    f"{view.name}.{column.name}"


def test_several_revisions_in_the_version_table_are_refused(created_db, engine_for):
    engine = engine_for(created_db)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO alembic_version (version_num) VALUES ('0004')"))
    with pytest.raises(SchemaError, match="several revisions"):
        open_database(created_db)


def test_create_db_refuses_a_database_with_tables(created_db, engine_for, capsys):
    assert create_db.main([created_db]) == 2
    assert "already has tables" in capsys.readouterr().err


def test_create_db_sqlite_path(tmp_path, capsys):
    path = tmp_path / "new.sqlite"
    assert create_db.main(["-d", "sqlite", str(path)]) == 0
    assert path.is_file()
    assert create_db.main([str(path)]) == 2


def test_file_identity_is_unique_on_version_not_comment(created_db, engine_for):
    engine = engine_for(created_db)
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO mission (mission_name, rootdir, incoming_dir) VALUES ('m', '/r', 'i')"))
        conn.execute(sa.text("INSERT INTO satellite (satellite_name, mission_id) VALUES ('s', 1)"))
        conn.execute(sa.text(
            "INSERT INTO instrument (instrument_name, satellite_id) VALUES ('i', 1)"))
        conn.execute(sa.text("INSERT INTO product (product_name, instrument_id, relative_path, "
                             "level, format) VALUES ('p', 1, 'p', 0, 'p_{Y}')"))
    insert = sa.text(
        "INSERT INTO file (filename, utc_file_date, data_level, interface_version, "
        "quality_version, revision_version, quality_comment, file_create_date, "
        "exists_on_disk, product_id) VALUES (:name, '2020-01-01', 0, 1, :q, 0, :comment, "
        "'2020-01-01 00:00:00', true, 1)")
    with engine.begin() as conn:
        conn.execute(insert, {"name": "a", "q": 0, "comment": "x"})
        conn.execute(insert, {"name": "b", "q": 1, "comment": "x"})  # other quality: fine
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.execute(insert, {"name": "c", "q": 0, "comment": "other comment"})


@pytest.mark.parametrize("older", [True, False], ids=["older-original", "original-0.1.0"])
def test_adopt_original_database_keeps_every_row(db_url, engine_for, older, capsys):
    engine = engine_for(db_url)
    meta = build_original(engine, older=older)
    inserted = load_dump(engine, meta)
    assert inspect_schema(engine).kind == "original"
    with pytest.raises(SchemaError, match="MigrateDB"):
        open_database(db_url).dispose()

    assert migrate_db.main(["-m", db_url, "-y"]) == 0
    out = capsys.readouterr().out
    revisions = ("0001", "0002", "0003", "0004", "0005", "0006")
    assert all(f"applying {rev}" in out for rev in revisions)
    assert inspect_schema(engine).kind == "current"

    current = sa.MetaData()
    current.reflect(engine)
    with engine.connect() as conn:
        for name in ORDER:
            if name not in inserted:
                continue
            table = current.tables[name]
            pk = [c.name for c in table.primary_key.columns]
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(table).order_by(*[table.c[c] for c in pk]))]
            assert len(rows) == len(inserted[name]), name
            for got, want in zip(rows, sorted(inserted[name],
                                              key=lambda r: tuple(r[c] for c in pk)),
                                 strict=True):
                for key, value in want.items():
                    assert _same(got[key], value), (name, key, got[key], value)
                for key in LATER_COLUMNS.get(name, ()) if older else ():
                    assert got[key] in (None, 0), (name, key)
        # unixtime holds epoch seconds of every file's start and stop.
        files = {r.file_id: r for r in conn.execute(sa.text(
            "SELECT file_id, utc_start_time, utc_stop_time FROM file"))}
        unix = {r.file_id: r for r in conn.execute(sa.text("SELECT * FROM unixtime"))}
        assert set(unix) == set(files)
        if older:
            for file_id, row in files.items():
                start = row.utc_start_time
                if isinstance(start, str):  # sa.text() on SQLite returns text
                    start = datetime.datetime.fromisoformat(start)
                assert unix[file_id].unix_start == calendar.timegm(start.timetuple())
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # An adopted database keeps its own column widths and constraint names; what must
    # hold is that no table or column of ours is missing.
    missing = [d for d in diff if d[0] in ("add_table", "add_column")]
    assert missing == []
    assert migrate_db.main(["-m", db_url, "-y"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def _same(got, want) -> bool:
    if hasattr(got, "isoformat") and hasattr(want, "isoformat"):
        return got == want
    if isinstance(want, float) or isinstance(got, float):
        return want is not None and got is not None and abs(float(got) - float(want)) < 1e-9
    return got == want


def test_newer_schema_is_refused(created_db, engine_for, capsys):
    engine = engine_for(created_db)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer than this dbprocessing"):
        open_database(created_db)
    assert migrate_db.main(["-m", created_db, "-y"]) == 2
    assert "newer" in capsys.readouterr().err


def test_old_revision_is_upgraded(db_url, engine_for, capsys):
    from alembic import command

    from dbprocessing.db.schema import alembic_config

    engine = engine_for(db_url)
    config = alembic_config()
    with engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.commit()
    state = inspect_schema(engine)
    assert (state.kind, state.revision, state.pending) == ("old", "0001",
                                                             ("0002", "0003", "0004", "0005",
                                                              "0006"))
    with pytest.raises(SchemaError, match="MigrateDB"):
        open_database(db_url)
    assert migrate_db.main(["-m", db_url]) == 2  # no terminal to confirm on
    assert "pass -y" in capsys.readouterr().err
    assert inspect_schema(engine).kind == "old"
    assert migrate_db.main(["-m", db_url, "-y"]) == 0
    assert inspect_schema(engine).kind == "current"


def test_migrate_empty_database_is_refused(db_url, capsys):
    if db_url.startswith("sqlite"):
        open(db_url.split("///", 1)[1], "w").close()
    assert migrate_db.main(["-m", db_url, "-y"]) == 2
    assert "CreateDB" in capsys.readouterr().err
