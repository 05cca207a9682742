"""retry: outputs whose last run failed, tried again by a later ProcessQueue -p.

A failed run used to be forgotten once its wave consumed the queue entry
that triggered it.  Now each failure keeps (or updates) a row naming the
target (process, date, keywords), the forced bump it was run with, the code
that failed, the number of attempts and the earliest time to try again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retry",
        sa.Column("retry_id", sa.Integer(), primary_key=True),
        sa.Column("process_id", sa.Integer(), sa.ForeignKey(
            "process.process_id", name="fk_retry_process_id_process"), nullable=False),
        sa.Column("utc_file_date", sa.Date(), nullable=False),
        sa.Column("process_keywords", sa.Text(), nullable=True),
        sa.Column("version_bump", sa.SmallInteger(), nullable=True),
        sa.Column("code_id", sa.Integer(), sa.ForeignKey(
            "code.code_id", name="fk_retry_code_id_code"), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.Column("not_before", sa.DateTime(), nullable=True),
        sa.CheckConstraint("version_bump IN (0, 1, 2)", name="ck_retry_bump_component"),
    )
    op.create_index("ix_retry_process_date", "retry", ["process_id", "utc_file_date"])


def downgrade() -> None:
    op.drop_index("ix_retry_process_date", table_name="retry")
    op.drop_table("retry")
