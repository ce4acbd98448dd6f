"""Queries about diary entries: an author's own, and those shared with a pair member."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import DiaryEntry, Meeting, Membership, Visibility


async def add(session: AsyncSession, *, entry: DiaryEntry) -> DiaryEntry:
    session.add(entry)
    await session.flush()
    return entry


async def get(session: AsyncSession, *, entry_id: int) -> DiaryEntry | None:
    return await session.get(DiaryEntry, entry_id)


async def save(session: AsyncSession, *, entry: DiaryEntry) -> None:
    session.add(entry)
    await session.flush()


async def latest_by(session: AsyncSession, *, author_id: int) -> DiaryEntry | None:
    return (
        await session.exec(
            select(DiaryEntry)
            .where(DiaryEntry.author_id == author_id)
            .order_by(col(DiaryEntry.created_at).desc(), col(DiaryEntry.id).desc())
            .limit(1)
        )
    ).first()


async def count_by(session: AsyncSession, *, author_id: int) -> int:
    return (
        await session.exec(
            select(func.count()).select_from(DiaryEntry).where(DiaryEntry.author_id == author_id)
        )
    ).one()


async def page_by(
    session: AsyncSession, *, author_id: int, offset: int, limit: int
) -> list[DiaryEntry]:
    """The author's entries, newest first."""
    rows = await session.exec(
        select(DiaryEntry)
        .where(DiaryEntry.author_id == author_id)
        .order_by(col(DiaryEntry.created_at).desc(), col(DiaryEntry.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


def _shared_with(user_id: int) -> SelectOfScalar[int | None]:
    """Ids of entries shared by someone else within a mentorship `user_id` belongs to."""
    mine = select(Membership.mentorship_id).where(Membership.user_id == user_id)
    return select(col(DiaryEntry.id)).where(
        DiaryEntry.visibility == Visibility.SHARED,
        DiaryEntry.author_id != user_id,
        col(DiaryEntry.mentorship_id).in_(mine),
    )


async def count_shared_with(session: AsyncSession, *, user_id: int) -> int:
    return (
        await session.exec(select(func.count()).select_from(_shared_with(user_id).subquery()))
    ).one()


async def page_shared_with(
    session: AsyncSession, *, user_id: int, offset: int, limit: int
) -> list[DiaryEntry]:
    """Entries partners shared with `user_id`, newest first."""
    rows = await session.exec(
        select(DiaryEntry)
        .where(col(DiaryEntry.id).in_(_shared_with(user_id)))
        .order_by(col(DiaryEntry.created_at).desc(), col(DiaryEntry.id).desc())
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


async def meeting_in(session: AsyncSession, *, meeting_id: int, mentorship_id: int) -> bool:
    meeting = await session.get(Meeting, meeting_id)
    return meeting is not None and meeting.mentorship_id == mentorship_id
