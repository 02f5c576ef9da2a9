"""learned_terms: what each learning topic has learned from its confident matches.

Revision ID: 0006
Revises: 0005
Create Date: 2025-08-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

UTC_TS = sa.DateTime(timezone=True)  # frozen as it was in this revision (not imported from storage.tables)

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "learned_terms",
        sa.Column("topic", sa.String(200), sa.ForeignKey("topics.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("term", sa.Text(), primary_key=True),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("posts", sa.Float(), nullable=False),
        sa.Column("since", UTC_TS, nullable=False),
        sa.Column("seen", UTC_TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("learned_terms")
