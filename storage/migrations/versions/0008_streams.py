"""streams: each live stream as the daemon reading it last reported it.

Revision ID: 0008
Revises: 0007
Create Date: 2025-08-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UTC_TS = sa.DateTime(timezone=True)  # frozen as it was in this revision (not imported from storage.tables)

revision = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "streams",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("updated", UTC_TS, nullable=False),
        sa.Column("connected_since", UTC_TS),
        sa.Column("frames", sa.BigInteger(), nullable=False),
        sa.Column("matched", sa.BigInteger(), nullable=False),
        sa.Column("frames_per_s", sa.Float(), nullable=False),
        sa.Column("matched_per_s", sa.Float(), nullable=False),
        sa.Column("lag", sa.Float()),
        sa.Column("malformed", sa.BigInteger(), nullable=False),
        sa.Column("oversize", sa.BigInteger(), nullable=False),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.Column("queue_full", sa.Boolean(), nullable=False),
        sa.Column("reconnects", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("streams")
