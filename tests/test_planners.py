"""The hourly planners over thousands of pairs in the run's database (SQLite or PostgreSQL):
a few statements and one commit per batch of pairs, nothing planned twice when two
processes plan at once, and outbox rows found by what they are about, not by a prefix
of their key (on PostgreSQL: by an index, as EXPLAIN shows)."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlmodel import col, func, select

from bot import planning as jobs
from bot.app import AnyApplication
from bot.domain import checkins as checkin_rules
from bot.usecases.checkins import REMINDER_KIND, plan_checkins
from bot.usecases.closing import plan_closing
from bot.usecases.meetings import NUDGE_KIND, PLANNED_KINDS, plan_nudges
from storage import outbox, planning
from storage.db import Database
from storage.models import (
    CheckIn,
    Mentorship,
    MentorshipTransition,
    Notification,
    OutboxState,
    User,
)
from tests.planning_data import ZONES, Generated, counting, days, many_pairs, meetings, outbox_rows

NOW = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
STOCKHOLM = ZoneInfo("Europe/Stockholm")
BATCH = planning.BATCH


async def _count(db: Database, *where: object) -> int:
    async with db.session() as session:
        statement = select(func.count()).select_from(Notification)
        for condition in where:
            statement = statement.where(condition)  # type: ignore[arg-type]
        return (await session.exec(statement)).one()


async def _checkins(db: Database) -> list[CheckIn]:
    async with db.session() as session:
        return list((await session.exec(select(CheckIn).order_by(col(CheckIn.id)))).all())


async def _run_checkins(database: Database, now: datetime, batch: int = BATCH) -> int:
    async with database.session() as session:
        return await plan_checkins(session, now=now, batch=batch)


async def _run_nudges(database: Database, now: datetime, batch: int = BATCH) -> int:
    async with database.session() as session:
        return await plan_nudges(session, now=now, batch=batch)


async def _run_closing(database: Database, now: datetime, batch: int = BATCH) -> int:
    async with database.session() as session:
        return await plan_closing(session, now=now, zone=STOCKHOLM, batch=batch)


# -- check-ins --------------------------------------------------------------------------------


async def test_a_checkin_pass_over_thousands_of_pairs_is_a_few_statements_and_a_commit_per_batch(
    db: Database,
) -> None:
    due = await many_pairs(
        db, 2000, started_at=NOW - days(33), first_telegram_id=8_000_000, zones=ZONES
    )
    await many_pairs(db, 400, started_at=NOW - days(10), first_telegram_id=8_100_000)
    # Only the pairs a check-in may be due to are read: not the 400 started ten days ago.
    batches = math.ceil(2000 / BATCH)

    with counting(db) as counted:
        async with db.session() as session:
            assert await plan_checkins(session, now=NOW) == 4000
            assert len(session.identity_map) == 0, "pairs are read as plain rows, then let go"
    assert counted.commits == batches + 1, "one a batch, and the read that found no more"
    # Per batch: the pairs, their people, their latest periods, their contracts' feedback
    # cadence, the check-ins, and their 2,000 messages (two pages of the driver's inserts).
    assert counted.statements <= 7 * batches + 1, counted.statements

    opened = await _checkins(db)
    assert len(opened) == 4000
    async with db.session() as session:
        zones = dict((await session.exec(select(User.id, User.timezone))).all())
    for row in opened:
        zone = ZoneInfo(zones[row.user_id])
        assert row.period == checkin_rules.period_due(NOW - days(33), NOW, zone) == 1
        assert row.due_at == checkin_rules.anniversary(NOW - days(33), 1, zone)
    assert {row.mentorship_id for row in opened} == set(due.mentorship_ids)
    async with db.session() as session:
        messages = (
            await session.exec(
                select(
                    Notification.checkin_id,
                    Notification.kind,
                    Notification.idempotency_key,
                    Notification.due_at,
                )
            )
        ).all()
    by_checkin = {row.id: row for row in opened}
    assert Counter((c, kind) for c, kind, _, _ in messages) == Counter(
        {(row.id, kind): 1 for row in opened for kind in ("checkin_prompt", REMINDER_KIND)}
    )
    for checkin_id, kind, key, due_at in messages:
        row = by_checkin[checkin_id]
        ending = "prompt" if kind == "checkin_prompt" else "reminder"
        assert key == f"checkin:{row.mentorship_id}:1:{row.user_id}:{ending}"
        assert due_at == (NOW if ending == "prompt" else checkin_rules.reminder_at(NOW))

    # An hour later nothing is due: reads only, no writes.
    with counting(db) as again:
        assert await _run_checkins(db, NOW + timedelta(hours=1)) == 0
    assert again.statements <= 3 * batches + 1, again.statements
    assert await _count(db) == 8000


async def test_two_planners_at_once_open_and_queue_every_checkin_once(
    db: Database, database_url: str
) -> None:
    await many_pairs(db, 700, started_at=NOW - days(33), first_telegram_id=8_200_000)
    other = Database(database_url)  # a second process, as far as the database can tell
    try:
        first, second = await asyncio.gather(
            _run_checkins(db, NOW, batch=100), _run_checkins(other, NOW, batch=100)
        )
    finally:
        await other.dispose()
    assert first + second == 1400
    opened = await _checkins(db)
    assert len(opened) == 1400
    assert await _count(db, col(Notification.kind) == "checkin_prompt") == 1400
    assert await _count(db, col(Notification.kind) == REMINDER_KIND) == 1400
    async with db.session() as session:
        refs = (await session.exec(select(Notification.checkin_id))).all()
    assert Counter(refs) == Counter({row.id: 2 for row in opened})


# -- booking nudges ---------------------------------------------------------------------------


async def _nudge_pairs(
    db: Database, count: int, first_telegram_id: int
) -> tuple[Generated, dict[int, int]]:
    """Pairs meeting every two weeks, started 40 days ago: a third have a meeting booked
    two months ahead, a third met a month ago (the meeting's id by pair), a third never met."""
    pairs = await many_pairs(
        db, count, started_at=NOW - days(40), first_telegram_id=first_telegram_id, cadence="2w"
    )
    booking = list(zip(pairs.mentorship_ids, pairs.adept_ids, strict=True))
    await meetings(db, booking[0::3], starts_at=NOW + days(60), state="proposed")
    held = await meetings(db, booking[1::3], starts_at=NOW - days(30))
    return pairs, dict(zip(pairs.mentorship_ids[1::3], held, strict=True))


async def test_nudges_over_thousands_of_pairs_come_weekly_three_times_then_both_are_told_once(
    db: Database, database_url: str
) -> None:
    pairs, held = await _nudge_pairs(db, 1500, 8_300_000)
    drifting = set(pairs.mentorship_ids[1::3]) | set(pairs.mentorship_ids[2::3])
    adept_of = dict(zip(pairs.mentorship_ids, pairs.adept_ids, strict=True))
    mentor_of = dict(zip(pairs.mentorship_ids, pairs.mentor_ids, strict=True))
    batches = math.ceil(1500 / BATCH)

    other = Database(database_url)
    try:
        first, second = await asyncio.gather(_run_nudges(db, NOW), _run_nudges(other, NOW))
    finally:
        await other.dispose()
    assert first + second == len(drifting) == 1000
    assert await _run_nudges(db, NOW + days(1)) == 0, "the next nudge waits a week"
    with counting(db) as counted:
        assert await _run_nudges(db, NOW + days(7) + timedelta(minutes=1)) == 1000
    assert counted.commits == batches + 1
    # Per batch: pairs, upcoming, last held, contracts, earlier nudges, people, the nudges.
    assert counted.statements <= 7 * batches + 1, counted.statements
    assert await _run_nudges(db, NOW + days(14) + timedelta(minutes=2)) == 1000
    assert await _run_nudges(db, NOW + days(21) + timedelta(minutes=3)) == 2000, "both told"
    assert await _run_nudges(db, NOW + days(28) + timedelta(minutes=4)) == 0

    async with db.session() as session:
        rows = (
            await session.exec(
                select(Notification).where(col(Notification.mentorship_id).in_(drifting))
            )
        ).all()
    nudges = [r for r in rows if r.kind == NUDGE_KIND]
    stops = [r for r in rows if r.kind == "message"]
    assert len(nudges) == 3000 and len(stops) == 2000 and len(rows) == 5000
    for row in nudges + stops:
        assert row.mentorship_id is not None
        anchor = held.get(row.mentorship_id)
        assert row.meeting_id == anchor, "the anchor: the last meeting held, or none"
        start = f"nudge:{row.mentorship_id}:{anchor if anchor is not None else 'start'}:"
        assert row.idempotency_key.startswith(start)
    assert Counter(r.mentorship_id for r in nudges) == Counter({m: 3 for m in drifting})
    assert {r.recipient_id for r in nudges} == {adept_of[m] for m in drifting}
    assert sorted((r.mentorship_id, r.payload["number"]) for r in nudges) == sorted(
        (m, n) for m in drifting for n in (1, 2, 3)
    )
    told = {(r.mentorship_id, r.recipient_id) for r in stops}
    assert told == {(m, p) for m in drifting for p in (adept_of[m], mentor_of[m])}
    for row in stops:
        assert row.payload["key"] == "meetings.nudges_stopped"
        assert row.mentorship_id is not None
        partner = mentor_of[row.mentorship_id]
        if row.recipient_id == partner:
            partner = adept_of[row.mentorship_id]
        assert row.payload["values"] == {"name": {"user": partner}}


# -- closing ----------------------------------------------------------------------------------


async def test_closing_prompts_and_closes_thousands_of_pairs_once_with_two_planners(
    db: Database, database_url: str
) -> None:
    today = NOW.astimezone(STOCKHOLM).date()
    ending = await many_pairs(
        db,
        600,
        started_at=NOW - days(150),
        first_telegram_id=8_400_000,
        planned_end=today + days(20),
    )
    await many_pairs(
        db,
        600,
        started_at=NOW - days(10),
        first_telegram_id=8_500_000,
        planned_end=today + days(170),
    )
    closing = await many_pairs(
        db, 200, started_at=NOW - days(15), first_telegram_id=8_600_000, state="closing"
    )
    await many_pairs(
        db, 200, started_at=NOW - days(3), first_telegram_id=8_700_000, state="closing"
    )

    other = Database(database_url)
    try:
        first, second = await asyncio.gather(
            _run_closing(db, NOW, batch=100), _run_closing(other, NOW, batch=100)
        )
    finally:
        await other.dispose()
    assert first + second == 600 + 200
    assert await _run_closing(db, NOW + timedelta(hours=1)) == 0

    async with db.session() as session:
        prompts = (
            await session.exec(
                select(Notification.mentorship_id, Notification.recipient_id).where(
                    Notification.kind == "closing_prompt"
                )
            )
        ).all()
        states = Counter((await session.exec(select(Mentorship.state))).all())
        closed_moves = Counter(
            (
                await session.exec(
                    select(MentorshipTransition.mentorship_id).where(
                        MentorshipTransition.to_state == "closed"
                    )
                )
            ).all()
        )
        lookbacks = Counter(
            (
                await session.exec(
                    select(Notification.mentorship_id).where(
                        col(Notification.kind).startswith("lookback_")
                    )
                )
            ).all()
        )
    assert sorted(prompts) == sorted(zip(ending.mentorship_ids, ending.adept_ids, strict=True))
    assert states == Counter({"active": 1200, "closed": 200, "closing": 200})
    assert closed_moves == Counter({m: 1 for m in closing.mentorship_ids})
    assert lookbacks == Counter({m: 6 for m in closing.mentorship_ids})


async def test_a_closing_pass_reads_no_pair_far_from_its_end(db: Database) -> None:
    today = NOW.astimezone(STOCKHOLM).date()
    await many_pairs(
        db,
        2000,
        started_at=NOW - days(10),
        first_telegram_id=8_800_000,
        planned_end=today + days(170),
    )
    with counting(db) as counted:
        assert await _run_closing(db, NOW) == 0
    # Issue 13 adds the third: pairs that ended early and still await their look-back.
    assert counted.statements == 3, "one empty read each: near their end, closing, ended early"


# -- outbox references ------------------------------------------------------------------------


async def test_cancelling_by_meeting_takes_its_pending_planned_rows_and_nothing_else(
    db: Database,
) -> None:
    pairs = await many_pairs(db, 2, started_at=NOW - days(3), first_telegram_id=8_900_000)
    m1, m2 = pairs.mentorship_ids
    adept = pairs.adept_ids[0]
    first, second = await meetings(db, [(m1, adept), (m2, pairs.adept_ids[1])], starts_at=NOW)
    rows = [
        {"idempotency_key": f"r{i}", "recipient_id": adept, "mentorship_id": m1, **extra}
        for i, extra in enumerate(
            [
                {"kind": "meeting_reminder", "meeting_id": first},
                {"kind": "mentor_prep", "meeting_id": first},
                {"kind": "meeting_request", "meeting_id": first},
                {"kind": "agenda_to_mentor", "meeting_id": first},  # written: it stays
                {"kind": "meeting_reminder", "meeting_id": first, "state": "sent"},
                {"kind": "meeting_reminder", "meeting_id": second},
                {"kind": "meeting_reminder", "meeting_id": None},
            ]
        )
    ]
    await outbox_rows(db, rows)
    async with db.session() as session:
        assert await outbox.cancel(session, meeting_id=first, kinds=PLANNED_KINDS) == 3
        assert await outbox.cancel(session, meeting_id=first, kinds=PLANNED_KINDS) == 0
        with pytest.raises(ValueError):
            await outbox.cancel(session, kinds=PLANNED_KINDS)
    async with db.session() as session:
        states = dict(
            (await session.exec(select(Notification.idempotency_key, Notification.state))).all()
        )
    assert states == {
        "r0": OutboxState.CANCELLED,
        "r1": OutboxState.CANCELLED,
        "r2": OutboxState.CANCELLED,
        "r3": OutboxState.PENDING,
        "r4": OutboxState.SENT,
        "r5": OutboxState.PENDING,
        "r6": OutboxState.PENDING,
    }


def _plan_of(rows: list[tuple[object, ...]]) -> str:
    return "\n".join(str(row[0]) for row in rows)


async def test_on_postgresql_the_nudge_lookup_and_cancel_by_meeting_use_indexes(
    db: Database,
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("EXPLAIN output is PostgreSQL's")
    # 4,000 pairs, one in twenty drifting; the others have a meeting booked with the ten
    # rows a confirmed meeting plans. ANALYZE gives the planner the true proportions.
    pairs = await many_pairs(
        db, 4000, started_at=NOW - days(40), first_telegram_id=9_000_000, cadence="2w"
    )
    booked = [
        (m, a)
        for i, (m, a) in enumerate(zip(pairs.mentorship_ids, pairs.adept_ids, strict=True))
        if i % 20
    ]
    meeting_ids = await meetings(db, booked, starts_at=NOW + days(5))
    kinds = [*PLANNED_KINDS, "agenda_to_mentor", "meeting_reminder", "meeting_evaluation"]
    await outbox_rows(
        db,
        [
            {
                "idempotency_key": f"meeting:{meeting}:{n}",
                "recipient_id": adept,
                "mentorship_id": m,
                "meeting_id": meeting,
                "kind": kinds[n],
                "state": "pending" if n % 3 else "sent",
            }
            for (m, adept), meeting in zip(booked, meeting_ids, strict=True)
            for n in range(10)
        ],
    )
    async with db.engine.begin() as conn:  # committed: statistics are rolled back too
        await conn.execute(text("ANALYZE outbox, mentorships, meetings, memberships, contracts"))

    with counting(db, keep="FROM outbox") as lookups:
        assert await _run_nudges(db, NOW) == 200
    counts = [seen for seen in lookups.seen if "GROUP BY" in seen[0]]
    assert counts, "the planner counted earlier nudges"
    lookup = counts[0]
    with counting(db, keep="UPDATE outbox") as cancels:
        async with db.session() as session:
            assert await outbox.cancel(session, meeting_id=meeting_ids[7], kinds=PLANNED_KINDS) > 0
    (cancel,) = cancels.seen

    async with db.engine.connect() as conn:
        for statement, parameters in (lookup, cancel):
            plan = _plan_of(
                (await conn.exec_driver_sql(f"EXPLAIN {statement}", tuple(parameters))).all()
            )
            assert "Seq Scan on outbox" not in plan, plan
            assert "ix_outbox_" in plan, plan


# -- the jobs ---------------------------------------------------------------------------------


async def test_the_planners_run_hourly_from_ten_minutes_after_a_start_each_at_its_own_time(
    bot_app: AnyApplication,
) -> None:
    assert bot_app.job_queue is not None
    started = datetime.now(UTC)
    first: dict[str, timedelta] = {}
    for name in (jobs.CHECKINS, jobs.NUDGES, jobs.CLOSING, jobs.RETENTION):
        (job,) = bot_app.job_queue.get_jobs_by_name(name)
        scheduled = job.job
        # Late by anything short of the next run still runs; missed runs coalesce into one.
        assert scheduled.misfire_grace_time == 3600
        assert (scheduled.coalesce, scheduled.max_instances) == (True, 1)
        assert scheduled.trigger.interval == timedelta(hours=1)
        first[name] = scheduled.next_run_time - started
    assert min(first.values()) > timedelta(minutes=9), "a start is no reason to plan"
    moments = sorted(first.values())
    assert all(b - a >= timedelta(minutes=9) for a, b in pairwise(moments))
