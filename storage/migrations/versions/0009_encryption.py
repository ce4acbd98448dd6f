"""encryption at rest: every free text and every name, in place

Widens the name columns (a ciphertext is longer than the name), then encrypts
the existing rows with the configured key ring, a batch of rows at a time.
The list of columns is frozen here on purpose: later migrations that add
encrypted columns encrypt their own.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import context, op

from storage import crypto

revision: str = "0009"
down_revision: str | tuple[str, ...] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": ("first_name", "last_name", "username"),
    "memberships": ("intro_private_reason", "intro_areas"),
    "contracts": ("aims", "rules", "change_request"),
    "goals": ("closed_reason",),
    "goal_revisions": ("specific", "measurable", "realistic", "mentor_comment"),
    "goal_progress": ("note",),
    "meetings": ("place", "shared_notes"),
    "meeting_evaluations": ("useful", "next_steps"),
    "agenda_items": ("text",),
    "diary_entries": ("text",),
    "checkins": ("works_well", "could_improve", "note_to_partner"),
    "closing_feedback": ("most_valuable", "could_be_better"),
    "support_reports": ("text",),
}

NAMES = (("first_name", 256, False), ("last_name", 256, True), ("username", 64, True))


def _keyring() -> crypto.KeyRing:
    ring = context.config.attributes.get("keyring")
    return ring if isinstance(ring, crypto.KeyRing) else crypto.active()


def _transform(change: Callable[[crypto.KeyRing, str, str], str | None]) -> None:
    """Rewrite every non-NULL value with `change` (None: leave it), batch by batch."""
    bind = op.get_bind()
    ring: crypto.KeyRing | None = None  # asked for only when there is a row to change
    for name, columns in COLUMNS.items():
        table = sa.table(
            name, sa.column("id", sa.Integer), *(sa.column(c, sa.Text) for c in columns)
        )
        last = 0
        while True:
            rows = bind.execute(
                sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            for row in rows:
                values: dict[str, str] = {}
                for column in columns:
                    value = getattr(row, column)
                    if value is None:
                        continue
                    ring = ring or _keyring()
                    changed = change(ring, f"{name}.{column}", value)
                    if changed is not None:
                        values[column] = changed
                if values:
                    bind.execute(table.update().where(table.c.id == row.id).values(**values))


def _encrypt(ring: crypto.KeyRing, label: str, value: str) -> str | None:
    # A value the ring already opens was encrypted by an earlier, interrupted run.
    try:
        ring.decrypt(value, label)
    except crypto.Undecryptable:
        return ring.encrypt(value, label)
    return None


def _decrypt(ring: crypto.KeyRing, label: str, value: str) -> str | None:
    try:
        return ring.decrypt(value, label)
    except crypto.Undecryptable as problem:
        raise RuntimeError(
            f"cannot decrypt a value in {label} ({problem.reason}); downgrade stopped"
        ) from None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # SQLite does not enforce VARCHAR lengths, and recreating `users` there (batch
        # mode) would trip the foreign keys of every table that points at it.
        for column, length, nullable in NAMES:
            op.alter_column(
                "users",
                column,
                type_=sa.Text(),
                existing_type=sa.String(length=length),
                existing_nullable=nullable,
            )
    _transform(_encrypt)


def downgrade() -> None:
    _transform(_decrypt)
    if op.get_bind().dialect.name == "postgresql":
        for column, length, nullable in NAMES:
            op.alter_column(
                "users",
                column,
                type_=sa.String(length=length),
                existing_type=sa.Text(),
                existing_nullable=nullable,
            )
