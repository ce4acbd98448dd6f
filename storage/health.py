"""Counts about one programme's pairs for its coordinators (keyword-only, never committing).

Every query here returns numbers, states, reason codes or moments, never a name,
an id of a person or anything anyone wrote: what leaves this module can only become
counts. A programme is the pairs whose `programme_id` is it; the default programme
also holds the pairs from before programmes (no `programme_id`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    CheckIn,
    Meeting,
    Mentorship,
    MentorshipState,
    MentorshipTransition,
    SupportReport,
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Which pairs a programme's counts are about (the default programme: also those
    with no programme)."""

    programme_id: int
    with_unassigned: bool


def _pairs_of(scope: Scope) -> Any:
    clause = col(Mentorship.programme_id) == scope.programme_id
    if scope.with_unassigned:
        clause = clause | col(Mentorship.programme_id).is_(None)
    return clause


def _pair_ids(scope: Scope) -> Any:
    return select(Mentorship.id).where(_pairs_of(scope))


async def pairs_by_state(session: AsyncSession, *, scope: Scope) -> dict[str, int]:
    rows = await session.exec(
        select(Mentorship.state, func.count()).where(_pairs_of(scope)).group_by(Mentorship.state)
    )
    return {state: int(n) for state, n in rows}


def _entered(state: str) -> Any:
    """When the pair last moved into `state` (a pair without recorded moves: its creation)."""
    moved = (
        select(func.max(MentorshipTransition.at))
        .where(
            col(MentorshipTransition.mentorship_id) == col(Mentorship.id),
            MentorshipTransition.to_state == state,
        )
        .scalar_subquery()
    )
    return func.coalesce(moved, Mentorship.created_at)


async def intro_pending_since(session: AsyncSession, *, scope: Scope, before: datetime) -> int:
    """Pairs still in the intro phase that entered it before `before`."""
    found = await session.exec(
        select(func.count())
        .select_from(Mentorship)
        .where(
            _pairs_of(scope),
            Mentorship.state == MentorshipState.INTRO,
            _entered(MentorshipState.INTRO) < before,
        )
    )
    return int(found.one())


async def active_without_meeting(
    session: AsyncSession, *, scope: Scope, since: datetime, now: datetime
) -> int:
    """Pairs active since before `since` with no confirmed meeting that took place
    between `since` and `now` (a pair active for a week has not had the time to miss one)."""
    held = select(Meeting.mentorship_id).where(
        Meeting.state == "confirmed",
        col(Meeting.starts_at) > since,
        col(Meeting.starts_at) <= now,
    )
    found = await session.exec(
        select(func.count())
        .select_from(Mentorship)
        .where(
            _pairs_of(scope),
            Mentorship.state == MentorshipState.ACTIVE,
            _entered(MentorshipState.ACTIVE) < since,
            col(Mentorship.id).not_in(held),
        )
    )
    return int(found.one())


async def checkins_due(session: AsyncSession, *, scope: Scope, now: datetime) -> tuple[int, int]:
    """(answered, due and not answered) among the check-ins that fell due by `now`."""
    answered = func.count(col(CheckIn.answered_at))
    found = await session.exec(
        select(answered, func.count() - answered).where(
            col(CheckIn.mentorship_id).in_(_pair_ids(scope)),
            col(CheckIn.due_at) <= now,
        )
    )
    row = found.one()
    return int(row[0] or 0), int(row[1] or 0)


async def ratings_since(
    session: AsyncSession, *, scope: Scope, since: datetime
) -> list[tuple[datetime, int]]:
    """(when answered, rating) of every rated check-in answered since `since`, grouped into
    months by the caller (in the programme's time zone, alike on SQLite and PostgreSQL)."""
    rows = await session.exec(
        select(CheckIn.answered_at, CheckIn.rating).where(
            col(CheckIn.mentorship_id).in_(_pair_ids(scope)),
            col(CheckIn.answered_at) >= since,
            col(CheckIn.rating).is_not(None),
        )
    )
    return [(at, int(rating)) for at, rating in rows if at is not None and rating is not None]


async def ratings_total(session: AsyncSession, *, scope: Scope) -> tuple[int, float | None]:
    """(rated check-ins, their average) over the programme's whole history."""
    found = await session.exec(
        select(func.count(col(CheckIn.rating)), func.avg(CheckIn.rating)).where(
            col(CheckIn.mentorship_id).in_(_pair_ids(scope)),
            col(CheckIn.answered_at).is_not(None),
        )
    )
    count, average = found.one()
    return int(count or 0), float(average) if average is not None else None


async def early_endings(session: AsyncSession, *, scope: Scope) -> dict[str | None, int]:
    """Pairs ended early, by reason code (None: no reason recorded)."""
    rows = await session.exec(
        select(Mentorship.end_reason, func.count())
        .where(
            _pairs_of(scope),
            Mentorship.state == MentorshipState.ENDED_EARLY,
        )
        .group_by(Mentorship.end_reason)
    )
    return {reason: int(n) for reason, n in rows}


async def sent_to_coordinators(session: AsyncSession, *, scope: Scope) -> dict[str, int]:
    """Delivered problem reports and contact requests, by kind."""
    clause = col(SupportReport.programme_id) == scope.programme_id
    if scope.with_unassigned:
        clause = clause | col(SupportReport.programme_id).is_(None)
    rows = await session.exec(
        select(SupportReport.kind, func.count())
        .where(clause, col(SupportReport.sent_at).is_not(None))
        .group_by(SupportReport.kind)
    )
    return {kind: int(n) for kind, n in rows}


async def held_meetings_since(
    session: AsyncSession,
    *,
    scope: Scope,
    since: datetime,
    now: datetime,
) -> list[datetime]:
    """When each confirmed meeting between `since` and `now` took place."""
    rows = await session.exec(
        select(Meeting.starts_at).where(
            col(Meeting.mentorship_id).in_(_pair_ids(scope)),
            Meeting.state == "confirmed",
            col(Meeting.starts_at) > since,
            col(Meeting.starts_at) <= now,
        )
    )
    return list(rows)


async def state_history(
    session: AsyncSession, *, scope: Scope
) -> tuple[list[tuple[int, str, datetime]], list[tuple[int, str, datetime]]]:
    """Every pair (its number, current state, creation) and every recorded move
    (the pair's number, the state it moved to, when), for counting pairs per state at
    past moments. The numbers are row ids, used only to group the moves of one pair."""
    pairs = await session.exec(
        select(Mentorship.id, Mentorship.state, Mentorship.created_at).where(_pairs_of(scope))
    )
    moves = await session.exec(
        select(
            MentorshipTransition.mentorship_id,
            MentorshipTransition.to_state,
            MentorshipTransition.at,
        )
        .where(col(MentorshipTransition.mentorship_id).in_(_pair_ids(scope)))
        .order_by(col(MentorshipTransition.at), col(MentorshipTransition.id))
    )
    return (
        [(int(i or 0), state, at) for i, state, at in pairs],
        [(int(i), state, at) for i, state, at in moves],
    )
