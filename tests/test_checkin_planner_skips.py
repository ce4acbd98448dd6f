"""The check-in pass leaves the pairs nobody can be due in the database: those started
less than a month ago and those whose people all had a check-in lately. What it opens
is still exactly what the rule (`period_due`) says, person by person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select

from bot.domain import checkins as rules
from bot.usecases.checkins import plan_checkins
from storage.db import Database
from storage.models import CheckIn, Membership, Mentorship, User
from tests.planning_data import ZONES, counting, days, many_pairs

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)


async def _pass(db: Database, now: datetime, batch: int = 500) -> int:
    async with db.session() as session:
        return await plan_checkins(session, now=now, batch=batch)


async def _opened(db: Database) -> set[tuple[int, int, int]]:
    async with db.session() as session:
        rows = await session.exec(select(CheckIn.mentorship_id, CheckIn.user_id, CheckIn.period))
        return set(rows.all())


async def _what_the_rule_opens(db: Database, now: datetime) -> set[tuple[int, int, int]]:
    """Every person's due period, if newer than their latest: the pass as it was, by hand."""
    async with db.session() as session:
        people = (
            await session.exec(
                select(Membership.mentorship_id, Membership.user_id, User.timezone)
                .join(User, col(User.id) == col(Membership.user_id))
                .join(Mentorship, col(Mentorship.id) == col(Membership.mentorship_id))
            )
        ).all()
        starts = dict((await session.exec(select(Mentorship.id, Mentorship.started_at))).all())
    latest: dict[tuple[int, int], int] = {}
    for m, u, period in await _opened(db):
        latest[(m, u)] = max(period, latest.get((m, u), 0))
    wanted = set()
    for m, u, zone in people:
        started_at = starts[m]
        assert started_at is not None
        period = rules.period_due(started_at, now, ZoneInfo(zone))
        if period is not None and period > latest.get((m, u), 0):
            wanted.add((m, u, period))
    return wanted


async def test_the_checkin_pass_reads_only_the_pairs_a_checkin_may_be_due_to(
    db: Database,
) -> None:
    # Asked in their second month already: period 2 is due to them now.
    second = await many_pairs(
        db, 3, started_at=NOW - days(62), first_telegram_id=9_100_000, zones=ZONES
    )
    assert await _pass(db, NOW - days(30)) == 6
    # Asked two weeks ago: nobody is due.
    asked = await many_pairs(
        db, 20, started_at=NOW - days(45), first_telegram_id=9_200_000, zones=ZONES
    )
    assert await _pass(db, NOW - days(10)) == 40
    # Only the mentee was asked (the mentor joined later, say): the mentor is due.
    half = await many_pairs(db, 2, started_at=NOW - days(45), first_telegram_id=9_300_000)
    async with db.session() as session:
        for m, adept in zip(half.mentorship_ids, half.adept_ids, strict=True):
            due_at = rules.anniversary(NOW - days(45), 1, ZoneInfo("Europe/Stockholm"))
            session.add(CheckIn(mentorship_id=m, user_id=adept, period=1, due_at=due_at))
        await session.commit()
    # Started ten days ago: nobody is due. A month ago: both are.
    await many_pairs(db, 20, started_at=NOW - days(10), first_telegram_id=9_400_000, zones=ZONES)
    month = await many_pairs(
        db, 3, started_at=NOW - days(33), first_telegram_id=9_500_000, zones=ZONES
    )

    # The first pair's two people are also in pairs asked lately (a mentor with a
    # second mentee, a mentee with a second mentor): that says nothing about this pair.
    async with db.session() as session:
        for other, role, person in (
            (asked.mentorship_ids[0], "mentor", month.mentor_ids[0]),
            (asked.mentorship_ids[1], "adept", month.adept_ids[0]),
        ):
            membership = (
                await session.exec(
                    select(Membership).where(
                        col(Membership.mentorship_id) == other, col(Membership.role) == role
                    )
                )
            ).one()
            for checkin in (
                await session.exec(
                    select(CheckIn).where(
                        col(CheckIn.mentorship_id) == other,
                        col(CheckIn.user_id) == membership.user_id,
                    )
                )
            ).all():
                checkin.user_id = person
                session.add(checkin)
            membership.user_id = person
            session.add(membership)
        await session.commit()

    wanted = await _what_the_rule_opens(db, NOW)
    assert {m for m, _, _ in wanted} == {
        *second.mentorship_ids,
        *half.mentorship_ids,
        *month.mentorship_ids,
    }
    assert not {m for m, _, _ in wanted} & set(asked.mentorship_ids)
    before = await _opened(db)
    # A pair a batch: every pair the pass reads costs a read of the pairs.
    with counting(db, keep="FROM mentorships") as counted:
        assert await _pass(db, NOW, batch=1) == len(wanted) == 3 * 2 + 2 + 3 * 2
    assert await _opened(db) - before == wanted
    assert len(counted.seen) == 8 + 1, "the 8 pairs someone is due in, and the read after"
    # Everyone asked: the next pass reads the pairs once and finds none.
    with counting(db) as again:
        assert await _pass(db, NOW + timedelta(hours=1)) == 0
    assert again.statements == 1


def test_no_anniversary_comes_sooner_than_the_least_gap_whatever_the_zones() -> None:
    """From a start to its first anniversary, and from one person's anniversary to the
    next period's even after a move across the date line: never within `LEAST_GAP`."""
    zones = [
        ZoneInfo(z)
        for z in ("Pacific/Kiritimati", "Etc/GMT+12", "Pacific/Apia", "Europe/Stockholm")
    ]
    start = datetime(2011, 1, 25, tzinfo=UTC)  # month ends, and Samoa's skipped day
    while start < datetime(2012, 3, 5, tzinfo=UTC):
        for before in zones:
            assert rules.anniversary(start, 1, before) - start > rules.LEAST_GAP
            for period in (1, 10):
                opened = rules.anniversary(start, period, before)
                for after in zones:
                    assert rules.anniversary(start, period + 1, after) - opened > rules.LEAST_GAP
        start += timedelta(hours=31, minutes=7)
