"""Shortcuts to a state that other tests already reach through the bot.

Pairing, the intro meeting and the contract are driven end to end in
tests/test_pairing_e2e.py; later flows start from an active mentorship
written straight into storage, with the same rows those flows would leave.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import TravellingClock
from bot.domain.contract import add_months
from storage import users
from storage.db import Database
from storage.models import Contract, Membership, Mentorship, MentorshipState, User
from tests.harness import Person


@dataclass(frozen=True)
class ActivePair:
    mentorship_id: int
    adept: User
    mentor: User


async def _user(db: Database, person: Person) -> User:
    async with db.session() as session:
        return await users.upsert_from_telegram(
            session,
            telegram_id=person.user_id,
            first_name=person.first_name,
            last_name=None,
            username=None,
            language="sv" if (person.language_code or "sv").startswith("sv") else "en",
            timezone="Europe/Stockholm",
        )


async def active_pair(
    db: Database,
    clock: TravellingClock,
    adept: Person,
    mentor: Person,
    *,
    cadence: str = "3w",
    minutes: int = 60,
    budget_hours: int = 3,
    mode: str = "goal",
) -> ActivePair:
    """An active mentorship as the pairing and contract flows leave it."""
    adept_user, mentor_user = await _user(db, adept), await _user(db, mentor)
    now: datetime = clock.now()
    async with db.session() as session:
        assert adept_user.id is not None and mentor_user.id is not None
        mentorship = Mentorship(
            created_by_id=adept_user.id,
            state=MentorshipState.ACTIVE,
            mode=mode,
            started_at=now - timedelta(days=1),
            planned_end=add_months(now.date(), 6),
        )
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        _members_and_contract(
            session,
            mentorship,
            adept_user,
            mentor_user,
            now,
            mode=mode,
            cadence=cadence,
            minutes=minutes,
            budget_hours=budget_hours,
            mentor_accepted=True,
        )
        mentorship_id = mentorship.id
    return ActivePair(mentorship_id, adept_user, mentor_user)


def _members_and_contract(
    session: AsyncSession,
    mentorship: Mentorship,
    adept_user: User,
    mentor_user: User,
    now: datetime,
    *,
    mode: str = "goal",
    cadence: str = "3w",
    minutes: int = 60,
    budget_hours: int = 3,
    mentor_accepted: bool,
) -> None:
    """Both decided to continue and promised confidentiality; the adept's contract, accepted
    by the mentor too when `mentor_accepted`."""
    assert mentorship.id is not None and adept_user.id is not None
    for user, role in ((adept_user, "adept"), (mentor_user, "mentor")):
        session.add(
            Membership(
                mentorship_id=mentorship.id,
                user_id=user.id or 0,
                role=role,
                intro_decision="continue",
                confidentiality_agreed_at=now,
            )
        )
        user.current_mentorship_id = mentorship.id
        session.add(user)
    session.add(
        Contract(
            mentorship_id=mentorship.id,
            aims="Bli en trygg ledare för mitt team",
            mode=mode,
            duration_months=6,
            cadence=cadence,
            meeting_minutes=minutes,
            time_budget_hours=budget_hours,
            cancel_notice="24h",
            feedback_cadence="1m",
            drafted_by_id=adept_user.id,
            submitted_at=now,
            adept_accepted_at=now,
            mentor_accepted_at=now if mentor_accepted else None,
        )
    )


async def intro_pair_awaiting_contract(
    db: Database, clock: TravellingClock, adept: Person, mentor: Person
) -> int:
    """Both chose to continue after the intro meeting and promised confidentiality; the
    adept has sent the contract, which awaits the mentor (as the intro and contract flows
    leave it, see tests/test_pairing_e2e.py)."""
    adept_user, mentor_user = await _user(db, adept), await _user(db, mentor)
    async with db.session() as session:
        assert adept_user.id is not None
        mentorship = Mentorship(created_by_id=adept_user.id, state=MentorshipState.INTRO)
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        _members_and_contract(
            session, mentorship, adept_user, mentor_user, clock.now(), mentor_accepted=False
        )
        return mentorship.id


async def programme_with(
    db: Database,
    clock: TravellingClock,
    *,
    name: str,
    areas: list[str],
    mentors: tuple[Person, ...] = (),
    adepts: tuple[Person, ...] = (),
) -> int:
    """A programme with these people in it as mentors and adepts, as join links leave it."""
    from bot.usecases.programmes import join_as
    from storage import programmes
    from storage.models import Programme

    people = [(await _user(db, p), "mentor") for p in mentors]
    people += [(await _user(db, p), "adept") for p in adepts]
    async with db.session() as session:
        programme = await programmes.create(
            session,
            programme=Programme(
                name=name,
                areas="\n".join(areas),
                mentor_code=programmes.new_code(),
                adept_code=programmes.new_code(),
                coordinator_code=programmes.new_code(),
                created_at=clock.now(),
            ),
        )
        for user, role in people:
            await join_as(session, programme=programme, user=user, role=role, now=clock.now())
        assert programme.id is not None
        return programme.id


async def published_profile(
    db: Database,
    clock: TravellingClock,
    *,
    programme_id: int,
    mentor: Person,
    areas: list[str],
    career: str,
    languages: str = "sv",
    organisation: str | None = None,
    capacity: int = 1,
) -> int:
    """A mentor's profile as /profile leaves it once published."""
    from storage.models import MentorProfile

    user = await _user(db, mentor)
    assert user.id is not None
    async with db.session() as session:
        profile = MentorProfile(
            programme_id=programme_id,
            user_id=user.id,
            areas="\n".join(areas),
            career=career,
            languages=languages,
            organisation=organisation,
            capacity=capacity,
            published_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(profile)
        await session.flush()
        assert profile.id is not None
        return profile.id
