"""Queries about announcements and their outbox rows (keyword-only, never committing).

An announcement's rows are found through `outbox.announcement_id` (indexed), never
through a prefix of their idempotency keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Announcement, Notification, OutboxState, ProgrammeMember, User

# The kind of the rows that deliver an announcement (one per recipient), and of the
# one row that tells its author how it went.
KIND = "announcement"
REPORT_KIND = "announcement_report"


async def get(session: AsyncSession, *, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def save(session: AsyncSession, announcement: Announcement) -> Announcement:
    session.add(announcement)
    await session.flush()
    return announcement


async def delete(session: AsyncSession, announcement: Announcement) -> None:
    await session.delete(announcement)
    await session.flush()


async def drafts_of(session: AsyncSession, *, author_id: int) -> list[Announcement]:
    """The author's announcements not yet sent, newest first."""
    rows = await session.exec(
        select(Announcement)
        .where(
            Announcement.author_id == author_id,
            col(Announcement.confirmed_at).is_(None),
        )
        .order_by(col(Announcement.id).desc())
    )
    return list(rows)


async def authored_by(session: AsyncSession, *, author_id: int) -> list[Announcement]:
    """Every announcement this person wrote, oldest first (for /mydata)."""
    rows = await session.exec(
        select(Announcement)
        .where(Announcement.author_id == author_id)
        .order_by(col(Announcement.id))
    )
    return list(rows)


async def recipient_ids(
    session: AsyncSession, *, programme_id: int, roles: frozenset[str]
) -> list[int]:
    """Everyone in the programme holding any of `roles`, each once, in id order; people who
    erased their data are not among them (nothing reaches them any more)."""
    rows = await session.exec(
        select(User.id)
        .where(
            col(User.id).in_(
                select(ProgrammeMember.user_id).where(
                    ProgrammeMember.programme_id == programme_id,
                    col(ProgrammeMember.role).in_(sorted(roles)),
                )
            ),
            col(User.erased_at).is_(None),
        )
        .order_by(col(User.id))
    )
    return [user_id for user_id in rows if user_id is not None]


async def sent_in(
    session: AsyncSession, *, programme_ids: Iterable[int], limit: int
) -> list[Announcement]:
    """The latest announcements sent in these programmes, newest first."""
    wanted = sorted(set(programme_ids))
    if not wanted:
        return []
    rows = await session.exec(
        select(Announcement)
        .where(
            col(Announcement.programme_id).in_(wanted),
            col(Announcement.confirmed_at).is_not(None),
        )
        .order_by(col(Announcement.confirmed_at).desc(), col(Announcement.id).desc())
        .limit(limit)
    )
    return list(rows)


async def outcomes(
    session: AsyncSession, *, announcement_ids: Iterable[int]
) -> dict[int, dict[str, int]]:
    """For each announcement, how many of its delivering rows are in each outbox state."""
    wanted = sorted(set(announcement_ids))
    found: dict[int, dict[str, int]] = {announcement_id: {} for announcement_id in wanted}
    if not wanted:
        return found
    rows = await session.exec(
        select(Notification.announcement_id, Notification.state, func.count())
        .where(col(Notification.announcement_id).in_(wanted), Notification.kind == KIND)
        .group_by(col(Notification.announcement_id), col(Notification.state))
    )
    for announcement_id, state, count in rows:
        if announcement_id is not None:
            found[announcement_id][state] = int(count)
    return found


async def cancel_waiting(session: AsyncSession, *, announcement_id: int) -> int:
    """Cancel the announcement's rows not yet taken for sending; how many. A row being
    sent right now finds the text gone when it is rendered (or has gone out already)."""
    result = await session.exec(
        update(Notification)
        .where(
            col(Notification.announcement_id) == announcement_id,
            col(Notification.kind) == KIND,
            col(Notification.state) == OutboxState.PENDING,
        )
        .values(state=OutboxState.CANCELLED, last_error="stopped", payload={})
    )
    return int(result.rowcount or 0)


async def latest_due_unfinished(
    session: AsyncSession, *, announcement_id: int, final_states: frozenset[str]
) -> datetime | None:
    """When the last of the announcement's rows still on the way is due."""
    result = await session.exec(
        select(func.max(Notification.due_at)).where(
            Notification.announcement_id == announcement_id,
            Notification.kind == KIND,
            col(Notification.state).not_in(sorted(final_states)),
        )
    )
    return result.one()
