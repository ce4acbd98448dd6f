"""outbox rows name what they are about: meeting, goal and check-in ids, indexed

Lookups and cancellations matched a prefix of the idempotency key before
(`LIKE 'meeting:7:%'`), a scan of the whole outbox on PostgreSQL. The new columns
are filled for existing rows from what they still hold: the ids in a pending
row's payload, and the ids the keys of meetings, nudges, goals and check-ins
spell out (a settled row keeps no payload, but a nudge sent a month ago still
counts towards the next one). Also joins the two heads 0010 and 0011, and adds
the indexes the batched planners walk.

Revision ID: 0012
Revises: 0010, 0011
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = ("0010", "0011")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000
REFS = ("meeting_id", "goal_id", "checkin_id")
INDEXES = (
    ("ix_outbox_meeting_id", "outbox", ["meeting_id"]),
    ("ix_outbox_goal_id", "outbox", ["goal_id"]),
    ("ix_outbox_checkin_id", "outbox", ["checkin_id"]),
    ("ix_outbox_mentorship_kind", "outbox", ["mentorship_id", "kind"]),
    ("ix_mentorships_state_id", "mentorships", ["state", "id"]),
)

outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("idempotency_key", sa.String),
    sa.column("payload", sa.JSON),
    *(sa.column(name, sa.Integer) for name in REFS),
)
revisions = sa.table(
    "goal_revisions", sa.column("id", sa.Integer), sa.column("goal_id", sa.Integer)
)
checkins = sa.table(
    "checkins",
    sa.column("id", sa.Integer),
    sa.column("mentorship_id", sa.Integer),
    sa.column("user_id", sa.Integer),
    sa.column("period", sa.Integer),
)


def _number(text: object) -> int | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text
    return int(text) if isinstance(text, str) and text.isdigit() else None


def _from_key(key: str) -> tuple[dict[str, int], tuple[int, int, int] | None]:
    """Refs a key spells out, and (mentorship, period, user) of a check-in key.

    The shapes are the ones the bot wrote: `meeting:<id>:...`, `goal:<id>:...`,
    `nudge:<mentorship>:<last meeting id or "start">:...` and
    `checkin:<mentorship>:<period>:<user>:<prompt|reminder|shared>`.
    """
    parts = key.split(":")
    found: dict[str, int] = {}
    if len(parts) >= 3 and parts[0] == "meeting" and _number(parts[1]) is not None:
        found["meeting_id"] = int(parts[1])
    elif len(parts) >= 3 and parts[0] == "goal" and _number(parts[1]) is not None:
        found["goal_id"] = int(parts[1])
    elif len(parts) >= 4 and parts[0] == "nudge" and _number(parts[2]) is not None:
        found["meeting_id"] = int(parts[2])
    elif len(parts) == 5 and parts[0] == "checkin":
        numbers = [_number(p) for p in parts[1:4]]
        if all(n is not None for n in numbers):
            mentorship, period, user = (int(n) for n in numbers)  # type: ignore[arg-type]
            return found, (mentorship, period, user)
    return found, None


def _from_payload(payload: Any) -> tuple[dict[str, int], int | None]:
    """Refs a pending row's payload names, and a goal revision id to resolve."""
    if not isinstance(payload, dict):
        return {}, None
    found = {name: int(v) for name in REFS if (v := _number(payload.get(name))) is not None}
    return found, _number(payload.get("revision_id"))


def _backfill() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(outbox.c.id, outbox.c.idempotency_key, outbox.c.payload)
            .where(outbox.c.id > last)
            .order_by(outbox.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        refs: dict[int, dict[str, int]] = {}
        wanted_revisions: dict[int, int] = {}
        wanted_checkins: dict[int, tuple[int, int, int]] = {}
        for row in rows:
            from_key, checkin = _from_key(row.idempotency_key)
            from_payload, revision = _from_payload(row.payload)
            found = {**from_key, **from_payload}
            if revision is not None and "goal_id" not in found:
                wanted_revisions[row.id] = revision
            if checkin is not None and "checkin_id" not in found:
                wanted_checkins[row.id] = checkin
            if found:
                refs[row.id] = found
        if wanted_revisions:
            goal_of = dict(
                bind.execute(
                    sa.select(revisions.c.id, revisions.c.goal_id).where(
                        revisions.c.id.in_(set(wanted_revisions.values()))
                    )
                ).all()
            )
            for row_id, revision in wanted_revisions.items():
                if revision in goal_of:
                    refs.setdefault(row_id, {})["goal_id"] = goal_of[revision]
        if wanted_checkins:
            mentorships = {m for m, _, _ in wanted_checkins.values()}
            checkin_of = {
                (m, p, u): i
                for i, m, u, p in bind.execute(
                    sa.select(
                        checkins.c.id,
                        checkins.c.mentorship_id,
                        checkins.c.user_id,
                        checkins.c.period,
                    ).where(checkins.c.mentorship_id.in_(mentorships))
                ).all()
            }
            for row_id, spelled in wanted_checkins.items():
                if spelled in checkin_of:
                    refs.setdefault(row_id, {})["checkin_id"] = checkin_of[spelled]
        if refs:
            bind.execute(
                outbox.update()
                .where(outbox.c.id == sa.bindparam("row_id"))
                .values({name: sa.bindparam(f"new_{name}") for name in REFS}),
                [
                    {"row_id": row_id, **{f"new_{name}": found.get(name) for name in REFS}}
                    for row_id, found in refs.items()
                ],
            )


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in REFS:
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
    # Before the indexes: filling indexed columns row by row would update each index too.
    _backfill()
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        for name in reversed(REFS):
            batch_op.drop_column(name)
