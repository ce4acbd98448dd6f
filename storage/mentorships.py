"""Queries about mentorships, their members, invitations and transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Invite, Membership, Mentorship, MentorshipTransition, User


@dataclass(frozen=True, slots=True)
class Pairing:
    """One mentorship seen from one member: theirs, their role, and the partner (if any)."""

    mentorship: Mentorship
    me: Membership
    partner: User | None
    partner_membership: Membership | None


async def get(session: AsyncSession, *, mentorship_id: int) -> Mentorship | None:
    return await session.get(Mentorship, mentorship_id)


async def create(session: AsyncSession, *, creator: User, role: str, state: str) -> Mentorship:
    assert creator.id is not None
    mentorship = Mentorship(created_by_id=creator.id, state=state)
    session.add(mentorship)
    await session.flush()
    assert mentorship.id is not None
    session.add(Membership(mentorship_id=mentorship.id, user_id=creator.id, role=role))
    await session.flush()
    return mentorship


async def add_member(
    session: AsyncSession, *, mentorship: Mentorship, user: User, role: str
) -> Membership:
    assert mentorship.id is not None and user.id is not None
    membership = Membership(mentorship_id=mentorship.id, user_id=user.id, role=role)
    session.add(membership)
    await session.flush()
    return membership


async def record_transition(
    session: AsyncSession,
    *,
    mentorship: Mentorship,
    to_state: str,
    actor_id: int | None,
    at: datetime,
    reason: str | None = None,
) -> None:
    assert mentorship.id is not None
    session.add(
        MentorshipTransition(
            mentorship_id=mentorship.id,
            from_state=mentorship.state,
            to_state=to_state,
            actor_id=actor_id,
            reason=reason,
            at=at,
        )
    )
    mentorship.state = to_state
    session.add(mentorship)
    await session.flush()


async def transitions(session: AsyncSession, *, mentorship_id: int) -> list[MentorshipTransition]:
    rows = await session.exec(
        select(MentorshipTransition)
        .where(MentorshipTransition.mentorship_id == mentorship_id)
        .order_by(col(MentorshipTransition.id))
    )
    return list(rows)


# Built once: constructing aliases per query costs more than the query itself.
_MINE = aliased(Membership)
_OTHER = aliased(Membership)
_PARTNER = aliased(User)


# Statements built once, with the ids as bound parameters (`_USER` appears twice and
# is bound once): building the joins and their cache key per update costs more than
# running them.
_USER: BindParameter[Any] = bindparam("user_id")
_SEEN_BY = (
    select(Mentorship, _MINE, _OTHER, _PARTNER)
    .join(
        _MINE,
        and_(col(_MINE.mentorship_id) == col(Mentorship.id), col(_MINE.user_id) == _USER),
    )
    .outerjoin(
        _OTHER,
        and_(col(_OTHER.mentorship_id) == col(Mentorship.id), col(_OTHER.user_id) != _USER),
    )
    .outerjoin(_PARTNER, col(_PARTNER.id) == col(_OTHER.user_id))
)  # mentorship, my membership, the partner's membership and the partner, in one query
_PAIRING = _SEEN_BY.where(col(Mentorship.id) == bindparam("mentorship_id"))
_PAIRINGS = _SEEN_BY.order_by(col(Mentorship.id))
_PAIRINGS_IN = _PAIRINGS.where(col(Mentorship.state).in_(bindparam("states", expanding=True)))


async def pairing(session: AsyncSession, *, mentorship_id: int, user_id: int) -> Pairing | None:
    """The mentorship as `user_id` sees it, or None if they are not a member."""
    params = {"mentorship_id": mentorship_id, "user_id": user_id}
    found = (await session.exec(_PAIRING, params=params)).first()
    if found is None:
        return None
    mentorship, mine, other, partner = found
    return Pairing(mentorship, mine, partner, other)


async def pairings_of(
    session: AsyncSession, *, user_id: int, states: frozenset[str] | None = None
) -> list[Pairing]:
    """Every mentorship the user belongs to (optionally only in `states`), oldest first."""
    if states is None:
        rows = await session.exec(_PAIRINGS, params={"user_id": user_id})
    else:
        rows = await session.exec(
            _PAIRINGS_IN, params={"user_id": user_id, "states": sorted(states)}
        )
    return [Pairing(mentorship, mine, partner, other) for mentorship, mine, other, partner in rows]


async def add_invite(session: AsyncSession, *, invite: Invite) -> Invite:
    session.add(invite)
    await session.flush()
    return invite


async def invite_by_code(session: AsyncSession, *, code: str) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.code == code))).first()


async def invite_by_id(session: AsyncSession, *, invite_id: int) -> Invite | None:
    return await session.get(Invite, invite_id)


async def invite_for(session: AsyncSession, *, mentorship_id: int) -> Invite | None:
    return (await session.exec(select(Invite).where(Invite.mentorship_id == mentorship_id))).first()


async def save(session: AsyncSession, *items: object) -> None:
    for item in items:
        session.add(item)
    await session.flush()
