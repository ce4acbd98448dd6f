"""Problems reported to the coordinators, and the counts coordinators may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.usecases import Refused
from storage import mentorships
from storage.models import (
    CheckIn,
    Meeting,
    Mentorship,
    SupportReport,
    User,
)

REPORT_MAX_CHARS = 3500


async def draft_report(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> SupportReport:
    """The report as typed, kept until the person confirms it; a report too short or too
    long can be typed again, so the person stays at the question."""
    cleaned = text.strip()
    if len(cleaned) < 3:
        raise Refused("support.report_empty", stay=True)
    if len(cleaned) > REPORT_MAX_CHARS:
        raise Refused(
            "support.report_too_long", stay=True, limit=REPORT_MAX_CHARS, length=len(cleaned)
        )
    assert user.id is not None
    report = SupportReport(user_id=user.id, text=cleaned, created_at=now)
    await mentorships.save(session, report)
    return report


async def my_report(session: AsyncSession, *, report_id: int, user: User) -> SupportReport:
    report = await session.get(SupportReport, report_id)
    if report is None or report.user_id != user.id or report.sent_at is not None:
        raise Refused("common.stale_button")
    return report


async def mark_sent(session: AsyncSession, *, report_id: int, now: datetime) -> None:
    """Delivered: the text is no longer needed here, only the fact that it was sent."""
    report = await session.get(SupportReport, report_id)
    if report is not None:
        report.sent_at, report.text = now, None
        await mentorships.save(session, report)


async def discard(session: AsyncSession, *, report_id: int, user: User) -> None:
    report = await my_report(session, report_id=report_id, user=user)
    await session.delete(report)


@dataclass(frozen=True, slots=True)
class Counts:
    """Numbers only: the coordinators never see what anyone wrote."""

    by_state: dict[str, int]
    meetings_last_30_days: int
    checkins_answered: int
    average_rating: float | None
    early_end_reasons: dict[str, int]
    reports_sent: int


async def counts(session: AsyncSession, *, now: datetime) -> Counts:
    by_state = dict(
        (state, int(n))
        for state, n in await session.exec(
            select(Mentorship.state, func.count()).group_by(Mentorship.state)
        )
    )
    meetings = (
        await session.exec(
            select(func.count())
            .select_from(Meeting)
            .where(
                Meeting.state == "confirmed",
                col(Meeting.starts_at) <= now,
                col(Meeting.starts_at) > now - timedelta(days=30),
            )
        )
    ).one()
    answered = (
        await session.exec(
            select(func.count(), func.avg(CheckIn.rating)).where(
                col(CheckIn.answered_at).is_not(None)
            )
        )
    ).one()
    reasons = dict(
        (reason or "?", int(n))
        for reason, n in await session.exec(
            select(Mentorship.end_reason, func.count())
            .where(Mentorship.state == "ended_early")
            .group_by(Mentorship.end_reason)
        )
    )
    reports = (
        await session.exec(
            select(func.count())
            .select_from(SupportReport)
            .where(col(SupportReport.sent_at).is_not(None))
        )
    ).one()
    return Counts(
        by_state=by_state,
        meetings_last_30_days=int(meetings),
        checkins_answered=int(answered[0]),
        average_rating=float(answered[1]) if answered[1] is not None else None,
        early_end_reasons=reasons,
        reports_sent=int(reports),
    )
