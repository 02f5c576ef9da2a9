"""daemon.stopped: a daemon that exits says so, so `status` and the dashboard stop calling it alive
at once instead of 15 s after its last heartbeat.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("daemon") as batch:
        batch.add_column(sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("daemon") as batch:
        batch.drop_column("stopped")
