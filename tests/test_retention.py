"""Retention: the texts of a closed mentorship are erased RETENTION_MONTHS after it
closed, a month after one reminder to both, by a job on the bot's (moved) clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import func
from sqlmodel import col, select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.domain import privacy as rules
from bot.i18n import DATE_FORMAT
from bot.settings import SettingError, load_settings
from bot.usecases.privacy import REMINDER_KIND
from conversations.privacy import run_retention
from storage.db import Database
from storage.models import Membership, Mentorship, Notification, User
from tests.factories import ActivePair, active_pair
from tests.harness import Person
from tests.test_meetings_e2e import STOCKHOLM, travel_to
from tests.test_privacy_e2e import Markers, coordinator_counts, everything_stored, seed

People = Callable[..., Person]
MONTHS = 12
# Texts of a person rather than of the mentorship: retention leaves them alone.
NOT_OF_THE_MENTORSHIP = ("diary-alone", "report")


async def _close(db: Database, pair: ActivePair, ended_at: datetime) -> None:
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None
        mentorship.state, mentorship.ended_at = "closed", ended_at
        session.add(mentorship)


def _of_the_mentorship(marks: Markers) -> list[str]:
    return [
        marker
        for written in marks.by.values()
        for marker in written.everything
        if not any(f"-{what}-" in marker for what in NOT_OF_THE_MENTORSHIP)
    ]


async def _reminders(db: Database) -> list[Notification]:
    async with db.session() as session:
        rows = await session.exec(select(Notification).where(Notification.kind == REMINDER_KIND))
        return list(rows)


async def test_closed_mentorships_are_reminded_once_then_purged_on_time(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Annelie", "sv"), people("Bertram", "en")
    closed = await active_pair(db, clock, anna, bertil)
    gone = await seed(db, closed, clock)
    # Another pair, still going: nothing of theirs is touched.
    cia, dan = people("Cia", "sv"), people("Dan", "sv")
    going = await active_pair(db, clock, cia, dan)
    kept = await seed(db, going, clock)
    ended = clock.now()
    await _close(db, closed, ended)
    async with db.session() as session:
        counts_before = await coordinator_counts(session, now=clock.now())

    await travel_to(clock, bot_app, rules.months_after(ended, MONTHS - 1) - timedelta(days=2))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)

    # A month before: one reminder to each, in their own language.
    await travel_to(clock, bot_app, rules.months_after(ended, MONTHS - 1) + timedelta(hours=1))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (1, 0)
    await travel_to(clock, bot_app, clock.now())
    to_anna = await anna.expect("raderas texterna")
    to_bertil = await bertil.expect("will be erased")
    assert "/mydata" in to_anna.text and "Bertram" in to_anna.text
    assert "/mydata" in to_bertil.text and "Annelie" in to_bertil.text
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)
    await travel_to(clock, bot_app, clock.now() + timedelta(days=3))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)
    assert len(await _reminders(db)) == 2, "never a second reminder"

    await travel_to(clock, bot_app, rules.months_after(ended, MONTHS) - timedelta(days=1))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)
    stored = await everything_stored(db)
    assert all(marker in stored for marker in _of_the_mentorship(gone))

    # A day late: a month has passed since the reminder too (the clock flows on meanwhile).
    await travel_to(clock, bot_app, rules.months_after(ended, MONTHS) + timedelta(days=1))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 1)
    stored = await everything_stored(db)
    for marker in _of_the_mentorship(gone):
        assert marker not in stored, marker
    for marker in (
        kept.by[going.adept.id or 0].everything + kept.by[going.mentor.id or 0].everything
    ):
        assert marker in stored, marker
    # People remain who they are; only the mentorship's texts went.
    assert "Annelie" in stored and "Bertram" in stored
    async with db.session() as session:
        purged = await session.get(Mentorship, closed.mentorship_id)
        untouched = await session.get(Mentorship, going.mentorship_id)
        counts_after = await coordinator_counts(session, now=clock.now())
    assert purged is not None and purged.purged_at is not None and purged.state == "closed"
    assert untouched is not None and untouched.purged_at is None
    assert counts_after.checkins_answered == counts_before.checkins_answered
    assert counts_after.average_rating == counts_before.average_rating
    assert counts_after.by_state == counts_before.by_state
    # Done once.
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)


async def test_a_mentorship_closed_long_ago_still_gets_a_month_after_its_reminder(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ylva, zeke = people("Ylva", "sv"), people("Zeke", "en")
    pair = await active_pair(db, clock, ylva, zeke)
    marks = await seed(db, pair, clock)
    await _close(db, pair, clock.now() - timedelta(days=800))

    assert await run_retention(db, now=clock.now(), months=MONTHS) == (1, 0)
    await travel_to(clock, bot_app, clock.now())
    purge_day = rules.months_after(clock.now(), 1).astimezone(STOCKHOLM).date()
    reminder = await zeke.expect("will be erased")
    assert format_date(purge_day, DATE_FORMAT["en"], locale="en") in reminder.text
    await travel_to(clock, bot_app, clock.now() + timedelta(days=20))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 0)
    await travel_to(clock, bot_app, rules.months_after(clock.now(), 1))
    assert await run_retention(db, now=clock.now(), months=MONTHS) == (0, 1)
    stored = await everything_stored(db)
    assert not [m for m in _of_the_mentorship(marks) if m in stored]


async def test_many_closed_mentorships_are_handled_in_short_batches(
    db: Database, clock: TravellingClock
) -> None:
    now = clock.now()
    async with db.session() as session:
        creator = User(telegram_id=9_100_000_001, first_name="Batch")
        session.add(creator)
        await session.flush()
        for days in (400, 500, 600, 700, 800):
            mentorship = Mentorship(
                created_by_id=creator.id or 0,
                state="ended_early",
                ended_at=now - timedelta(days=days),
            )
            session.add(mentorship)
            await session.flush()
            session.add(
                Membership(mentorship_id=mentorship.id or 0, user_id=creator.id or 0, role="adept")
            )
    assert await run_retention(db, now=now, months=MONTHS, batch=2) == (5, 0)
    later = rules.months_after(now, 1) + timedelta(minutes=1)
    assert await run_retention(db, now=later, months=MONTHS, batch=2) == (0, 5)
    async with db.session() as session:
        left = (
            await session.exec(
                select(func.count())
                .select_from(Mentorship)
                .where(col(Mentorship.purged_at).is_(None))
            )
        ).one()
    assert left == 0


async def test_the_retention_job_runs_on_the_bots_clock(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    lo, mo = people("Lo", "sv"), people("Mo", "sv")
    pair = await active_pair(db, clock, lo, mo)
    await _close(db, pair, clock.now())
    assert bot_app.job_queue is not None
    (job,) = bot_app.job_queue.get_jobs_by_name("retention")
    await job.run(bot_app)
    assert await _reminders(db) == []
    await travel_to(
        clock, bot_app, rules.months_after(clock.now(), MONTHS - 1) + timedelta(hours=1)
    )
    await job.run(bot_app)
    assert len(await _reminders(db)) == 2
    await lo.expect("/mydata")


def test_retention_months_is_a_setting_with_a_sane_range() -> None:
    assert load_settings().retention_months == 12
    assert load_settings(RETENTION_MONTHS="3").retention_months == 3
    with pytest.raises(SettingError, match="RETENTION_MONTHS"):
        load_settings(RETENTION_MONTHS="0")


def test_months_are_calendar_months_even_at_the_end_of_a_month() -> None:
    moment = datetime(2027, 3, 31, 9, 30, tzinfo=UTC)
    assert rules.months_before(moment, 1) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)
    assert rules.months_after(moment, 11) == datetime(2028, 2, 29, 9, 30, tzinfo=UTC)
    assert rules.months_before(moment, 12) == datetime(2026, 3, 31, 9, 30, tzinfo=UTC)
    ended = datetime(2027, 1, 10, tzinfo=UTC)
    assert rules.purge_date(ended_at=ended, reminded_at=None, months=12) == datetime(
        2028, 1, 10, tzinfo=UTC
    )
    late = datetime(2029, 5, 1, tzinfo=UTC)
    assert rules.purge_date(ended_at=ended, reminded_at=late, months=12) == datetime(
        2029, 6, 1, tzinfo=UTC
    )


def test_the_confirmation_word_is_forgiving_about_case_and_stray_marks_only() -> None:
    assert rules.is_confirmation("radera", "RADERA")
    assert rules.is_confirmation(' "DELETE". ', "DELETE")
    assert not rules.is_confirmation("radera inte", "RADERA")
    assert not rules.is_confirmation("", "RADERA")
    issued = datetime(2027, 1, 1, 12, tzinfo=UTC)
    assert rules.confirmation_fresh(issued=issued, now=issued + timedelta(minutes=29))
    assert not rules.confirmation_fresh(issued=issued, now=issued + timedelta(minutes=31))
    assert not rules.confirmation_fresh(issued=issued, now=issued - timedelta(minutes=1))
