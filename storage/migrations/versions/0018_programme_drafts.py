"""programmes: a programme being set up is a draft until its coordinator finishes

The `/programme new` wizard keeps what was typed so far in the programme row
itself (encrypted like every text), marked as a draft: drafts have no members,
accept no joins and are listed nowhere.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | tuple[str, ...] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "programmes",
        sa.Column("draft", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("programmes") as batch_op:
        batch_op.drop_column("draft")
