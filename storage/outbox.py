"""Queries on the outbox (keyword-only, each taking the caller's session).

A row moves pending -> sending (claimed) -> sent, or ends failed, expired or
cancelled; a failed attempt may put it back to pending with a later due time.
None of these functions commit: the caller's unit of work decides.

A row that reaches one of those final states keeps no payload: what it said
is of no use once it is settled, and the idempotency key (its own column) is
all that later duplicates are checked against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import upsert_insert
from storage.models import Notification, OutboxState, User
from storage.types import utcnow

# The column is VARCHAR(200); error texts are class names and short reasons.
_ERROR_LENGTH = 200


def _settled() -> dict[str, Any]:
    """The payload of a row in a final state (see the module docstring)."""
    return {}


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _error(text: str | None) -> str | None:
    return None if text is None else text[:_ERROR_LENGTH]


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    recipient_id: int,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any],
    mentorship_id: int | None = None,
    expires_at: datetime | None = None,
    meeting_id: int | None = None,
    goal_id: int | None = None,
    checkin_id: int | None = None,
    announcement_id: int | None = None,
) -> bool:
    """Queue a message; False (and nothing changed) when `key` was queued before.

    ON CONFLICT DO NOTHING instead of catching the IntegrityError: a failed
    statement would abort a PostgreSQL transaction, and callers enqueue inside
    the same unit of work that records what the message is about.

    `meeting_id`, `goal_id`, `checkin_id` and `announcement_id` say what the row is
    about; lookups and `cancel` use them (indexed), never a prefix of the key.
    """
    row = Queued(
        key=key,
        recipient_id=recipient_id,
        kind=kind,
        due_at=due_at,
        payload=payload,
        mentorship_id=mentorship_id,
        expires_at=expires_at,
        meeting_id=meeting_id,
        goal_id=goal_id,
        checkin_id=checkin_id,
        announcement_id=announcement_id,
    )
    return await enqueue_many(session, [row]) == 1


@dataclass(frozen=True, slots=True)
class Queued:
    """One row for `enqueue_many`: the arguments of `enqueue`."""

    key: str
    recipient_id: int
    kind: str
    due_at: datetime
    payload: dict[str, Any]
    mentorship_id: int | None = None
    expires_at: datetime | None = None
    meeting_id: int | None = None
    goal_id: int | None = None
    checkin_id: int | None = None
    announcement_id: int | None = None


@cache
def _enqueue_statement(dialect: str) -> Any:
    """The INSERT … ON CONFLICT DO NOTHING RETURNING id of `enqueue_many`, built once per
    dialect: building it and its cache key cost more than running it."""
    table = Notification.metadata.tables[str(Notification.__tablename__)]
    return (
        upsert_insert(dialect)(table)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(table.c.id)
    )


async def enqueue_many(session: AsyncSession, rows: Sequence[Queued]) -> int:
    """Queue many rows at once; returns how many were new.

    A key queued before (by an earlier run, or by another process a moment ago) is
    skipped, as in `enqueue`, so planners running twice or at once queue each
    message once. One executemany: SQLAlchemy sends it as multi-row INSERTs of up
    to a thousand rows, compiled once.
    """
    if not rows:
        return 0
    statement = _enqueue_statement(_dialect(session))
    created = utcnow()
    values = [
        {
            "idempotency_key": row.key,
            "recipient_id": row.recipient_id,
            "mentorship_id": row.mentorship_id,
            "kind": row.kind,
            "payload": row.payload,
            "state": OutboxState.PENDING.value,
            "due_at": row.due_at,
            "expires_at": row.expires_at,
            "attempts": 0,
            "created_at": created,
            "meeting_id": row.meeting_id,
            "goal_id": row.goal_id,
            "checkin_id": row.checkin_id,
            "announcement_id": row.announcement_id,
        }
        for row in rows
    ]
    queued = len((await session.exec(statement, params=values)).all())
    if queued:
        # The update's unit of work kicks the dispatcher only when something was queued.
        session.info["queued"] = True
    return queued


async def cancel(
    session: AsyncSession,
    *,
    keys: Iterable[str] | None = None,
    key_prefix: str | None = None,
    meeting_id: int | None = None,
    goal_id: int | None = None,
    checkin_id: int | None = None,
    kinds: Iterable[str] | None = None,
) -> int:
    """Cancel pending rows by exact keys, by what they are about, or by a key prefix;
    returns how many.

    By reference: the rows about `meeting_id` / `goal_id` / `checkin_id` (every one
    given must match), and only of `kinds` when given. That is an index lookup; a key
    prefix reads the whole key column on PostgreSQL, so the bot itself never uses one.
    Rows already being sent are left alone: the message is on its way.
    """
    refs = (
        (Notification.meeting_id, meeting_id),
        (Notification.goal_id, goal_id),
        (Notification.checkin_id, checkin_id),
    )
    about = [col(column) == value for column, value in refs if value is not None]
    if kinds is not None and not about:
        raise ValueError("cancel by kinds needs a meeting_id, goal_id or checkin_id")
    if keys is None and key_prefix is None and not about:
        raise ValueError("cancel needs keys, a reference or a key_prefix")
    conditions: list[ColumnElement[bool]] = []
    if about:
        if kinds is not None:
            about.append(col(Notification.kind).in_(list(kinds)))
        conditions.append(and_(*about))
    if keys is not None:
        wanted = list(keys)
        if wanted:
            conditions.append(col(Notification.idempotency_key).in_(wanted))
    if key_prefix is not None:
        # autoescape: a prefix such as "meeting_1:" must not match "meetingX1:".
        conditions.append(col(Notification.idempotency_key).startswith(key_prefix, autoescape=True))
    if not conditions:
        return 0
    result = await session.exec(
        update(Notification)
        .where(col(Notification.state) == OutboxState.PENDING, or_(*conditions))
        .values(state=OutboxState.CANCELLED.value, payload=_settled())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)


async def claim_due(
    session: AsyncSession, *, now: datetime, limit: int, stale_after: timedelta
) -> list[Notification]:
    """Move up to `limit` due pending rows to sending and return them, earliest first.

    Rows left in sending longer than `stale_after` (the process died mid-send)
    go back to pending first, so they are sent again: at most one duplicate,
    never a lost reminder.

    Two dispatchers never claim the same row: on PostgreSQL the candidates are
    locked with SKIP LOCKED so a second process takes other rows instead of
    waiting; on SQLite (and as a second line on PostgreSQL) the UPDATE only
    touches rows still pending, so whoever writes second claims nothing twice.
    """
    stale = (
        col(Notification.state) == OutboxState.SENDING,
        or_(
            col(Notification.claimed_at).is_(None),
            col(Notification.claimed_at) < now - stale_after,
        ),
    )
    # Read before writing: an idle tick then takes no write lock (SQLite has one for the file).
    if (await session.exec(select(Notification.id).where(*stale).limit(1))).first() is not None:
        await session.exec(
            update(Notification)
            .where(*stale)
            .values(state=OutboxState.PENDING.value, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
    candidates = (
        select(Notification.id)
        .where(col(Notification.state) == OutboxState.PENDING, col(Notification.due_at) <= now)
        .order_by(col(Notification.due_at), col(Notification.id))
        .limit(limit)
    )
    if _dialect(session) == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    ids = [row_id for row_id in (await session.exec(candidates)).all() if row_id is not None]
    if not ids:
        return []
    claimed = await session.exec(
        update(Notification)
        .where(col(Notification.id).in_(ids), col(Notification.state) == OutboxState.PENDING)
        .values(
            state=OutboxState.SENDING.value,
            claimed_at=now,
            attempts=col(Notification.attempts) + 1,
        )
        .returning(col(Notification.id))
        .execution_options(synchronize_session=False)
    )
    claimed_ids = [row[0] for row in claimed.all()]
    if not claimed_ids:
        return []
    rows = await session.exec(
        select(Notification)
        .where(col(Notification.id).in_(claimed_ids))
        .order_by(col(Notification.due_at), col(Notification.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


async def _set(session: AsyncSession, notification_id: int, **values: Any) -> None:
    # A delivered row stays delivered: an outcome of an older claim written late
    # (a reschedule, a failure) must not put it back in the queue.
    await session.exec(
        update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.state) != OutboxState.SENT,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def mark_sent(session: AsyncSession, *, notification_id: int, now: datetime) -> None:
    await _set(
        session,
        notification_id,
        state=OutboxState.SENT.value,
        sent_at=now,
        last_error=None,
        payload=_settled(),
    )


async def mark_sent_many(
    session: AsyncSession, *, notification_ids: Sequence[int], now: datetime
) -> None:
    """Record many deliveries with one UPDATE (the dispatcher writes its outcomes in batches)."""
    if not notification_ids:
        return
    await session.exec(
        update(Notification)
        .where(col(Notification.id).in_(list(notification_ids)))
        .values(state=OutboxState.SENT.value, sent_at=now, last_error=None, payload=_settled())
        .execution_options(synchronize_session=False)
    )


async def recipients(session: AsyncSession, *, user_ids: Iterable[int]) -> dict[int, User]:
    """The people a claimed batch goes to, by id, in one query."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return {}
    found = await session.exec(select(User).where(col(User.id).in_(wanted)))
    return {user.id: user for user in found.all() if user.id is not None}


async def reschedule(
    session: AsyncSession,
    *,
    notification_id: int,
    due_at: datetime,
    count_attempt: bool,
    error: str | None,
) -> None:
    """Back to pending at `due_at`.

    The claim counted an attempt; `count_attempt=False` takes it back, for
    delays that say nothing about the message (quiet hours, flood control).
    """
    attempts = col(Notification.attempts)
    await _set(
        session,
        notification_id,
        state=OutboxState.PENDING.value,
        due_at=due_at,
        claimed_at=None,
        last_error=_error(error),
        attempts=attempts if count_attempt else case((attempts > 0, attempts - 1), else_=0),
    )


async def mark_failed(session: AsyncSession, *, notification_id: int, error: str) -> None:
    await _set(
        session,
        notification_id,
        state=OutboxState.FAILED.value,
        last_error=_error(error),
        payload=_settled(),
    )


async def mark_expired(
    session: AsyncSession, *, notification_id: int, reason: str | None = None
) -> None:
    await _set(
        session,
        notification_id,
        state=OutboxState.EXPIRED.value,
        last_error=_error(reason),
        payload=_settled(),
    )


async def mark_cancelled(
    session: AsyncSession, *, notification_id: int, reason: str | None = None
) -> None:
    await _set(
        session,
        notification_id,
        state=OutboxState.CANCELLED.value,
        last_error=_error(reason),
        payload=_settled(),
    )


async def next_due(session: AsyncSession) -> datetime | None:
    """When the earliest pending row is due (the sandbox's "jump to the next notification")."""
    result = await session.exec(
        select(func.min(Notification.due_at)).where(col(Notification.state) == OutboxState.PENDING)
    )
    return result.one()


async def get_by_key(session: AsyncSession, *, key: str) -> Notification | None:
    result = await session.exec(
        select(Notification)
        .where(col(Notification.idempotency_key) == key)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def pending_for(session: AsyncSession, *, recipient_id: int) -> list[Notification]:
    result = await session.exec(
        select(Notification)
        .where(
            col(Notification.recipient_id) == recipient_id,
            col(Notification.state) == OutboxState.PENDING,
        )
        .order_by(col(Notification.due_at), col(Notification.id))
        .execution_options(populate_existing=True)
    )
    return list(result.all())


async def cancel_for_mentorship(session: AsyncSession, *, mentorship_id: int) -> int:
    """Cancel everything still pending for a mentorship that has ended."""
    result = await session.exec(
        update(Notification)
        .where(
            col(Notification.state) == OutboxState.PENDING,
            col(Notification.mentorship_id) == mentorship_id,
        )
        .values(state=OutboxState.CANCELLED.value, payload=_settled())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)
