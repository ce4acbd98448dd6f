"""Which programme a person or a pair is in (the rest of programmes builds on these)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.i18n import N_, t
from storage import programmes
from storage.models import Mentorship, Programme, User
from storage.types import utcnow


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


async def coordinated_by(
    session: AsyncSession, *, user: User, super_coordinators: frozenset[int] | list[int]
) -> list[Programme]:
    """The programmes this person coordinates: every programme for the deployment's
    super-coordinators (`ADMIN_IDS`, Telegram ids), else those they are a coordinator of."""
    if user.telegram_id in super_coordinators:
        every = await programmes.every(session)
        if not any(p.is_default for p in every):
            every.insert(0, await programmes.default(session, now=utcnow()))
        return every
    assert user.id is not None
    return [
        programme
        for programme, roles in await programmes.programmes_of(session, user_id=user.id)
        if "coordinator" in roles
    ]


async def coordinates(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: frozenset[int] | list[int],
) -> bool:
    """Whether this person may see this programme's counts and speak to its members."""
    if user.telegram_id in super_coordinators:
        return True
    assert user.id is not None
    roles = await programmes.roles_in(session, programme_id=programme_id, user_id=user.id)
    return "coordinator" in roles


DEFAULT_NAME = N_("programme.default_name")


def name_of(programme: Programme, language: str) -> str:
    """How a programme is named to people: its own name, or (the default programme) ours."""
    return programme.name or t(language, DEFAULT_NAME)
