"""The per-person lock and the record of handled updates, on the real database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text
from sqlmodel import select

from bot import scheduler
from bot.app import AnyApplication
from storage import updates
from storage.db import Database
from storage.models import ProcessedUpdate
from storage.types import utcnow
from tests.test_workers_e2e import pytestmark as needs_postgresql


async def test_claims_older_than_a_day_are_forgotten_by_the_hourly_job(db: Database) -> None:
    now = utcnow()
    async with db.session() as session:
        session.add(ProcessedUpdate(update_id=1, seen_at=now - timedelta(days=1, minutes=1)))
        session.add(ProcessedUpdate(update_id=2, seen_at=now - timedelta(hours=23)))
    assert await scheduler.forget_handled_updates(db, now) == 1
    async with db.session() as session:
        left = (await session.exec(select(ProcessedUpdate.update_id))).all()
    assert left == [2]


async def until_waiting(db: Database) -> None:
    """Until some session waits for an advisory lock (PostgreSQL's own view of it)."""
    for _ in range(500):
        async with db.engine.connect() as connection:
            waiting = await connection.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
        if waiting:
            return
        await asyncio.sleep(0.02)
    raise TimeoutError("nobody waits for the lock")


@needs_postgresql
async def test_one_persons_updates_wait_for_each_other_and_an_update_counts_once(
    db: Database,
) -> None:
    now = utcnow()
    first, second, other = db.new_session(), db.new_session(), db.new_session()
    try:
        assert await updates.claim(first, person=77, update_id=501, now=now)
        # Another person is not held up by the first.
        assert await updates.claim(other, person=78, update_id=502, now=now)
        # The same update of the same person, on another worker: it waits...
        again = asyncio.create_task(updates.claim(second, person=77, update_id=501, now=now))
        await until_waiting(db)
        assert not again.done()
        # ...until the first commits, and then finds it handled.
        await first.commit()
        assert await again is False
    finally:
        for session in (first, second, other):
            await session.close()


@needs_postgresql
async def test_an_update_rolled_back_is_not_recorded_and_runs_again(db: Database) -> None:
    session = db.new_session()
    try:
        assert await updates.claim(session, person=79, update_id=601, now=utcnow())
        await session.rollback()
        assert await updates.claim(session, person=79, update_id=601, now=utcnow())
        await session.commit()
    finally:
        await session.close()
    async with db.session() as check:
        assert await updates.seen(check, update_id=601)


async def test_the_forget_job_is_installed_hourly(bot_app: AnyApplication) -> None:
    assert bot_app.job_queue is not None
    [job] = bot_app.job_queue.get_jobs_by_name(scheduler.FORGET_JOB_NAME)
    assert job.job.trigger.interval == timedelta(hours=1)


async def _person_locked(db: Database, person: int) -> bool:
    async with db.engine.connect() as connection:
        held = await connection.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND objsubid = 1 AND classid = 0 AND objid = :person"
            ),
            {"person": person},
        )
    return bool(held)


@needs_postgresql
async def test_every_transaction_of_an_update_holds_the_persons_lock(db: Database) -> None:
    from telegram import Update

    from bot.unit_of_work import Work
    from tests.test_startup_and_webhook import start_update

    update = Update.de_json(start_update(701, 6501, "Greta"), None)
    work = Work(db, update, lambda: None)
    try:
        assert await work.claim()
        assert await _person_locked(db, 6501)
        await work.session.commit()  # the reply's commit releases the lock...
        assert not await _person_locked(db, 6501)
        await work.session.exec(select(ProcessedUpdate))  # ...the next transaction takes it again
        assert await _person_locked(db, 6501)
    finally:
        await work.close()
    assert not await _person_locked(db, 6501)
