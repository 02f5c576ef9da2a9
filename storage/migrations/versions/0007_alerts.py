"""alerts: the outbox of alert rules ([[alerts]] in feeds.toml), written with the story change that
caused each alert and worked through by the daemon's sender.

Revision ID: 0007
Revises: 0006
Create Date: 2025-07-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

UTC_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("event", sa.String(20), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("topic", sa.String(200)),
        sa.Column("story", sa.Integer()),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created", UTC_TS, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", UTC_TS),
        sa.Column("sent", UTC_TS),
        sa.Column("answer", sa.Text()),
        sa.Column("digest", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("rule", "event", "subject", name="uq_alerts_rule_event_subject"),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_index("ix_alerts_story", "alerts", ["story"])
    op.create_index("ix_alerts_rule_sent", "alerts", ["rule", "sent"])


def downgrade() -> None:
    op.drop_table("alerts")
