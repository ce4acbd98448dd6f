"""directory: the adept's own organisation in a programme, for "not my organisation"

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0017"
down_revision: str | tuple[str, ...] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "programme_members",
        sa.Column(
            "organisation",
            storage.types.EncryptedText("programme_members.organisation"),
            nullable=True,
        ),
    )


def downgrade() -> None:
    op.drop_column("programme_members", "organisation")
