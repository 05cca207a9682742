"""The event log: invocation, job, job_event, ingest_event; a lineage index.

Append-only tables written in the same transactions as the work they
describe (see dbprocessing/events.py), and an index on
filefilelink(resulting_file) so lineage can walk from a file to its inputs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_filefilelink_resulting_file", "filefilelink", ["resulting_file"])
    op.create_table(
        "invocation",
        sa.Column("invocation_id", sa.Integer(), primary_key=True),
        sa.Column("logging_id", sa.Integer(), sa.ForeignKey(
            "logging.logging_id", name="fk_invocation_logging_id_logging"), nullable=True),
        sa.Column("command", sa.String(50), nullable=False),
        sa.Column("arguments", sa.Text(), nullable=False),
        sa.Column("hostname", sa.String(100), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("user", sa.String(30), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_invocation_logging_id", "invocation", ["logging_id"])
    op.create_index("ix_invocation_started_at", "invocation", ["started_at"])
    op.create_table(
        "job",
        sa.Column("job_id", sa.Integer(), primary_key=True),
        sa.Column("invocation_id", sa.Integer(), sa.ForeignKey(
            "invocation.invocation_id", name="fk_job_invocation_id_invocation"),
            nullable=False),
        sa.Column("process_id", sa.Integer(), sa.ForeignKey(
            "process.process_id", name="fk_job_process_id_process"), nullable=False),
        sa.Column("code_id", sa.Integer(), sa.ForeignKey(
            "code.code_id", name="fk_job_code_id_code"), nullable=True),
        sa.Column("output_product", sa.Integer(), sa.ForeignKey(
            "product.product_id", name="fk_job_output_product_product"), nullable=True),
        sa.Column("utc_file_date", sa.Date(), nullable=False),
        sa.Column("planned_version", sa.String(20), nullable=True),
        sa.Column("output_name", sa.String(250), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("planned_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_job_invocation_id", "job", ["invocation_id"])
    op.create_index("ix_job_output_product_date", "job", ["output_product", "utc_file_date"])
    op.create_index("ix_job_process_date", "job", ["process_id", "utc_file_date"])
    op.create_table(
        "job_event",
        sa.Column("job_event_id", sa.Integer(), primary_key=True),
        sa.Column("job_id", sa.Integer(), sa.ForeignKey(
            "job.job_id", name="fk_job_event_job_id_job"), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("hostname", sa.String(100), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("output_path", sa.Text(), nullable=True),
        sa.Column("log_path", sa.Text(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.CheckConstraint("state IN ('started', 'succeeded', 'failed', 'timed_out', "
                           "'skipped')", name="ck_job_event_known_state"),
    )
    op.create_index("ix_job_event_job_id", "job_event", ["job_id"])
    op.create_table(
        "ingest_event",
        sa.Column("ingest_event_id", sa.Integer(), primary_key=True),
        sa.Column("invocation_id", sa.Integer(), sa.ForeignKey(
            "invocation.invocation_id", name="fk_ingest_event_invocation_id_invocation"),
            nullable=False),
        sa.Column("filename", sa.String(250), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey(
            "product.product_id", name="fk_ingest_event_product_id_product"), nullable=True),
        sa.Column("file_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_ingest_event_invocation_id", "ingest_event", ["invocation_id"])
    op.create_index("ix_ingest_event_filename", "ingest_event", ["filename"])


def downgrade() -> None:
    for table in ("ingest_event", "job_event", "job", "invocation"):
        op.drop_table(table)
    op.drop_index("ix_filefilelink_resulting_file", table_name="filefilelink")
