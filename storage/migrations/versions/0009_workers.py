"""workers: several daemons share one PostgreSQL (the worker registry, feed leases, the inbox).

Revision ID: 0009
Revises: 0008
Create Date: 2025-08-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UTC_TS = sa.DateTime(timezone=True)  # frozen as it was in this revision (not imported from storage.tables)

revision = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("feeds", sa.Column("lease_owner", sa.String(120)))
    op.add_column("feeds", sa.Column("lease_until", UTC_TS))
    op.add_column("feeds", sa.Column("host", sa.String(300)))
    op.create_table(
        "workers",
        sa.Column("id", sa.String(120), primary_key=True),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started", UTC_TS, nullable=False),
        sa.Column("beat", UTC_TS, nullable=False),
        sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("clustering", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("polls", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.create_table(
        "inbox",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("feed", sa.String(200), nullable=False),
        sa.Column("worker", sa.String(120), nullable=False),
        sa.Column("at", UTC_TS, nullable=False),
        sa.Column("post", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("inbox")
    op.drop_table("workers")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("host")
        batch.drop_column("lease_until")
        batch.drop_column("lease_owner")
