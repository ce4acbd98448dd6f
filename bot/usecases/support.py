"""Problems reported to the coordinators, and requests that a coordinator get in touch.

Both go to the coordinators of the person's programme (the programme of their current
mentorship, else their only programme, else the default one), or to the deployment's
super-coordinators (`ADMIN_IDS`) when that programme has none. Nothing is sent until
the person confirms; a report's text is deleted once delivered, and a contact request
never had one: the coordinator gets the person's name and @username, nothing more."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.usecases import Refused
from bot.usecases import programmes as programmes_uc
from storage import mentorships, programmes, users
from storage.models import (
    Programme,
    SupportReport,
    User,
)

REPORT = "report"
CONTACT = "contact"

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
    programme = await programme_of(session, user=user, now=now)
    report = SupportReport(
        user_id=user.id, kind=REPORT, programme_id=programme.id, text=cleaned, created_at=now
    )
    await mentorships.save(session, report)
    return report


async def programme_of(session: AsyncSession, *, user: User, now: datetime) -> Programme:
    """The programme whose coordinators someone asking for help turns to: that of their
    current mentorship, else their only programme, else the default programme."""
    assert user.id is not None
    if user.current_mentorship_id is not None:
        seen = await mentorships.pairing(
            session, mentorship_id=user.current_mentorship_id, user_id=user.id
        )
        if seen is not None:
            return await programmes_uc.of_pair(session, mentorship=seen.mentorship, now=now)
    mine = await programmes.programmes_of(session, user_id=user.id)
    if len(mine) == 1:
        return mine[0][0]
    return await programmes.default(session, now=now)


@dataclass(frozen=True, slots=True)
class Recipient:
    telegram_id: int
    language: str


async def recipients(
    session: AsyncSession,
    *,
    programme_id: int | None,
    super_coordinators: Collection[int],
    default_language: str,
) -> list[Recipient]:
    """Who hears of a report or contact request: the programme's coordinators, else the
    super-coordinators; each in their own language when the bot knows them."""
    found: list[Recipient] = []
    if programme_id is not None:
        found = [
            Recipient(person.telegram_id, person.language)
            for person in await programmes.coordinators(session, programme_id=programme_id)
            if person.erased_at is None
        ]
    if found:
        return found
    for telegram_id in super_coordinators:
        known = await users.get_by_telegram_id(session, telegram_id=telegram_id)
        found.append(Recipient(telegram_id, known.language if known else default_language))
    return found


@dataclass(frozen=True, slots=True)
class ContactDraft:
    """A contact request waiting for the person's confirmation, and where it would go."""

    report: SupportReport
    programme: Programme


async def can_reach_coordinator(
    session: AsyncSession, *, user: User, super_coordinators: Collection[int], now: datetime
) -> bool:
    programme = await programme_of(session, user=user, now=now)
    found = await recipients(
        session,
        programme_id=programme.id,
        super_coordinators=super_coordinators,
        default_language=user.language,
    )
    return bool(found)


async def draft_contact(session: AsyncSession, *, user: User, now: datetime) -> ContactDraft:
    """A request to be contacted, kept unsent until the person confirms; it holds no text."""
    assert user.id is not None
    programme = await programme_of(session, user=user, now=now)
    report = SupportReport(user_id=user.id, kind=CONTACT, programme_id=programme.id, created_at=now)
    await mentorships.save(session, report)
    return ContactDraft(report, programme)


async def programme_named(session: AsyncSession, *, report: SupportReport) -> Programme | None:
    if report.programme_id is None:
        return None
    return await programmes.get(session, programme_id=report.programme_id)


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
