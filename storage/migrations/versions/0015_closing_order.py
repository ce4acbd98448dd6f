"""closing in the handbook's order: the look-back after an early end, goals set later

`mentorships.lookback_sent_at` marks when the look-back was queued, so a pair that
ended early gets it once (after its closing meeting and feedback, or after two
weeks); pairs already closed or ended are marked as done, so nobody gets a
look-back months late. `mentorships.goals_later_at` is when the pair agreed to
set goals later.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0015"
down_revision: str | tuple[str, ...] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentorships") as batch_op:
        batch_op.add_column(
            sa.Column("lookback_sent_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("goals_later_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    mentorships = sa.table(
        "mentorships",
        sa.column("state", sa.String),
        sa.column("ended_at", storage.types.UTCDateTime(timezone=True)),
        sa.column("lookback_sent_at", storage.types.UTCDateTime(timezone=True)),
    )
    op.execute(
        mentorships.update()
        .where(mentorships.c.state.in_(("closed", "ended_early")))
        .values(lookback_sent_at=mentorships.c.ended_at)
    )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): a batch copy of the table
    # would have to drop it, which the rows referring to it forbid.
    op.drop_column("mentorships", "goals_later_at")
    op.drop_column("mentorships", "lookback_sent_at")
