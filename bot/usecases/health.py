"""Programme health for coordinators: which programmes they may see, and its figures.

Only masked figures leave this module (`bot.domain.health.figures`): the exact counts
storage finds are never handed to a handler.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import health as rules
from bot.usecases import Refused
from bot.usecases import programmes as programmes_uc
from storage import health as counts
from storage import programmes
from storage.models import Programme, User


async def programmes_for(
    session: AsyncSession, *, user: User, super_coordinators: Collection[int]
) -> list[Programme]:
    """The programmes whose figures this person may see; a refusal for anyone else."""
    found = await programmes_uc.coordinated_by(
        session, user=user, super_coordinators=frozenset(super_coordinators)
    )
    if not found:
        raise Refused("stats.coordinators_only")
    return found


@dataclass(frozen=True, slots=True)
class Health:
    programme: Programme
    figures: rules.Figures


async def health(
    session: AsyncSession,
    *,
    user: User,
    programme_id: int,
    super_coordinators: Collection[int],
    now: datetime,
) -> Health:
    """The programme's figures, re-checking that this person coordinates it."""
    allowed = await programmes_uc.coordinates(
        session,
        user=user,
        programme_id=programme_id,
        super_coordinators=frozenset(super_coordinators),
    )
    programme = await programmes.get(session, programme_id=programme_id)
    if not allowed or programme is None:
        raise Refused("stats.coordinators_only")
    zone = ZoneInfo(programme.timezone)
    scope = counts.Scope(programme_id, with_unassigned=programme.is_default)
    chart_start = rules.month_start(rules.months_back(now, zone, rules.CHART_MONTHS)[0], zone)
    rating_start = rules.month_start(rules.months_back(now, zone, rules.RATING_MONTHS)[0], zone)
    answered, unanswered = await counts.checkins_due(session, scope=scope, now=now)
    rated, average = await counts.ratings_total(session, scope=scope)
    pairs, moves = await counts.state_history(session, scope=scope)
    raw = rules.Raw(
        by_state=await counts.pairs_by_state(session, scope=scope),
        intro_overdue=await counts.intro_pending_since(
            session, scope=scope, before=now - rules.INTRO_OVERDUE
        ),
        active_idle=await counts.active_without_meeting(
            session, scope=scope, since=now - rules.NO_MEETING_FOR, now=now
        ),
        checkins_answered=answered,
        checkins_unanswered=unanswered,
        rated=rated,
        average_rating=average,
        ratings=await counts.ratings_since(session, scope=scope, since=rating_start),
        ended_early=await counts.early_endings(session, scope=scope),
        sent=await counts.sent_to_coordinators(session, scope=scope),
        meetings=await counts.held_meetings_since(session, scope=scope, since=chart_start, now=now),
        pairs=pairs,
        moves=moves,
    )
    return Health(programme, rules.figures(raw, now=now, zone=zone))
