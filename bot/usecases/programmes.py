"""Which programme a person or a pair is in (the rest of programmes builds on these)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import programmes
from storage.models import Mentorship, Programme, User


async def for_new_pair(session: AsyncSession, *, user: User, now: datetime) -> Programme:
    """The programme an invitation this person makes belongs to: the one they chose last,
    else the only open one they are in, else the default programme."""
    assert user.id is not None
    mine = [p for p, _ in await programmes.programmes_of(session, user_id=user.id)]
    open_ones = [p for p in mine if p.closed_at is None]
    chosen = next((p for p in open_ones if p.id == user.current_programme_id), None)
    if chosen is not None:
        return chosen
    if len(open_ones) == 1:
        return open_ones[0]
    return await programmes.default(session, now=now)


async def of_pair(session: AsyncSession, *, mentorship: Mentorship, now: datetime) -> Programme:
    return await programmes.of_mentorship(session, mentorship=mentorship, now=now)


async def join_as(
    session: AsyncSession, *, programme: Programme, user: User, role: str, now: datetime
) -> None:
    """Record the person in the programme in this role (nothing happens if already there)."""
    assert programme.id is not None and user.id is not None
    await programmes.add_member(
        session, programme_id=programme.id, user_id=user.id, role=role, now=now
    )
