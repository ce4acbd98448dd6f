"""one line of history again: goals, meetings, questions, check-ins and closing
were built side by side from 0002

Revision ID: 0008
Revises: 0003, 0004, 0005, 0006, 0007
Create Date: 2026-11-29 19:11:53
"""

from collections.abc import Sequence

revision: str = "0008"
down_revision: str | tuple[str, ...] | None = ("0003", "0004", "0005", "0006", "0007")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: this revision only joins the branches."""


def downgrade() -> None:
    """Nothing to change: this revision only joins the branches."""
