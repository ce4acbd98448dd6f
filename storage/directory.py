"""Queries of the mentor directory: profiles, requests, and who is how full
(keyword-only, never committing)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Membership,
    MentorProfile,
    MentorRequest,
    Mentorship,
    ProgrammeMember,
    RequestState,
    Role,
    User,
)


async def profile_of(
    session: AsyncSession, *, programme_id: int, user_id: int
) -> MentorProfile | None:
    return (
        await session.exec(
            select(MentorProfile).where(
                MentorProfile.programme_id == programme_id, MentorProfile.user_id == user_id
            )
        )
    ).first()


async def profile(session: AsyncSession, *, profile_id: int) -> MentorProfile | None:
    return await session.get(MentorProfile, profile_id)


async def listed(session: AsyncSession, *, programme_id: int) -> list[tuple[MentorProfile, User]]:
    """The programme's published, unpaused profiles with their mentors, oldest first."""
    rows = await session.exec(
        select(MentorProfile, User)
        .join(User, col(User.id) == col(MentorProfile.user_id))
        .where(
            MentorProfile.programme_id == programme_id,
            col(MentorProfile.published_at).is_not(None),
            col(MentorProfile.paused_at).is_(None),
            col(User.erased_at).is_(None),
        )
        .order_by(col(MentorProfile.id))
    )
    return list(rows)


async def open_as_mentor(
    session: AsyncSession, *, programme_id: int, states: frozenset[str], mentor_ids: list[int]
) -> dict[int, int]:
    """How many mentorships in `states` each of `mentor_ids` is the mentor of, in the programme."""
    if not mentor_ids:
        return {}
    rows = await session.exec(
        select(Membership.user_id, func.count())
        .join(Mentorship, col(Mentorship.id) == col(Membership.mentorship_id))
        .where(
            Mentorship.programme_id == programme_id,
            col(Mentorship.state).in_(sorted(states)),
            Membership.role == Role.MENTOR,
            col(Membership.user_id).in_(mentor_ids),
        )
        .group_by(col(Membership.user_id))
    )
    return {user_id: int(count) for user_id, count in rows}


async def requests_of_adept(
    session: AsyncSession, *, adept_id: int, states: frozenset[str]
) -> list[MentorRequest]:
    rows = await session.exec(
        select(MentorRequest)
        .where(MentorRequest.adept_id == adept_id, col(MentorRequest.state).in_(sorted(states)))
        .order_by(col(MentorRequest.id))
    )
    return list(rows)


async def request(session: AsyncSession, *, request_id: int) -> MentorRequest | None:
    return await session.get(MentorRequest, request_id)


async def latest_draft(session: AsyncSession, *, adept_id: int) -> MentorRequest | None:
    """The request whose note the adept is typing (the one they chose last)."""
    return (
        await session.exec(
            select(MentorRequest)
            .where(MentorRequest.adept_id == adept_id, MentorRequest.state == RequestState.DRAFT)
            .order_by(col(MentorRequest.id).desc())
        )
    ).first()


async def latest_declined_by(session: AsyncSession, *, mentor_id: int) -> MentorRequest | None:
    """The request this mentor declined last (its private reason may follow)."""
    return (
        await session.exec(
            select(MentorRequest)
            .where(
                MentorRequest.mentor_id == mentor_id,
                MentorRequest.state == RequestState.DECLINED,
            )
            .order_by(col(MentorRequest.decided_at).desc(), col(MentorRequest.id).desc())
        )
    ).first()


async def membership_row(
    session: AsyncSession, *, programme_id: int, user_id: int, role: str
) -> ProgrammeMember | None:
    return (
        await session.exec(
            select(ProgrammeMember).where(
                ProgrammeMember.programme_id == programme_id,
                ProgrammeMember.user_id == user_id,
                ProgrammeMember.role == role,
            )
        )
    ).first()


async def discard(session: AsyncSession, request: MentorRequest) -> None:
    """A draft never sent: nobody saw it, so nothing of it is kept."""
    await session.delete(request)
    await session.flush()


async def save(session: AsyncSession, *items: object) -> None:
    for item in items:
        session.add(item)
    await session.flush()


# -- what /mydata shows and /deleteme erases ------------------------------------------------


async def profiles_of(session: AsyncSession, *, user_id: int) -> list[MentorProfile]:
    rows = await session.exec(
        select(MentorProfile)
        .where(MentorProfile.user_id == user_id)
        .order_by(col(MentorProfile.id))
    )
    return list(rows)


async def organisations_of(session: AsyncSession, *, user_id: int) -> list[ProgrammeMember]:
    """The programme rows where this person gave their own organisation."""
    rows = await session.exec(
        select(ProgrammeMember)
        .where(ProgrammeMember.user_id == user_id, col(ProgrammeMember.organisation).is_not(None))
        .order_by(col(ProgrammeMember.id))
    )
    return list(rows)


async def requests_involving(session: AsyncSession, *, user_id: int) -> list[MentorRequest]:
    """Every request this person sent or received, oldest first (drafts are nobody's yet)."""
    rows = await session.exec(
        select(MentorRequest)
        .where(
            (col(MentorRequest.adept_id) == user_id) | (col(MentorRequest.mentor_id) == user_id),
            MentorRequest.state != RequestState.DRAFT,
        )
        .order_by(col(MentorRequest.id))
    )
    return list(rows)


async def _run(session: AsyncSession, statement: Any) -> None:
    await session.exec(statement.execution_options(synchronize_session=False))


async def erase_of(session: AsyncSession, *, user_id: int, now: datetime) -> None:
    """Everything this person wrote in the directory goes; their profile leaves it, and a
    request still open with them is withdrawn (nobody is left waiting for an answer)."""
    await _run(
        session,
        update(MentorProfile)
        .where(col(MentorProfile.user_id) == user_id)
        .values(
            areas=None,
            other_areas=None,
            career=None,
            organisation=None,
            published_at=None,
            updated_at=now,
        ),
    )
    await _run(
        session,
        update(ProgrammeMember)
        .where(col(ProgrammeMember.user_id) == user_id)
        .values(organisation=None),
    )
    await _run(
        session,
        update(MentorRequest).where(col(MentorRequest.adept_id) == user_id).values(note=None),
    )
    await _run(
        session,
        update(MentorRequest)
        .where(col(MentorRequest.mentor_id) == user_id)
        .values(decline_reason=None),
    )
    await _run(
        session,
        update(MentorRequest)
        .where(
            (col(MentorRequest.adept_id) == user_id) | (col(MentorRequest.mentor_id) == user_id),
            col(MentorRequest.state).in_([RequestState.DRAFT, RequestState.PENDING]),
        )
        .values(state=RequestState.WITHDRAWN, decided_at=now),
    )
