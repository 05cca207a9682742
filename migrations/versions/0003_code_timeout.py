"""code.code_timeout: seconds a run of the code may take before it is killed.

NULL means no limit of its own (ProcessQueue's --timeout applies).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("code") as batch:
        batch.add_column(sa.Column("code_timeout", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("code") as batch:
        batch.drop_column("code_timeout")
