"""announcements.stopped_at: a coordinator stopped an announcement that was on its way

Rows not yet sent were cancelled then; the count afterwards says how many the stop kept
back instead of calling them unreachable.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0019"
down_revision: str | tuple[str, ...] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "announcements",
        sa.Column("stopped_at", storage.types.UTCDateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("announcements", "stopped_at")
