"""posts.claimed_published: the date a source gave a post when it lay more than a day after the
fetch, and `published` was clamped to the fetch time.

Revision ID: 0003
Revises: 0002
Create Date: 2025-07-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("claimed_published", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("claimed_published")
