"""Our fixes to the original's schema: file identity, atomic lock, ingest journal.

* The file table's unique constraint named ``quality_comment`` where it meant
  ``quality_version``: it is replaced by ``uq_file_identity`` over (product,
  utc_file_date, interface, quality, revision).
* A partial unique index on ``logging(currently_processing) WHERE
  currently_processing`` makes taking the processing lock one atomic INSERT.
  Should an adopted database hold more than one lock row (the original's
  check-then-insert race), all but the newest are closed with a comment.
* Indexes for set-based queries on the file and unixtime tables.
* ``ingest_pending``: moves promised by committed file rows (crash-safe ingest).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

IDENTITY = ["utc_file_date", "product_id", "interface_version", "quality_version",
            "revision_version"]

INDEXES = [
    ("ix_file_product_date", "file", ["product_id", "utc_file_date"]),
    ("ix_file_data_level", "file", ["data_level"]),
    ("ix_unixtime_unix_start", "unixtime", ["unix_start"]),
    ("ix_unixtime_unix_stop", "unixtime", ["unix_stop"]),
]


def _fix_file_identity(bind) -> None:
    inspector = sa.inspect(bind)
    wrong = [uc for uc in inspector.get_unique_constraints("file")
             if "quality_comment" in uc["column_names"]]
    # A unique index standing alone (not the index behind a constraint).
    wrong_ix = [ix for ix in inspector.get_indexes("file")
                if ix.get("unique") and "quality_comment" in ix["column_names"]
                and not ix.get("duplicates_constraint")
                and ix["name"] not in {uc["name"] for uc in wrong}]
    has_right = any(sorted(uc["column_names"]) == sorted(IDENTITY)
                    for uc in inspector.get_unique_constraints("file"))
    for ix in wrong_ix:
        op.drop_index(ix["name"], table_name="file")
    if bind.dialect.name == "sqlite":
        if not wrong and has_right:
            return
        # SQLite cannot drop a constraint: rebuild the table from its
        # reflection, less the wrong constraint, plus the right one.
        table = sa.Table("file", sa.MetaData(), autoload_with=bind)
        for constraint in list(table.constraints):
            if (isinstance(constraint, sa.UniqueConstraint)
                    and "quality_comment" in constraint.columns.keys()):
                table.constraints.discard(constraint)
        with op.batch_alter_table("file", copy_from=table, recreate="always") as batch:
            if not has_right:
                batch.create_unique_constraint("uq_file_identity", IDENTITY)
        return
    for uc in wrong:
        op.drop_constraint(uc["name"], "file", type_="unique")
    if not has_right:
        op.create_unique_constraint("uq_file_identity", "file", IDENTITY)


def _close_extra_locks(bind) -> None:
    ids = bind.execute(sa.text(
        "SELECT logging_id FROM logging WHERE currently_processing "
        "ORDER BY processing_start_time DESC, logging_id DESC")).scalars().all()
    if len(ids) > 1:
        bind.execute(
            sa.text("UPDATE logging SET currently_processing = false, "
                    "comment = 'closed by migration 0002: more than one lock row' "
                    "WHERE logging_id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": list(ids[1:])})


def upgrade() -> None:
    bind = op.get_bind()
    _fix_file_identity(bind)
    inspector = sa.inspect(bind)
    for name, table, columns in INDEXES:
        if name not in {ix["name"] for ix in inspector.get_indexes(table)}:
            op.create_index(name, table, columns)
    _close_extra_locks(bind)
    op.create_index("ix_logging_one_lock", "logging", ["currently_processing"], unique=True,
                    sqlite_where=sa.text("currently_processing"),
                    postgresql_where=sa.text("currently_processing"))
    op.create_table(
        "ingest_pending",
        sa.Column("file_id", sa.Integer(), sa.ForeignKey(
            "file.file_id", name="fk_ingest_pending_file_id_file"), primary_key=True),
        sa.Column("source_path", sa.Text(), nullable=False),
        sa.Column("target_path", sa.Text(), nullable=False),
        sa.Column("is_link", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_pending")
    op.drop_index("ix_logging_one_lock", table_name="logging")
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
