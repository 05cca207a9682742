"""The original dbprocessing's DDL, written out for adoption tests.

``build_original(engine, older=True)`` creates the tables as an older release
of the original had them (no unixtime table, no yesterday/tomorrow, no
codedir/inspectordir/errordir) or, with ``older=False``, as release 0.1.0 had
them; both with the original's mistaken unique constraint on the file table
(left unnamed here, as the migration must cope with any name).
``build_original(engine, older=True, file_newest_version=True)`` (or
``build_2014(engine)``) is the schema of 2014, the older one that still had
``file.newest_version``: the schema ``RBSP_DUMP`` was made with.
``load_dump(engine, meta, dump_path)`` inserts a dump from ``tests/data/``
(``TESTDB_DUMP`` by default; see tests/data/README.md for their origin).
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import sqlalchemy as sa

DATA = Path(__file__).resolve().parent / "data"
TESTDB_DUMP = DATA / "testDB_dump.json"
RBSP_DUMP = DATA / "RBSP_MAGEIS_dump.json"

LATER_COLUMNS = {"mission": {"codedir", "inspectordir", "errordir"},
                 "productprocesslink": {"yesterday", "tomorrow"}}

ORDER = ["mission", "satellite", "instrument", "product", "instrumentproductlink", "process",
         "productprocesslink", "code", "inspector", "file", "unixtime", "filefilelink",
         "filecodelink", "processqueue", "release", "logging", "logging_file"]


def _tables(meta: sa.MetaData, older: bool, file_newest_version: bool) -> None:
    # Column type shorthands.
    S, I, T, F, B, D, DT = (sa.String, sa.Integer, sa.Text, sa.Float,  # noqa: E741
                            sa.Boolean, sa.Date, sa.DateTime)
    fk = sa.ForeignKey
    mission_cols = [sa.Column("mission_id", I, primary_key=True),
                    sa.Column("mission_name", S(20), nullable=False, unique=True),
                    sa.Column("rootdir", S(50), nullable=False),
                    sa.Column("incoming_dir", S(50), nullable=False)]
    if not older:
        mission_cols += [sa.Column(c, S(50)) for c in ("codedir", "inspectordir", "errordir")]
    sa.Table("mission", meta, *mission_cols)
    sa.Table("satellite", meta, sa.Column("satellite_id", I, primary_key=True),
             sa.Column("satellite_name", S(20), nullable=False),
             sa.Column("mission_id", I, fk("mission.mission_id"), nullable=False),
             sa.UniqueConstraint("satellite_name", "mission_id"))
    sa.Table("instrument", meta, sa.Column("instrument_id", I, primary_key=True),
             sa.Column("instrument_name", S(20), nullable=False),
             sa.Column("satellite_id", I, fk("satellite.satellite_id"), nullable=False),
             sa.UniqueConstraint("instrument_name", "satellite_id"))
    sa.Table("product", meta, sa.Column("product_id", I, primary_key=True),
             sa.Column("product_name", S(100), nullable=False),
             sa.Column("instrument_id", I, fk("instrument.instrument_id"), nullable=False),
             sa.Column("relative_path", S(100), nullable=False),
             sa.Column("level", F, nullable=False), sa.Column("format", T, nullable=False),
             sa.Column("product_description", T),
             sa.UniqueConstraint("product_name", "instrument_id", "relative_path"))
    sa.Table("instrumentproductlink", meta,
             sa.Column("instrument_id", I, fk("instrument.instrument_id"), primary_key=True),
             sa.Column("product_id", I, fk("product.product_id"), primary_key=True))
    sa.Table("process", meta, sa.Column("process_id", I, primary_key=True),
             sa.Column("process_name", S(50), nullable=False),
             sa.Column("output_product", I, fk("product.product_id")),
             sa.Column("output_timebase", S(10)), sa.Column("extra_params", T),
             sa.UniqueConstraint("process_name", "output_product"))
    link_cols = [sa.Column("process_id", I, fk("process.process_id"), primary_key=True),
                 sa.Column("input_product_id", I, fk("product.product_id"), primary_key=True),
                 sa.Column("optional", B, nullable=False)]
    if not older:
        link_cols += [sa.Column("yesterday", I, nullable=False),
                      sa.Column("tomorrow", I, nullable=False)]
    sa.Table("productprocesslink", meta, *link_cols)
    versions = [sa.Column(c, sa.SmallInteger, nullable=False) for c in (
        "interface_version", "quality_version", "revision_version")]
    # The 2014 schema still flagged the newest version of a file in the row itself.
    newest = [sa.Column("newest_version", B, nullable=False)] if file_newest_version else []
    sa.Table("file", meta, sa.Column("file_id", I, primary_key=True),
             sa.Column("filename", S(250), nullable=False, unique=True),
             sa.Column("utc_file_date", D), sa.Column("utc_start_time", DT),
             sa.Column("utc_stop_time", DT), sa.Column("data_level", F, nullable=False),
             *versions, sa.Column("verbose_provenance", T), sa.Column("check_date", DT),
             sa.Column("quality_comment", T), sa.Column("caveats", S(20)),
             sa.Column("file_create_date", DT, nullable=False),
             sa.Column("met_start_time", F), sa.Column("met_stop_time", F),
             sa.Column("exists_on_disk", B, nullable=False), sa.Column("quality_checked", B),
             sa.Column("product_id", I, fk("product.product_id"), nullable=False),
             sa.Column("shasum", S(40)), sa.Column("process_keywords", T), *newest,
             sa.UniqueConstraint("utc_file_date", "product_id", "interface_version",
                                 "quality_comment", "revision_version"),
             sa.CheckConstraint("utc_start_time <= utc_stop_time"))
    if not older:
        sa.Table("unixtime", meta,
                 sa.Column("file_id", I, fk("file.file_id"), primary_key=True),
                 sa.Column("unix_start", I, index=True), sa.Column("unix_stop", I, index=True))
    code_versions = [sa.Column(c, sa.SmallInteger, nullable=False) for c in (
        "interface_version", "quality_version", "revision_version", "output_interface_version")]
    sa.Table("code", meta, sa.Column("code_id", I, primary_key=True),
             sa.Column("filename", S(250), nullable=False),
             sa.Column("relative_path", S(100), nullable=False),
             sa.Column("code_start_date", D, nullable=False),
             sa.Column("code_stop_date", D, nullable=False),
             sa.Column("code_description", T, nullable=False),
             sa.Column("process_id", I, fk("process.process_id"), nullable=False),
             *code_versions, sa.Column("active_code", B, nullable=False),
             sa.Column("date_written", D, nullable=False), sa.Column("shasum", S(40)),
             sa.Column("newest_version", B, nullable=False), sa.Column("arguments", T),
             sa.Column("ram", F), sa.Column("cpu", sa.SmallInteger))
    insp_versions = [sa.Column(c, sa.SmallInteger, nullable=False) for c in (
        "interface_version", "quality_version", "revision_version", "output_interface_version")]
    sa.Table("inspector", meta, sa.Column("inspector_id", I, primary_key=True),
             sa.Column("filename", S(250), nullable=False),
             sa.Column("relative_path", S(250), nullable=False),
             sa.Column("description", T, nullable=False), *insp_versions,
             sa.Column("active_code", B, nullable=False),
             sa.Column("date_written", D, nullable=False), sa.Column("shasum", S(40)),
             sa.Column("newest_version", B, nullable=False), sa.Column("arguments", T),
             sa.Column("product", I, fk("product.product_id"), nullable=False))
    sa.Table("filefilelink", meta,
             sa.Column("source_file", I, fk("file.file_id"), primary_key=True),
             sa.Column("resulting_file", I, fk("file.file_id"), primary_key=True))
    sa.Table("filecodelink", meta,
             sa.Column("resulting_file", I, fk("file.file_id"), primary_key=True),
             sa.Column("source_code", I, fk("code.code_id"), primary_key=True))
    sa.Table("processqueue", meta, sa.Column("file_id", I, fk("file.file_id"), primary_key=True),
             sa.Column("version_bump", sa.SmallInteger))
    sa.Table("release", meta, sa.Column("file_id", I, fk("file.file_id"), primary_key=True),
             sa.Column("release_num", S(20), primary_key=True))
    sa.Table("logging", meta, sa.Column("logging_id", I, primary_key=True),
             sa.Column("currently_processing", B, nullable=False), sa.Column("pid", I),
             sa.Column("processing_start_time", DT, nullable=False),
             sa.Column("processing_end_time", DT), sa.Column("comment", T),
             sa.Column("mission_id", I, fk("mission.mission_id"), nullable=False),
             sa.Column("user", S(30), nullable=False), sa.Column("hostname", S(100), nullable=False))
    sa.Table("logging_file", meta, sa.Column("logging_file_id", I, primary_key=True),
             sa.Column("logging_id", I, fk("logging.logging_id"), nullable=False),
             sa.Column("file_id", I, fk("file.file_id"), nullable=False),
             sa.Column("code_id", I, fk("code.code_id"), nullable=False),
             sa.Column("comments", T))


def read_dump(dump: Path = TESTDB_DUMP) -> dict[str, list[dict]]:
    return json.loads(dump.read_text())


def _typed(table: sa.Table, row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if key not in table.c:
            continue
        kind = table.c[key].type
        if isinstance(value, str) and isinstance(kind, sa.DateTime):
            value = datetime.datetime.fromisoformat(value)
        elif isinstance(value, str) and isinstance(kind, sa.Date):
            value = datetime.datetime.fromisoformat(value).date()
        out[key] = value
    return out


def build_original(engine: sa.Engine, older: bool, *,
                   file_newest_version: bool = False) -> sa.MetaData:
    if file_newest_version and not older:
        raise ValueError("file.newest_version belongs to the older (2014) schema only")
    meta = sa.MetaData()
    _tables(meta, older, file_newest_version)
    meta.create_all(engine)
    return meta


def build_2014(engine: sa.Engine) -> sa.MetaData:
    """The original's schema of 2014 (the one ``RBSP_DUMP`` was made with)."""
    return build_original(engine, older=True, file_newest_version=True)


def load_dump(engine: sa.Engine, meta: sa.MetaData,
              dump_path: Path = TESTDB_DUMP) -> dict[str, list[dict]]:
    """Insert every row of the dump (less columns the schema lacks); return what was inserted."""
    dump = read_dump(dump_path)
    inserted: dict[str, list[dict]] = {}
    with engine.begin() as conn:
        for name in ORDER:
            if name not in meta.tables or not dump.get(name):
                continue
            table = meta.tables[name]
            rows = [_typed(table, row) for row in dump[name]]
            conn.execute(table.insert(), rows)
            inserted[name] = rows
        if engine.dialect.name == "postgresql":
            # The dump carries explicit ids; move the sequences past them.
            for name in ORDER:
                table = meta.tables.get(name)
                if table is None or not dump.get(name):
                    continue
                pk = list(table.primary_key.columns)
                if len(pk) == 1 and isinstance(pk[0].type, sa.Integer) and pk[0].autoincrement \
                        and not pk[0].foreign_keys:
                    conn.execute(sa.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', '{pk[0].name}'), "
                        f"(SELECT max(\"{pk[0].name}\") FROM \"{name}\"))"))
    return inserted
