"""Updates whose effects are committed, so a redelivered update_id is skipped.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0013"
down_revision: str | tuple[str, ...] | None = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_processed_updates_seen_at", "processed_updates", ["seen_at"])


def downgrade() -> None:
    op.drop_index("ix_processed_updates_seen_at", table_name="processed_updates")
    op.drop_table("processed_updates")
