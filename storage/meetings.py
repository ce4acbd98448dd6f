"""Queries about meetings, their agendas and evaluations."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AgendaItem, Meeting, MeetingEvaluation

LIVE_STATES = ("proposed", "confirmed")


async def get(session: AsyncSession, *, meeting_id: int) -> Meeting | None:
    return await session.get(Meeting, meeting_id)


async def of_mentorship(
    session: AsyncSession, *, mentorship_id: int, states: tuple[str, ...] | None = None
) -> list[Meeting]:
    statement = (
        select(Meeting)
        .where(Meeting.mentorship_id == mentorship_id)
        .order_by(col(Meeting.starts_at))
    )
    if states is not None:
        statement = statement.where(col(Meeting.state).in_(states))
    return list(await session.exec(statement))


async def upcoming(session: AsyncSession, *, mentorship_id: int, now: datetime) -> list[Meeting]:
    meetings = await of_mentorship(session, mentorship_id=mentorship_id, states=LIVE_STATES)
    return [m for m in meetings if m.starts_at > now]


async def last_held(
    session: AsyncSession, *, mentorship_id: int, now: datetime, before: datetime | None = None
) -> Meeting | None:
    """The latest confirmed meeting that has started (before `before`, if given)."""
    limit = before or now
    held = [
        m
        for m in await of_mentorship(session, mentorship_id=mentorship_id, states=("confirmed",))
        if m.starts_at < limit and m.starts_at <= now
    ]
    return held[-1] if held else None


async def add(session: AsyncSession, *, meeting: Meeting) -> Meeting:
    session.add(meeting)
    await session.flush()
    return meeting


async def agenda(session: AsyncSession, *, meeting_id: int) -> list[AgendaItem]:
    rows = await session.exec(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    )
    return list(rows)


async def add_agenda_item(session: AsyncSession, *, item: AgendaItem) -> AgendaItem:
    session.add(item)
    await session.flush()
    return item


async def evaluations(session: AsyncSession, *, meeting_id: int) -> list[MeetingEvaluation]:
    rows = await session.exec(
        select(MeetingEvaluation).where(MeetingEvaluation.meeting_id == meeting_id)
    )
    return list(rows)


async def evaluation_of(
    session: AsyncSession, *, meeting_id: int, user_id: int
) -> MeetingEvaluation | None:
    rows = await session.exec(
        select(MeetingEvaluation).where(
            MeetingEvaluation.meeting_id == meeting_id, MeetingEvaluation.user_id == user_id
        )
    )
    return rows.first()


async def intro_held(session: AsyncSession, *, mentorship_id: int, now: datetime) -> bool:
    """Whether a confirmed intro meeting of the pair has ended by `now`."""
    rows = await session.exec(
        select(Meeting).where(
            Meeting.mentorship_id == mentorship_id,
            Meeting.kind == "intro",
            Meeting.state == "confirmed",
            col(Meeting.starts_at) <= now,
        )
    )
    return any(m.starts_at + timedelta(minutes=m.duration_minutes) <= now for m in rows)
