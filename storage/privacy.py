"""Queries for people's own data: reading everything of one person (the export),
erasing what one person wrote (/deleteme), and purging the texts of closed
mentorships (retention).

Keyword-only, each taking the caller's session; none of them commit. Erasing is
set-based (one UPDATE or DELETE per table), so it takes the same few statements
for one mentorship or a hundred.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from storage.models import (
    AgendaItem,
    CheckIn,
    ClosingFeedback,
    Contract,
    DiaryEntry,
    Goal,
    GoalProgress,
    GoalRevision,
    Invite,
    Meeting,
    MeetingEvaluation,
    Membership,
    Mentorship,
    MentorshipState,
    MentorshipTransition,
    Notification,
    OutboxState,
    SupportReport,
    User,
)
from storage.types import UTCDateTime

FINISHED = (MentorshipState.CLOSED, MentorshipState.ENDED_EARLY, MentorshipState.DECLINED)
# Notices in these states are done with: what they held is no longer needed.
DONE_WITH = (OutboxState.SENT, OutboxState.FAILED, OutboxState.EXPIRED, OutboxState.CANCELLED)


async def _run(session: AsyncSession, statement: Any) -> None:
    await session.exec(statement.execution_options(synchronize_session=False))


# -- reading one person's data -----------------------------------------------------------------


async def memberships_of(session: AsyncSession, *, user_id: int) -> list[Membership]:
    rows = await session.exec(
        select(Membership).where(Membership.user_id == user_id).order_by(col(Membership.id))
    )
    return list(rows)


async def members_of(session: AsyncSession, *, mentorship_id: int) -> list[Membership]:
    rows = await session.exec(
        select(Membership)
        .where(Membership.mentorship_id == mentorship_id)
        .order_by(col(Membership.id))
    )
    return list(rows)


async def diary_of(
    session: AsyncSession, *, author_id: int, mentorship_id: int | None
) -> list[DiaryEntry]:
    """Everything the author wrote in one mentorship's diary (or outside any, with None)."""
    where = (
        col(DiaryEntry.mentorship_id).is_(None)
        if mentorship_id is None
        else col(DiaryEntry.mentorship_id) == mentorship_id
    )
    rows = await session.exec(
        select(DiaryEntry)
        .where(DiaryEntry.author_id == author_id, where)
        .order_by(col(DiaryEntry.created_at), col(DiaryEntry.id))
    )
    return list(rows)


async def agenda_by(session: AsyncSession, *, meeting_id: int, author_id: int) -> list[AgendaItem]:
    rows = await session.exec(
        select(AgendaItem)
        .where(AgendaItem.meeting_id == meeting_id, AgendaItem.author_id == author_id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    )
    return list(rows)


async def checkins_in(session: AsyncSession, *, mentorship_id: int) -> list[CheckIn]:
    rows = await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id == mentorship_id)
        .order_by(col(CheckIn.period), col(CheckIn.id))
    )
    return list(rows)


async def feedback_in(session: AsyncSession, *, mentorship_id: int) -> list[ClosingFeedback]:
    rows = await session.exec(
        select(ClosingFeedback).where(ClosingFeedback.mentorship_id == mentorship_id)
    )
    return list(rows)


async def reports_of(session: AsyncSession, *, user_id: int) -> list[SupportReport]:
    rows = await session.exec(
        select(SupportReport)
        .where(SupportReport.user_id == user_id)
        .order_by(col(SupportReport.created_at))
    )
    return list(rows)


async def invite_by(session: AsyncSession, *, mentorship_id: int, user_id: int) -> Invite | None:
    rows = await session.exec(
        select(Invite).where(Invite.mentorship_id == mentorship_id, Invite.created_by_id == user_id)
    )
    return rows.first()


# -- erasing what one person wrote -------------------------------------------------------------


def _mentorships_of(user_id: int) -> SelectOfScalar[int]:
    return select(Membership.mentorship_id).where(Membership.user_id == user_id)


async def erase_texts_by(session: AsyncSession, *, user_id: int) -> None:
    """Every free text `user_id` wrote, in every table; the rows (and so every count,
    rating and date the coordinators' numbers rest on) stay.

    Diary entries and agenda items are nothing but their text, so they go whole.
    """
    theirs = _mentorships_of(user_id)
    goals_in_theirs = select(Goal.id).where(col(Goal.mentorship_id).in_(theirs))
    own_goals = select(Goal.id).where(Goal.owner_id == user_id)
    await _run(
        session,
        update(Membership)
        .where(col(Membership.user_id) == user_id)
        .values(intro_private_reason=None, intro_areas=None),
    )
    await _run(
        session,
        update(Contract)
        .where(col(Contract.drafted_by_id) == user_id)
        .values(aims=None, rules=None),
    )
    # A change request is written by the member who did not draft that version.
    await _run(
        session,
        update(Contract)
        .where(col(Contract.mentorship_id).in_(theirs), col(Contract.drafted_by_id) != user_id)
        .values(change_request=None),
    )
    await _run(
        session, update(Goal).where(col(Goal.owner_id) == user_id).values(closed_reason=None)
    )
    await _run(
        session,
        update(GoalRevision)
        .where(col(GoalRevision.author_id) == user_id)
        .values(specific=None, measurable=None, realistic=None),
    )
    # The mentor's answer sits on the revision of the partner's goal it answers.
    await _run(
        session,
        update(GoalRevision)
        .where(
            col(GoalRevision.goal_id).in_(goals_in_theirs),
            col(GoalRevision.author_id) != user_id,
        )
        .values(mentor_comment=None),
    )
    await _run(
        session,
        update(GoalProgress).where(col(GoalProgress.goal_id).in_(own_goals)).values(note=None),
    )
    await _run(
        session, update(Meeting).where(col(Meeting.booked_by_id) == user_id).values(place=None)
    )
    # Notes of the pair as a whole have no single author: they go with either of them.
    await _run(
        session,
        update(Meeting).where(col(Meeting.mentorship_id).in_(theirs)).values(shared_notes=None),
    )
    await _run(
        session,
        update(MeetingEvaluation)
        .where(col(MeetingEvaluation.user_id) == user_id)
        .values(useful=None, next_steps=None),
    )
    await _run(session, delete(AgendaItem).where(col(AgendaItem.author_id) == user_id))
    await _run(session, delete(DiaryEntry).where(col(DiaryEntry.author_id) == user_id))
    await _run(
        session,
        update(CheckIn)
        .where(col(CheckIn.user_id) == user_id)
        .values(works_well=None, could_improve=None, note_to_partner=None),
    )
    await _run(
        session,
        update(ClosingFeedback)
        .where(col(ClosingFeedback.user_id) == user_id)
        .values(most_valuable=None, could_be_better=None),
    )
    await _run(
        session,
        update(SupportReport).where(col(SupportReport.user_id) == user_id).values(text=None),
    )


async def cancel_pending_to(session: AsyncSession, *, recipient_id: int) -> None:
    await _run(
        session,
        update(Notification)
        .where(
            col(Notification.recipient_id) == recipient_id,
            col(Notification.state) == OutboxState.PENDING,
        )
        .values(state=OutboxState.CANCELLED.value),
    )


async def empty_done_notices(
    session: AsyncSession,
    *,
    recipient_id: int | None = None,
    mentorship_ids: Sequence[int] = (),
) -> None:
    """Notices already sent (or given up) keep nothing of what they said.

    Rows still pending or being sent are left alone: their renderer needs them.
    """
    conditions: list[ColumnElement[bool]] = []
    if recipient_id is not None:
        conditions.append(col(Notification.recipient_id) == recipient_id)
    if mentorship_ids:
        conditions.append(col(Notification.mentorship_id).in_(list(mentorship_ids)))
    if not conditions:
        return
    await _run(
        session,
        update(Notification)
        .where(col(Notification.state).in_(DONE_WITH), or_(*conditions))
        .values(payload={}),
    )


def forget_person(user: User, *, now: datetime) -> None:
    """No name, no Telegram id (the negative row id cannot be a real one), no focus.

    The row stays so the partner's records still point at someone: "former participant".
    """
    assert user.id is not None
    user.telegram_id = -user.id
    user.first_name, user.last_name, user.username = "", None, None
    user.current_mentorship_id = user.focus_goal_id = None
    user.focus_meeting_id = user.focus_checkin_id = None
    user.quiet_start = user.quiet_end = None
    user.erased_at = user.updated_at = now


# -- retention ---------------------------------------------------------------------------------


def _closed_at() -> ColumnElement[Any]:
    """When a mentorship finished: `ended_at`, or its last move for a declined invitation."""
    last_move = (
        select(func.max(MentorshipTransition.at))
        .where(col(MentorshipTransition.mentorship_id) == col(Mentorship.id))
        .scalar_subquery()
    )
    return func.coalesce(col(Mentorship.ended_at), last_move, type_=UTCDateTime())


async def due_for_reminder(
    session: AsyncSession, *, closed_before: datetime, limit: int
) -> list[Mentorship]:
    rows = await session.exec(
        select(Mentorship)
        .where(
            col(Mentorship.state).in_(FINISHED),
            col(Mentorship.purged_at).is_(None),
            col(Mentorship.retention_reminded_at).is_(None),
            _closed_at() <= closed_before,
        )
        .order_by(col(Mentorship.id))
        .limit(limit)
    )
    return list(rows)


async def due_for_purge(
    session: AsyncSession, *, closed_before: datetime, reminded_before: datetime, limit: int
) -> list[int]:
    rows = await session.exec(
        select(col(Mentorship.id))
        .where(
            col(Mentorship.state).in_(FINISHED),
            col(Mentorship.purged_at).is_(None),
            col(Mentorship.retention_reminded_at) <= reminded_before,
            _closed_at() <= closed_before,
        )
        .order_by(col(Mentorship.id))
        .limit(limit)
    )
    return [row for row in rows.all() if row is not None]


async def closed_at(session: AsyncSession, *, mentorship_id: int) -> datetime | None:
    rows = await session.exec(select(_closed_at()).where(col(Mentorship.id) == mentorship_id))
    found = rows.first()
    return found if isinstance(found, datetime) else None


async def purge_texts_of(
    session: AsyncSession, *, mentorship_ids: Sequence[int], now: datetime
) -> None:
    """Every free text of these mentorships, both people's; marked purged so it happens once."""
    ids = list(mentorship_ids)
    if not ids:
        return
    goals = select(Goal.id).where(col(Goal.mentorship_id).in_(ids))
    meetings = select(Meeting.id).where(col(Meeting.mentorship_id).in_(ids))
    await _run(
        session,
        update(Membership)
        .where(col(Membership.mentorship_id).in_(ids))
        .values(intro_private_reason=None, intro_areas=None),
    )
    await _run(
        session,
        update(Contract)
        .where(col(Contract.mentorship_id).in_(ids))
        .values(aims=None, rules=None, change_request=None),
    )
    await _run(
        session, update(Goal).where(col(Goal.mentorship_id).in_(ids)).values(closed_reason=None)
    )
    await _run(
        session,
        update(GoalRevision)
        .where(col(GoalRevision.goal_id).in_(goals))
        .values(specific=None, measurable=None, realistic=None, mentor_comment=None),
    )
    await _run(
        session, update(GoalProgress).where(col(GoalProgress.goal_id).in_(goals)).values(note=None)
    )
    await _run(
        session,
        update(MeetingEvaluation)
        .where(col(MeetingEvaluation.meeting_id).in_(meetings))
        .values(useful=None, next_steps=None),
    )
    await _run(session, delete(AgendaItem).where(col(AgendaItem.meeting_id).in_(meetings)))
    await _run(
        session,
        update(Meeting)
        .where(col(Meeting.mentorship_id).in_(ids))
        .values(place=None, shared_notes=None),
    )
    await _run(session, delete(DiaryEntry).where(col(DiaryEntry.mentorship_id).in_(ids)))
    await _run(
        session,
        update(CheckIn)
        .where(col(CheckIn.mentorship_id).in_(ids))
        .values(works_well=None, could_improve=None, note_to_partner=None),
    )
    await _run(
        session,
        update(ClosingFeedback)
        .where(col(ClosingFeedback.mentorship_id).in_(ids))
        .values(most_valuable=None, could_be_better=None),
    )
    await empty_done_notices(session, mentorship_ids=ids)
    await _run(
        session,
        update(Mentorship).where(col(Mentorship.id).in_(ids)).values(purged_at=now),
    )
