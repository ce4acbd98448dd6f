"""Conversation steps are read per person on every update: index them by key.

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

from alembic import op

revision: str = "0011"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_conversation_states_key", "conversation_states", ["key"])


def downgrade() -> None:
    op.drop_index("ix_conversation_states_key", table_name="conversation_states")
