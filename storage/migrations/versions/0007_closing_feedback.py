"""closing feedback (goal outcomes, most valuable, could be better, staying in touch)
and support reports

Revision ID: 0007
Revises: 0002
Create Date: 2026-11-29 18:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "support_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("support_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_support_reports_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("closing_feedback", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("goal_outcomes", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("most_valuable", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("could_be_better", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("stay_in_touch", sa.Boolean(), nullable=True))
        batch_op.drop_column("looking_back")
        batch_op.drop_column("feedback_to_partner")


def downgrade() -> None:
    with op.batch_alter_table("closing_feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("feedback_to_partner", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("looking_back", sa.Text(), nullable=True))
        batch_op.drop_column("stay_in_touch")
        batch_op.drop_column("could_be_better")
        batch_op.drop_column("most_valuable")
        batch_op.drop_column("goal_outcomes")
    with op.batch_alter_table("support_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_support_reports_user_id"))
    op.drop_table("support_reports")
