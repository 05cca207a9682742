"""processqueue.remake: a queued file that asks to be remade itself.

An ordinary queue entry asks the planner to reconsider the children of a
file.  ``reprocessByCode`` queues the files a code made with ``remake`` set:
the next ``ProcessQueue -p`` remakes each of them with its process's active
code (and then, as usual, their children from the new version).  The column
defaults to false, so the original's ``INSERT INTO processqueue (file_id)``
still means what it meant.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("processqueue") as batch:
        batch.add_column(sa.Column("remake", sa.Boolean(), nullable=False,
                                   server_default=sa.text("false")))


def downgrade() -> None:
    with op.batch_alter_table("processqueue") as batch:
        batch.drop_column("remake")
