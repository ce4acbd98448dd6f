"""The rules behind the signals, and the contract's feedback cadence setting how far
apart the check-ins come (on real databases, through the planner)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.domain import checkins as checkin_rules
from bot.domain import signals
from bot.usecases.checkins import plan_checkins
from storage.db import Database
from storage.models import CheckIn, Contract
from tests.factories import active_pair
from tests.harness import Person
from tests.test_checkins_e2e import anniversary

People = Callable[..., Person]
NOON = datetime(2026, 5, 4, 12, tzinfo=UTC)


def test_a_rating_of_one_or_two_is_low() -> None:
    assert [r for r in (None, 1, 2, 3, 4, 5) if signals.is_low(r)] == [1, 2]


def test_short_notice_is_measured_against_the_contract() -> None:
    def inside(notice: str | None, hours: float) -> bool:
        return signals.inside_notice(
            cancel_notice=notice, starts_at=NOON + timedelta(hours=hours), now=NOON
        )

    assert inside("24h", 23.5) and not inside("24h", 24.5)
    assert inside("48h", 30) and not inside("48h", 49)
    assert inside("1w", 24 * 6) and not inside("1w", 24 * 8)
    # No agreed notice, or a meeting already begun, is never "short notice".
    assert not inside(None, 1) and not inside("someday", 1)
    assert not inside("24h", 0) and not inside("24h", -2)


def test_the_chemistry_check_comes_a_day_after_the_second_meeting() -> None:
    assert signals.CHEMISTRY_AFTER_MEETINGS == 2
    assert signals.chemistry_due(NOON) == NOON + timedelta(days=1)


def test_the_feedback_cadence_sets_months_between_check_ins() -> None:
    assert [checkin_rules.months_between(c) for c in ("meeting", "1m", "2m", None)] == [1, 1, 2, 1]
    assert [checkin_rules.at_cadence(p, 2) for p in (1, 2, 3, 4, 5)] == [0, 2, 2, 4, 4]
    assert [checkin_rules.at_cadence(p, 1) for p in (1, 2, 3)] == [1, 2, 3]


async def test_every_second_month_opens_check_ins_on_even_months_only(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    pair = await active_pair(db, clock, anna, bertil)
    async with db.session() as session:
        contract = (
            await session.exec(
                select(Contract).where(col(Contract.mentorship_id) == pair.mentorship_id)
            )
        ).one()
        contract.feedback_cadence = "2m"
        session.add(contract)

    async def plan(period: int) -> int:
        at = await anniversary(db, pair.mentorship_id, period) + timedelta(minutes=5)
        async with db.session() as session:
            return await plan_checkins(session, now=at)

    assert await plan(1) == 0, "a month in, a pair on a two-month rhythm is not asked"
    assert await plan(2) == 2
    assert await plan(2) == 0
    assert await plan(3) == 0
    assert await plan(4) == 2
    async with db.session() as session:
        periods = sorted({row.period for row in await session.exec(select(CheckIn))})
    assert periods == [2, 4]
