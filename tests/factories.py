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


@dataclass(frozen=True)
class BusyProgramme:
    """A programme full of people and what they wrote, for what coordinators may see."""

    programme_id: int
    # Every name, username and text stored for its people: none may reach a coordinator.
    secrets: tuple[str, ...]
    # The exact numbers, by construction (the figures must show them masked).
    pairs_by_state: dict[str, int]


# Pairs per state, and how the early endings are explained.
BUSY_LAYOUT = {"active": 7, "intro": 3, "closed": 5, "ended_early": 2, "invited": 1}
BUSY_END_REASONS = ("chemistry", "confidentiality")


async def busy_programme(
    db: Database,
    clock: TravellingClock,
    coordinator: Person,
    *,
    marker: str,
    name: str = "Hälsoprogrammet",
    layout: dict[str, int] | None = None,
    first_telegram_id: int = 700_000,
) -> BusyProgramme:
    """A programme coordinated by `coordinator` with pairs in several states, written
    straight into storage with what the flows would leave: names and usernames, contract
    aims, intro reasons, meetings with places and notes, answered check-ins with ratings
    and texts, diary entries, a profile and a request, delivered and draft reports. Every
    text and name contains `marker`. Active pairs 0–4 met a week ago; 5 and 6 have not
    met for two months; intro pairs entered the intro phase 30 days ago."""
    from storage.models import (
        CheckIn,
        DiaryEntry,
        Meeting,
        MentorProfile,
        MentorRequest,
        MentorshipTransition,
        Programme,
        ProgrammeMember,
        SupportReport,
    )
    from storage.programmes import new_code

    layout = dict(BUSY_LAYOUT if layout is None else layout)
    now = clock.now()
    coordinator_user = await _user(db, coordinator)
    written: list[str] = []

    def secret(what: str) -> str:
        text = f"{marker}{what}"
        written.append(text)
        return text

    async with db.session() as session:
        programme = Programme(
            name=name,
            mentor_code=new_code(),
            adept_code=new_code(),
            coordinator_code=new_code(),
            created_at=now - timedelta(days=400),
        )
        session.add(programme)
        await session.flush()
        assert programme.id is not None and coordinator_user.id is not None
        session.add(
            ProgrammeMember(
                programme_id=programme.id, user_id=coordinator_user.id, role="coordinator"
            )
        )
        telegram_id = first_telegram_id
        number = 0
        ended = 0
        for state, count in layout.items():
            for _ in range(count):
                people: list[User] = []
                for role in ("adept", "mentor"):
                    telegram_id += 1
                    person = User(
                        telegram_id=telegram_id,
                        first_name=secret(f"first{number}{role}"),
                        last_name=secret(f"last{number}{role}"),
                        username=secret(f"user{number}{role}"),
                        language="sv",
                    )
                    session.add(person)
                    people.append(person)
                await session.flush()
                adept, mentor = people
                assert adept.id is not None and mentor.id is not None
                reason = None
                if state == "ended_early":
                    reason = BUSY_END_REASONS[ended % len(BUSY_END_REASONS)]
                    ended += 1
                mentorship = Mentorship(
                    created_by_id=adept.id,
                    state=state,
                    mode="goal",
                    programme_id=programme.id,
                    created_at=now - timedelta(days=200),
                    started_at=now - timedelta(days=180) if state != "invited" else None,
                    end_reason=reason,
                )
                session.add(mentorship)
                await session.flush()
                assert mentorship.id is not None
                moves = [("invited", now - timedelta(days=200))]
                if state == "intro":
                    moves.append(("intro", now - timedelta(days=30)))
                elif state != "invited":
                    moves += [
                        ("intro", now - timedelta(days=190)),
                        ("active", now - timedelta(days=180)),
                    ]
                if state in ("closed", "ended_early"):
                    moves.append((state, now - timedelta(days=20)))
                previous = "invited"
                for to_state, at in moves:
                    session.add(
                        MentorshipTransition(
                            mentorship_id=mentorship.id,
                            from_state=previous,
                            to_state=to_state,
                            at=at,
                        )
                    )
                    previous = to_state
                for person, role in ((adept, "adept"), (mentor, "mentor")):
                    assert person.id is not None
                    session.add(
                        ProgrammeMember(programme_id=programme.id, user_id=person.id, role=role)
                    )
                    session.add(
                        Membership(
                            mentorship_id=mentorship.id,
                            user_id=person.id,
                            role=role,
                            intro_decision="continue" if state != "intro" else None,
                            intro_private_reason=secret(f"reason{number}{role}"),
                            intro_areas=secret(f"areas{number}{role}"),
                        )
                    )
                    person.current_mentorship_id = mentorship.id
                    session.add(
                        DiaryEntry(
                            author_id=person.id,
                            mentorship_id=mentorship.id,
                            text=secret(f"diary{number}{role}"),
                            created_at=now - timedelta(days=3),
                        )
                    )
                session.add(
                    Contract(
                        mentorship_id=mentorship.id,
                        aims=secret(f"aims{number}"),
                        rules=secret(f"rules{number}"),
                        drafted_by_id=adept.id,
                    )
                )
                if state in ("active", "closed", "ended_early"):
                    met = (
                        [now - timedelta(days=7)]
                        if state == "active" and number < 5
                        else [now - timedelta(days=60)]
                    )
                    for starts_at in met:
                        session.add(
                            Meeting(
                                mentorship_id=mentorship.id,
                                starts_at=starts_at,
                                state="confirmed",
                                booked_by_id=adept.id,
                                place=secret(f"place{number}"),
                                shared_notes=secret(f"notes{number}"),
                            )
                        )
                    for period in (1, 2, 3, 4):
                        for person in (adept, mentor):
                            assert person.id is not None
                            answered = period < 4 or state != "active"
                            session.add(
                                CheckIn(
                                    mentorship_id=mentorship.id,
                                    user_id=person.id,
                                    period=period,
                                    due_at=now - timedelta(days=130 - 30 * period),
                                    works_well=secret(f"well{number}{period}{person.id}")
                                    if answered
                                    else None,
                                    could_improve=secret(f"better{number}{period}{person.id}")
                                    if answered
                                    else None,
                                    rating=(number + period) % 5 + 1 if answered else None,
                                    answered_at=now - timedelta(days=129 - 30 * period)
                                    if answered
                                    else None,
                                )
                            )
                if number == 0:
                    session.add(
                        MentorProfile(
                            programme_id=programme.id,
                            user_id=mentor.id,
                            career=secret("career"),
                            organisation=secret("organisation"),
                            other_areas=secret("other-areas"),
                        )
                    )
                    session.add(
                        MentorRequest(
                            programme_id=programme.id,
                            mentor_id=mentor.id,
                            adept_id=adept.id,
                            note=secret("request-note"),
                            decline_reason=secret("decline"),
                        )
                    )
                    for sent in (True, True, False):
                        session.add(
                            SupportReport(
                                user_id=adept.id,
                                kind="report",
                                programme_id=programme.id,
                                text=None if sent else secret("draft-report"),
                                created_at=now - timedelta(days=5),
                                sent_at=now - timedelta(days=5) if sent else None,
                            )
                        )
                number += 1
        programme_id = programme.id
    return BusyProgramme(programme_id, tuple(written), layout)


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
