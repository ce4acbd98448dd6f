"""the intro meeting as a meeting and the joint close-out

`mentorships.intro_met_outside_at`: when one of the pair said they had their intro
meeting outside the bot, which opens the decision as a held intro meeting does.
`meeting_evaluations.shared`: whether the author shared their close-out with the
other. Evaluations written before the question existed were shown to both, so
they keep that.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mentorships", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "intro_met_outside_at", storage.types.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("meeting_evaluations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared", sa.Boolean(), nullable=True))
    op.execute(
        "UPDATE meeting_evaluations SET shared = "
        + ("1" if op.get_bind().dialect.name == "sqlite" else "true")
        + " WHERE next_steps IS NOT NULL"
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+): a batch copy of `mentorships` would have to drop a
    # table that other tables' foreign keys point at.
    op.drop_column("meeting_evaluations", "shared")
    op.drop_column("mentorships", "intro_met_outside_at")
