"""What the sandbox starts with, so a newcomer sees a programme without configuring one.

One programme with Karin as its coordinator (she is in the sandbox's `ADMIN_IDS`),
Mikael as a mentor with a published profile, Astrid as a mentee, and a year of
history from earlier, finished pairs (people without a pane), so the coordinator's
`/stats` has months to show. The earlier pairs are all closed, with their look-back
done, so no planner sends them anything when time travels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Bot

from bot.i18n import t
from storage import programmes
from storage.db import Database
from storage.models import (
    CheckIn,
    Meeting,
    Membership,
    MentorProfile,
    Mentorship,
    MentorshipState,
    MentorshipTransition,
    Programme,
    User,
)

PROGRAMME_NAME = "Mentorprogrammet 2027"
AREAS = (
    "Ledarskap",
    "Karriärväxling",
    "Specialistroll",
    "Förhandling och lön",
    "Balans mellan jobb och fritid",
)
# Earlier pairs: how many months ago each started; each ran six months and closed.
EARLIER_STARTS = (13, 12, 12, 11, 11, 10, 10, 10, 9, 9, 8, 8)
EARLIER_IDS = 900_000  # Telegram ids of the people behind them: no pane, no chat


@dataclass(frozen=True, slots=True)
class Cast:
    adept: int
    mentor: int
    coordinator: int


async def seed(db: Database, *, cast: Cast, names: dict[int, str], now: datetime) -> None:
    async with db.session() as session:
        people = {
            telegram_id: await _person(session, telegram_id, names[telegram_id], now)
            for telegram_id in (cast.adept, cast.mentor, cast.coordinator)
        }
        programme = await programmes.create(
            session,
            programme=Programme(
                name=PROGRAMME_NAME,
                coordinator_contact="Karin, programansvarig: karin@example.org",
                support_text=None,
                areas="\n".join(AREAS),
                language="sv",
                timezone="Europe/Stockholm",
                length_months=12,
                mentor_code=programmes.new_code(),
                adept_code=programmes.new_code(),
                coordinator_code=programmes.new_code(),
                created_by_id=people[cast.coordinator].id,
                created_at=now - timedelta(days=400),
                # The deployment's default programme: someone added to the page, in no
                # programme, pairs up in it and gets its texts, instead of in a second,
                # nameless programme that Karin's /stats would then ask her to choose.
                is_default=True,
            ),
        )
        assert programme.id is not None
        for telegram_id, role in (
            (cast.coordinator, "coordinator"),
            (cast.mentor, "mentor"),
            (cast.adept, "adept"),
        ):
            person = people[telegram_id]
            assert person.id is not None
            await programmes.add_member(
                session, programme_id=programme.id, user_id=person.id, role=role, now=now
            )
            person.current_programme_id = programme.id
            session.add(person)
        mentor = people[cast.mentor]
        assert mentor.id is not None
        session.add(
            MentorProfile(
                programme_id=programme.id,
                user_id=mentor.id,
                areas="\n".join((AREAS[0], AREAS[3])),
                career=(
                    "Civilingenjör i elektroteknik. Tio år som utvecklare, "
                    "sedan gruppchef för ett team på tolv personer."
                ),
                organisation="Nordverk AB",
                languages="sv,en",
                capacity=2,
                published_at=now,
                updated_at=now,
            )
        )
        await _history(session, programme_id=programme.id, now=now)
        await session.commit()


async def greet(bot: Bot, *, cast: Cast) -> None:
    """The coordinator's first message: what to try. Sent directly, not through the outbox,
    so the sandbox starts with nothing queued (the time-travel list begins empty)."""
    await bot.send_message(
        cast.coordinator, t("sv", "sandbox.coordinator_hello", programme=escape(PROGRAMME_NAME))
    )


async def _person(session: AsyncSession, telegram_id: int, name: str, now: datetime) -> User:
    user = User(telegram_id=telegram_id, first_name=name, language="sv", created_at=now)
    session.add(user)
    await session.flush()
    return user


async def _history(session: AsyncSession, *, programme_id: int, now: datetime) -> None:
    """Closed pairs from the year before, with their meetings and check-ins (no texts)."""
    for number, months_ago in enumerate(EARLIER_STARTS):
        mentor = await _person(session, EARLIER_IDS + 2 * number, f"M{number}", now)
        adept = await _person(session, EARLIER_IDS + 2 * number + 1, f"A{number}", now)
        assert mentor.id is not None and adept.id is not None
        started = now - timedelta(days=30 * months_ago)
        ended = started + timedelta(days=182)
        early = number % 5 == 4  # a few end early, for the reasons line
        end = started + timedelta(days=75) if early else ended
        pair = Mentorship(
            state=MentorshipState.ENDED_EARLY if early else MentorshipState.CLOSED,
            programme_id=programme_id,
            created_by_id=adept.id,
            started_at=started + timedelta(days=10),
            ended_at=end,
            end_reason="conditions" if early else None,
            lookback_sent_at=end,
            created_at=started,
        )
        session.add(pair)
        await session.flush()
        assert pair.id is not None
        for user, role in ((mentor, "mentor"), (adept, "adept")):
            assert user.id is not None
            session.add(Membership(mentorship_id=pair.id, user_id=user.id, role=role))
            await programmes.add_member(
                session, programme_id=programme_id, user_id=user.id, role=role, now=started
            )
        steps = [
            ("invited", "intro", started + timedelta(days=1)),
            ("intro", "active", started + timedelta(days=10)),
        ]
        steps.append(("active", str(pair.state), end))
        for before, after, at in steps:
            session.add(
                MentorshipTransition(
                    mentorship_id=pair.id, from_state=before, to_state=after, at=at
                )
            )
        day = started + timedelta(days=7)
        while day < end:
            session.add(
                Meeting(
                    mentorship_id=pair.id,
                    kind="intro" if day == started + timedelta(days=7) else "regular",
                    starts_at=day,
                    state="confirmed",
                    booked_by_id=adept.id,
                    created_at=day - timedelta(days=7),
                    updated_at=day - timedelta(days=7),
                )
            )
            day += timedelta(days=21)
        for period in range(1, (end - started).days // 30):
            for user in (mentor, adept):
                assert user.id is not None
                session.add(
                    CheckIn(
                        mentorship_id=pair.id,
                        user_id=user.id,
                        period=period,
                        due_at=started + timedelta(days=30 * period),
                        rating=3 + (number + period) % 3,
                        answered_at=started + timedelta(days=30 * period + 1),
                    )
                )
    await session.flush()
