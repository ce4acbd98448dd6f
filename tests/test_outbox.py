"""The outbox queries against the database selected for the run (SQLite file or PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from storage import outbox
from storage.db import Database
from storage.models import Notification, OutboxState, User

NOW = datetime(2030, 1, 7, 12, 0, tzinfo=UTC)
STALE = timedelta(minutes=5)


async def make_user(db: Database, telegram_id: int = 5_000_001) -> int:
    async with db.session() as session:
        user = User(telegram_id=telegram_id, first_name="Ada")
        session.add(user)
        await session.flush()
        assert user.id is not None
        return user.id


async def enqueue(db: Database, key: str, user_id: int, due_at: datetime = NOW) -> bool:
    async with db.session() as session:
        return await outbox.enqueue(
            session,
            key=key,
            recipient_id=user_id,
            kind="message",
            due_at=due_at,
            payload={"key": "help.emergency", "values": {"name": "Åsa 🌱"}},
        )


async def row(db: Database, key: str) -> Notification:
    async with db.session() as session:
        found = await outbox.get_by_key(session, key=key)
    assert found is not None
    return found


async def count_rows(db: Database) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Notification))).one()


async def claim(db: Database, now: datetime = NOW, limit: int = 100) -> list[Notification]:
    async with db.session() as session:
        return await outbox.claim_due(session, now=now, limit=limit, stale_after=STALE)


async def test_a_key_is_queued_once_and_a_repeat_is_ignored(db: Database) -> None:
    user_id = await make_user(db)
    assert await enqueue(db, "checkin:1:3", user_id) is True
    assert await enqueue(db, "checkin:1:3", user_id, due_at=NOW + timedelta(days=1)) is False
    assert await count_rows(db) == 1
    stored = await row(db, "checkin:1:3")
    assert stored.due_at == NOW, "the repeat changed nothing"
    assert stored.payload == {"key": "help.emergency", "values": {"name": "Åsa 🌱"}}
    assert (stored.state, stored.attempts) == (OutboxState.PENDING, 0)


async def test_a_repeated_key_does_not_spoil_the_surrounding_transaction(db: Database) -> None:
    user_id = await make_user(db)
    await enqueue(db, "intro:reminder", user_id)
    async with db.session() as session:
        newcomer = User(telegram_id=5_000_777, first_name="Bo")
        session.add(newcomer)
        await session.flush()
        assert newcomer.id is not None
        repeat = await outbox.enqueue(
            session,
            key="intro:reminder",
            recipient_id=user_id,
            kind="message",
            due_at=NOW,
            payload={},
        )
        fresh = await outbox.enqueue(
            session,
            key="intro:welcome",
            recipient_id=newcomer.id,
            kind="message",
            due_at=NOW,
            payload={},
        )
    assert (repeat, fresh) == (False, True)
    async with db.session() as session:
        assert (await session.exec(select(User).where(User.telegram_id == 5_000_777))).first()
    assert await count_rows(db) == 2


async def test_only_due_pending_rows_are_claimed_earliest_first(db: Database) -> None:
    user_id = await make_user(db)
    await enqueue(db, "later", user_id, due_at=NOW + timedelta(minutes=1))
    await enqueue(db, "second", user_id, due_at=NOW - timedelta(minutes=1))
    await enqueue(db, "first", user_id, due_at=NOW - timedelta(hours=1))
    await enqueue(db, "exactly-now", user_id, due_at=NOW)
    claimed = await claim(db, limit=2)
    assert [n.idempotency_key for n in claimed] == ["first", "second"]
    assert all(n.state == OutboxState.SENDING for n in claimed)
    assert all(n.attempts == 1 and n.claimed_at == NOW for n in claimed)
    assert [n.idempotency_key for n in await claim(db)] == ["exactly-now"]
    assert await claim(db) == [], "claimed rows are not claimed twice"
    assert (await row(db, "later")).state == OutboxState.PENDING


async def test_a_row_stuck_in_sending_is_claimed_again_only_after_stale_after(
    db: Database,
) -> None:
    user_id = await make_user(db)
    await enqueue(db, "k", user_id)
    assert len(await claim(db)) == 1  # ...and the process dies before recording anything
    assert await claim(db, now=NOW + STALE - timedelta(seconds=1)) == []
    again = await claim(db, now=NOW + STALE + timedelta(seconds=1))
    assert [n.idempotency_key for n in again] == ["k"]
    assert again[0].attempts == 2


async def test_rescheduling_can_give_the_attempt_back(db: Database) -> None:
    user_id = await make_user(db)
    await enqueue(db, "k", user_id)
    (claimed,) = await claim(db)
    assert claimed.id is not None
    async with db.session() as session:
        await outbox.reschedule(
            session,
            notification_id=claimed.id,
            due_at=NOW + timedelta(seconds=30),
            count_attempt=False,
            error="RetryAfter",
        )
    stored = await row(db, "k")
    assert (stored.state, stored.attempts, stored.last_error) == ("pending", 0, "RetryAfter")
    assert stored.due_at == NOW + timedelta(seconds=30) and stored.claimed_at is None
    (claimed,) = await claim(db, now=NOW + timedelta(seconds=30))
    assert claimed.id is not None
    async with db.session() as session:
        await outbox.reschedule(
            session,
            notification_id=claimed.id,
            due_at=NOW + timedelta(minutes=5),
            count_attempt=True,
            error="TimedOut" * 100,
        )
    stored = await row(db, "k")
    assert stored.attempts == 1
    assert stored.last_error is not None and len(stored.last_error) == 200


async def test_final_states_are_recorded(db: Database) -> None:
    user_id = await make_user(db)
    for key in ("sent", "failed", "expired", "cancelled"):
        await enqueue(db, key, user_id)
    ids = {n.idempotency_key: n.id for n in await claim(db) if n.id is not None}
    async with db.session() as session:
        await outbox.mark_sent(session, notification_id=ids["sent"], now=NOW)
        await outbox.mark_failed(session, notification_id=ids["failed"], error="BadRequest")
        await outbox.mark_expired(session, notification_id=ids["expired"])
        await outbox.mark_cancelled(session, notification_id=ids["cancelled"])
    sent = await row(db, "sent")
    assert (sent.state, sent.sent_at) == (OutboxState.SENT, NOW)
    assert (await row(db, "failed")).last_error == "BadRequest"
    assert (await row(db, "expired")).state == OutboxState.EXPIRED
    assert (await row(db, "cancelled")).state == OutboxState.CANCELLED
    assert await claim(db, now=NOW + timedelta(days=1)) == []


async def test_cancel_takes_pending_rows_by_key_or_prefix_and_nothing_else(db: Database) -> None:
    user_id = await make_user(db)
    for key in (
        "meeting:1:reminder",
        "meeting:1:agenda",
        "meeting:10:reminder",
        "meeting_1:x",
        "meetingX1:x",
        "meeting:2:reminder",
    ):
        await enqueue(db, key, user_id, due_at=NOW + timedelta(days=1))
    await enqueue(db, "meeting:1:sent", user_id)
    (sent,) = await claim(db)
    assert sent.id is not None
    async with db.session() as session:
        await outbox.mark_sent(session, notification_id=sent.id, now=NOW)
        assert await outbox.cancel(session, key_prefix="meeting:1:") == 2
        assert await outbox.cancel(session, key_prefix="meeting_1:") == 1
        assert await outbox.cancel(session, keys=["meeting:2:reminder", "unknown"]) == 1
        assert await outbox.cancel(session, keys=[]) == 0
        assert await outbox.cancel(session, keys=["meeting:2:reminder"]) == 0
        with pytest.raises(ValueError):
            await outbox.cancel(session)
    states = {
        key: (await row(db, key)).state
        for key in ("meeting:10:reminder", "meetingX1:x", "meeting:1:sent", "meeting:1:agenda")
    }
    assert states == {
        "meeting:10:reminder": OutboxState.PENDING,
        "meetingX1:x": OutboxState.PENDING,
        "meeting:1:sent": OutboxState.SENT,
        "meeting:1:agenda": OutboxState.CANCELLED,
    }


async def test_next_due_is_the_earliest_pending_row(db: Database) -> None:
    user_id = await make_user(db)
    async with db.session() as session:
        assert await outbox.next_due(session) is None
    await enqueue(db, "claimed", user_id, due_at=NOW - timedelta(hours=2))
    await claim(db)
    await enqueue(db, "tomorrow", user_id, due_at=NOW + timedelta(days=1))
    await enqueue(db, "in-an-hour", user_id, due_at=NOW + timedelta(hours=1))
    async with db.session() as session:
        assert await outbox.next_due(session) == NOW + timedelta(hours=1)
        pending = await outbox.pending_for(session, recipient_id=user_id)
    assert [n.idempotency_key for n in pending] == ["in-an-hour", "tomorrow"]


async def test_two_engines_claiming_at_once_never_claim_a_row_twice(
    db: Database, database_url: str
) -> None:
    user_id = await make_user(db)
    async with db.session() as session:
        for number in range(60):
            await outbox.enqueue(
                session,
                key=f"race:{number}",
                recipient_id=user_id,
                kind="message",
                due_at=NOW,
                payload={},
            )
    engines = [Database(database_url), Database(database_url)]

    async def drain(engine: Database) -> list[int]:
        taken: list[int] = []
        while True:
            async with engine.session() as session:
                rows = await outbox.claim_due(session, now=NOW, limit=7, stale_after=STALE)
            if not rows:
                # The other engine may hold rows this one skipped; stop only when none are left.
                async with engine.session() as session:
                    if await outbox.next_due(session) is None:
                        return taken
                await asyncio.sleep(0)
                continue
            taken.extend(n.id for n in rows if n.id is not None)

    try:
        first, second = await asyncio.gather(*(drain(engine) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert len(first) + len(second) == 60
    assert len(set(first) | set(second)) == 60, "a row was claimed by both engines"


async def test_a_late_outcome_of_an_older_claim_never_unsends_a_row(db: Database) -> None:
    user_id = await make_user(db, 5_000_090)
    await enqueue(db, "late", user_id)
    async with db.session() as session:
        (claimed,) = await outbox.claim_due(session, now=NOW, limit=1, stale_after=STALE)
        assert claimed.id is not None
        await outbox.mark_sent_many(session, notification_ids=[claimed.id], now=NOW)
    async with db.session() as session:  # written after the delivery was recorded
        await outbox.reschedule(
            session, notification_id=claimed.id, due_at=NOW, count_attempt=False, error=None
        )
        await outbox.mark_failed(session, notification_id=claimed.id, error="late")
    assert (await row(db, "late")).state == OutboxState.SENT
