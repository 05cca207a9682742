"""The original dbprocessing's schema, as deployed by its release 0.1.0.

On an empty database this creates every table.  On a database made by the
original (MigrateDB stamps nothing first: there is no alembic_version table)
it adds only what older releases of the original lacked: the ``unixtime``
table (with a row for every file that lacks one), ``productprocesslink.yesterday`` and
``tomorrow`` (0), and ``mission.codedir``, ``inspectordir``, ``errordir``
(NULL).  The 2014 schema's ``file.newest_version`` is dropped: NOT NULL with
no default, it would refuse every file this dbprocessing records, and what it
said (the highest version of a product and date) the versions say.  No row is
touched otherwise.

The file table's unique constraint names quality_comment, as the original's
did; revision 0002 fixes it.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from __future__ import annotations

import calendar

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _version_columns() -> list[sa.Column]:
    return [sa.Column(name, sa.SmallInteger(), nullable=False)
            for name in ("interface_version", "quality_version", "revision_version",
                         "output_interface_version")]


def _tables() -> dict[str, tuple]:
    """Table name -> (columns and constraints), in creation order."""
    return {
        "mission": (
            sa.Column("mission_id", sa.Integer(), primary_key=True),
            sa.Column("mission_name", sa.String(20), nullable=False),
            sa.Column("rootdir", sa.String(150), nullable=False),
            sa.Column("incoming_dir", sa.String(150), nullable=False),
            sa.Column("codedir", sa.String(150), nullable=True),
            sa.Column("inspectordir", sa.String(150), nullable=True),
            sa.Column("errordir", sa.String(150), nullable=True),
            sa.UniqueConstraint("mission_name", name="uq_mission_mission_name"),
        ),
        "satellite": (
            sa.Column("satellite_id", sa.Integer(), primary_key=True),
            sa.Column("satellite_name", sa.String(20), nullable=False),
            sa.Column("mission_id", sa.Integer(), sa.ForeignKey(
                "mission.mission_id", name="fk_satellite_mission_id_mission"), nullable=False),
            sa.UniqueConstraint("satellite_name", "mission_id",
                                name="uq_satellite_satellite_name_mission_id"),
        ),
        "instrument": (
            sa.Column("instrument_id", sa.Integer(), primary_key=True),
            sa.Column("instrument_name", sa.String(20), nullable=False),
            sa.Column("satellite_id", sa.Integer(), sa.ForeignKey(
                "satellite.satellite_id", name="fk_instrument_satellite_id_satellite"),
                nullable=False),
            sa.UniqueConstraint("instrument_name", "satellite_id",
                                name="uq_instrument_instrument_name_satellite_id"),
        ),
        "product": (
            sa.Column("product_id", sa.Integer(), primary_key=True),
            sa.Column("product_name", sa.String(100), nullable=False),
            sa.Column("instrument_id", sa.Integer(), sa.ForeignKey(
                "instrument.instrument_id", name="fk_product_instrument_id_instrument"),
                nullable=False),
            sa.Column("relative_path", sa.String(100), nullable=False),
            sa.Column("level", sa.Float(), nullable=False),
            sa.Column("format", sa.Text(), nullable=False),
            sa.Column("product_description", sa.Text(), nullable=True),
            sa.UniqueConstraint("product_name", "instrument_id", "relative_path",
                                name="uq_product_product_name_instrument_id_relative_path"),
        ),
        "instrumentproductlink": (
            sa.Column("instrument_id", sa.Integer(), sa.ForeignKey(
                "instrument.instrument_id",
                name="fk_instrumentproductlink_instrument_id_instrument"), primary_key=True),
            sa.Column("product_id", sa.Integer(), sa.ForeignKey(
                "product.product_id", name="fk_instrumentproductlink_product_id_product"),
                primary_key=True),
        ),
        "process": (
            sa.Column("process_id", sa.Integer(), primary_key=True),
            sa.Column("process_name", sa.String(50), nullable=False),
            sa.Column("output_product", sa.Integer(), sa.ForeignKey(
                "product.product_id", name="fk_process_output_product_product"),
                nullable=True),
            sa.Column("output_timebase", sa.String(10), nullable=False),
            sa.Column("extra_params", sa.Text(), nullable=True),
            sa.UniqueConstraint("process_name", "output_product",
                                name="uq_process_process_name_output_product"),
        ),
        "productprocesslink": (
            sa.Column("process_id", sa.Integer(), sa.ForeignKey(
                "process.process_id", name="fk_productprocesslink_process_id_process"),
                primary_key=True),
            sa.Column("input_product_id", sa.Integer(), sa.ForeignKey(
                "product.product_id", name="fk_productprocesslink_input_product_id_product"),
                primary_key=True),
            sa.Column("optional", sa.Boolean(), nullable=False),
            sa.Column("yesterday", sa.Integer(), server_default=sa.text("0"), nullable=False),
            sa.Column("tomorrow", sa.Integer(), server_default=sa.text("0"), nullable=False),
        ),
        "file": (
            sa.Column("file_id", sa.Integer(), primary_key=True),
            sa.Column("filename", sa.String(250), nullable=False),
            sa.Column("utc_file_date", sa.Date(), nullable=True),
            sa.Column("utc_start_time", sa.DateTime(), nullable=True),
            sa.Column("utc_stop_time", sa.DateTime(), nullable=True),
            sa.Column("data_level", sa.Float(), nullable=False),
            sa.Column("interface_version", sa.SmallInteger(), nullable=False),
            sa.Column("quality_version", sa.SmallInteger(), nullable=False),
            sa.Column("revision_version", sa.SmallInteger(), nullable=False),
            sa.Column("verbose_provenance", sa.Text(), nullable=True),
            sa.Column("check_date", sa.DateTime(), nullable=True),
            sa.Column("quality_comment", sa.Text(), nullable=True),
            sa.Column("caveats", sa.Text(), nullable=True),
            sa.Column("file_create_date", sa.DateTime(), nullable=False),
            sa.Column("met_start_time", sa.Float(), nullable=True),
            sa.Column("met_stop_time", sa.Float(), nullable=True),
            sa.Column("exists_on_disk", sa.Boolean(), nullable=False),
            sa.Column("quality_checked", sa.Boolean(), nullable=True),
            sa.Column("product_id", sa.Integer(), sa.ForeignKey(
                "product.product_id", name="fk_file_product_id_product"), nullable=False),
            sa.Column("shasum", sa.String(40), nullable=True),
            sa.Column("process_keywords", sa.Text(), nullable=True),
            sa.UniqueConstraint("filename", name="uq_file_filename"),
            # The original's mistake, kept here as deployed (0002 fixes it).
            sa.UniqueConstraint("utc_file_date", "product_id", "interface_version",
                                "quality_comment", "revision_version",
                                name="Unique file version"),
            sa.CheckConstraint("interface_version >= 1", name=op.f("ck_file_interface_positive")),
            sa.CheckConstraint("utc_start_time <= utc_stop_time",
                               name=op.f("ck_file_start_before_stop")),
        ),
        "unixtime": (
            sa.Column("file_id", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_unixtime_file_id_file"), primary_key=True),
            sa.Column("unix_start", sa.Integer(), nullable=True),
            sa.Column("unix_stop", sa.Integer(), nullable=True),
        ),
        "code": (
            sa.Column("code_id", sa.Integer(), primary_key=True),
            sa.Column("filename", sa.String(250), nullable=False),
            sa.Column("relative_path", sa.String(100), nullable=False),
            sa.Column("code_start_date", sa.Date(), nullable=False),
            sa.Column("code_stop_date", sa.Date(), nullable=False),
            sa.Column("code_description", sa.Text(), nullable=False),
            sa.Column("process_id", sa.Integer(), sa.ForeignKey(
                "process.process_id", name="fk_code_process_id_process"), nullable=False),
            *_version_columns(),
            sa.Column("active_code", sa.Boolean(), nullable=False),
            sa.Column("date_written", sa.Date(), nullable=False),
            sa.Column("shasum", sa.String(40), nullable=True),
            sa.Column("newest_version", sa.Boolean(), nullable=False),
            sa.Column("arguments", sa.Text(), nullable=True),
            sa.Column("ram", sa.Float(), nullable=True),
            sa.Column("cpu", sa.SmallInteger(), nullable=True),
        ),
        "inspector": (
            sa.Column("inspector_id", sa.Integer(), primary_key=True),
            sa.Column("filename", sa.String(250), nullable=False),
            sa.Column("relative_path", sa.String(250), nullable=False),
            sa.Column("description", sa.Text(), nullable=False),
            *_version_columns(),
            sa.Column("active_code", sa.Boolean(), nullable=False),
            sa.Column("date_written", sa.Date(), nullable=False),
            sa.Column("shasum", sa.String(40), nullable=True),
            sa.Column("newest_version", sa.Boolean(), nullable=False),
            sa.Column("arguments", sa.Text(), nullable=True),
            sa.Column("product", sa.Integer(), sa.ForeignKey(
                "product.product_id", name="fk_inspector_product_product"), nullable=False),
        ),
        "filefilelink": (
            sa.Column("source_file", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_filefilelink_source_file_file"), primary_key=True),
            sa.Column("resulting_file", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_filefilelink_resulting_file_file"), primary_key=True),
            sa.CheckConstraint("source_file <> resulting_file", name=op.f("ck_filefilelink_not_self")),
        ),
        "filecodelink": (
            sa.Column("resulting_file", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_filecodelink_resulting_file_file"), primary_key=True),
            sa.Column("source_code", sa.Integer(), sa.ForeignKey(
                "code.code_id", name="fk_filecodelink_source_code_code"), primary_key=True),
        ),
        "processqueue": (
            sa.Column("file_id", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_processqueue_file_id_file"), primary_key=True),
            sa.Column("version_bump", sa.SmallInteger(), nullable=True),
            sa.CheckConstraint("version_bump IN (0, 1, 2)",
                               name=op.f("ck_processqueue_bump_component")),
        ),
        "release": (
            sa.Column("file_id", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_release_file_id_file"), primary_key=True),
            sa.Column("release_num", sa.String(20), primary_key=True),
        ),
        "logging": (
            sa.Column("logging_id", sa.Integer(), primary_key=True),
            sa.Column("currently_processing", sa.Boolean(), nullable=False),
            sa.Column("pid", sa.Integer(), nullable=True),
            sa.Column("processing_start_time", sa.DateTime(), nullable=False),
            sa.Column("processing_end_time", sa.DateTime(), nullable=True),
            sa.Column("comment", sa.Text(), nullable=True),
            sa.Column("mission_id", sa.Integer(), sa.ForeignKey(
                "mission.mission_id", name="fk_logging_mission_id_mission"), nullable=False),
            sa.Column("user", sa.String(30), nullable=False),
            sa.Column("hostname", sa.String(100), nullable=False),
        ),
        "logging_file": (
            sa.Column("logging_file_id", sa.Integer(), primary_key=True),
            sa.Column("logging_id", sa.Integer(), sa.ForeignKey(
                "logging.logging_id", name="fk_logging_file_logging_id_logging"),
                nullable=False),
            sa.Column("file_id", sa.Integer(), sa.ForeignKey(
                "file.file_id", name="fk_logging_file_file_id_file"), nullable=False),
            sa.Column("code_id", sa.Integer(), sa.ForeignKey(
                "code.code_id", name="fk_logging_file_code_id_code"), nullable=False),
            sa.Column("comments", sa.Text(), nullable=True),
        ),
    }


# Columns that older releases of the original lacked: (table, column) -> Column.
_LATER_COLUMNS = {
    ("mission", "codedir"): lambda: sa.Column("codedir", sa.String(150), nullable=True),
    ("mission", "inspectordir"): lambda: sa.Column("inspectordir", sa.String(150), nullable=True),
    ("mission", "errordir"): lambda: sa.Column("errordir", sa.String(150), nullable=True),
    ("productprocesslink", "yesterday"): lambda: sa.Column(
        "yesterday", sa.Integer(), server_default=sa.text("0"), nullable=False),
    ("productprocesslink", "tomorrow"): lambda: sa.Column(
        "tomorrow", sa.Integer(), server_default=sa.text("0"), nullable=False),
}


def _epoch(value) -> int | None:
    return None if value is None else calendar.timegm(value.timetuple())


def _fill_unixtime(bind) -> None:
    rows = bind.execute(sa.text(
        "SELECT f.file_id, f.utc_start_time, f.utc_stop_time FROM file f "
        "LEFT JOIN unixtime u ON u.file_id = f.file_id WHERE u.file_id IS NULL")).all()
    if not rows:
        return
    unixtime = sa.table("unixtime", sa.column("file_id"), sa.column("unix_start"),
                        sa.column("unix_stop"))
    bind.execute(unixtime.insert(), [
        {"file_id": r[0], "unix_start": _epoch(_as_datetime(r[1])),
         "unix_stop": _epoch(_as_datetime(r[2]))} for r in rows])


def _as_datetime(value):
    # SQLite hands text back through sa.text(); PostgreSQL hands datetimes.
    if isinstance(value, str):
        import datetime
        return datetime.datetime.fromisoformat(value)
    return value


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    existing = set(inspector.get_table_names())
    for name, spec in _tables().items():
        if name not in existing:
            op.create_table(name, *spec)
    # Every file needs its unixtime row (older releases had no such table,
    # and some databases of 0.1.0 lack rows for files made before it).
    _fill_unixtime(bind)
    for (table, column), make in _LATER_COLUMNS.items():
        if table in existing and column not in {
                c["name"] for c in inspector.get_columns(table)}:
            with op.batch_alter_table(table) as batch:
                batch.add_column(make())
    if "file" in existing and "newest_version" in {
            c["name"] for c in inspector.get_columns("file")}:
        # From the full reflection: batch mode's own would lose the unnamed CHECK.
        table = sa.Table("file", sa.MetaData(), autoload_with=bind)
        with op.batch_alter_table("file", copy_from=table) as batch:
            batch.drop_column("newest_version")


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
