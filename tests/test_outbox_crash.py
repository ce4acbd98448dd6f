"""kill -9 while 1,000 due notifications are being sent: all arrive, and only what was
in flight at the kill (one send, or several with OUTBOX_CONCURRENCY > 1) comes twice."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sqlmodel import col, func, select

from bot.sandbox.emulator import BotAPIEmulator
from storage import outbox
from storage.db import Database
from storage.models import Notification, User
from storage.types import utcnow

COUNT = 1000
FIRST_ID = 50_000


async def _start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=sink, stderr=sink
        )


def _delivered(emulator: BotAPIEmulator) -> tuple[int, int]:
    """(chats that got at least one message, messages in all)."""
    counts = [len(emulator.chat_messages(FIRST_ID + i)) for i in range(COUNT)]
    return sum(1 for c in counts if c), sum(counts)


async def test_a_killed_dispatcher_loses_nothing_and_repeats_at_most_one(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    now = utcnow()
    async with db.session() as session:
        for i in range(COUNT):
            user = User(telegram_id=FIRST_ID + i, first_name=f"P{i}", language="sv")
            session.add(user)
            await session.flush()
            assert user.id is not None
            await outbox.enqueue(
                session,
                key=f"crash-test:{i}",
                recipient_id=user.id,
                kind="message",
                due_at=now,
                payload={"key": "help.emergency", "values": {}},
            )
    for i in range(COUNT):
        emulator.add_user(FIRST_ID + i, f"P{i}", language_code="sv")

    env = dict(
        env_for_subprocess,
        OUTBOX_RATE="400",
        # One send in flight: the setting under which a crash repeats at most one message.
        OUTBOX_CONCURRENCY="1",
        OUTBOX_STALE_SECONDS="2",
        QUIET_HOURS_START="00:00",
        QUIET_HOURS_END="00:00",
    )
    log = tmp_path / "bot.log"
    first = await _start(env, log)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while _delivered(emulator)[0] < 300:
            assert asyncio.get_running_loop().time() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.01)
    finally:
        # Killed whatever happened: a bot left running would hold the SQLite file's lock.
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
            await first.wait()
    at_kill = _delivered(emulator)[0]
    assert at_kill < COUNT, "the kill must land mid-broadcast"

    second = await _start(env, log)
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while _delivered(emulator)[0] < COUNT:
            assert asyncio.get_running_loop().time() < deadline, _delivered(emulator)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 20)

    chats, messages = _delivered(emulator)
    assert chats == COUNT
    assert messages - COUNT <= 1, f"{messages - COUNT} duplicates"
    async with db.session() as session:
        sent = (
            await session.exec(
                select(func.count()).select_from(Notification).where(Notification.state == "sent")
            )
        ).one()
    assert sent == COUNT


async def test_a_dispatcher_killed_with_eight_sends_in_flight_repeats_only_those(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    concurrency = 8
    now = utcnow()
    async with db.session() as session:
        people = [
            User(telegram_id=FIRST_ID + i, first_name=f"P{i}", language="sv") for i in range(COUNT)
        ]
        session.add_all(people)
        await session.flush()
        for person in people:
            assert person.id is not None
            await outbox.enqueue(
                session,
                key=f"crash-test:{person.telegram_id}",
                recipient_id=person.id,
                kind="message",
                due_at=now,
                payload={"key": "help.emergency", "values": {}},
            )
    for i in range(COUNT):
        emulator.add_user(FIRST_ID + i, f"P{i}", language_code="sv")
    # A round trip per call, so several sends are on their way at any moment.
    emulator.set_delay(0.03, "sendMessage")

    env = dict(
        env_for_subprocess,
        OUTBOX_RATE="300",
        OUTBOX_CONCURRENCY=str(concurrency),
        OUTBOX_STALE_SECONDS="2",
        QUIET_HOURS_START="00:00",
        QUIET_HOURS_END="00:00",
    )
    log = tmp_path / "bot.log"
    first = await _start(env, log)
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while _delivered(emulator)[0] < 300:
            assert asyncio.get_running_loop().time() < deadline, log.read_text()[-2000:]
            await asyncio.sleep(0.01)
    finally:
        # Killed whatever happened: a bot left running would hold the SQLite file's lock.
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
            await first.wait()
    await asyncio.sleep(0.2)  # the emulator finishes answering what reached it
    assert emulator.most_in_flight > 1, "the sends never overlapped"
    at_kill = {FIRST_ID + i for i in range(COUNT) if emulator.chat_messages(FIRST_ID + i)}
    assert len(at_kill) < COUNT, "the kill must land mid-fan-out"
    async with db.session() as session:
        recorded = set(
            (
                await session.exec(
                    select(User.telegram_id)
                    .join(Notification, col(Notification.recipient_id) == col(User.id))
                    .where(Notification.state == "sent")
                )
            ).all()
        )
    # In flight at the kill: delivered, but not yet recorded as sent.
    in_flight = at_kill - recorded
    assert recorded <= at_kill, "a row recorded as sent was never delivered"
    assert len(in_flight) <= concurrency
    print(f"\nkilled with {len(in_flight)} delivered but not recorded")

    second = await _start(env, log)
    try:
        deadline = asyncio.get_running_loop().time() + 90
        while _delivered(emulator)[0] < COUNT:
            assert asyncio.get_running_loop().time() < deadline, _delivered(emulator)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
    finally:
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 20)

    chats, messages = _delivered(emulator)
    assert chats == COUNT
    twice = {FIRST_ID + i for i in range(COUNT) if len(emulator.chat_messages(FIRST_ID + i)) > 1}
    assert twice <= in_flight, "only a message in flight at the kill may come twice"
    assert messages - COUNT == len(twice)
    async with db.session() as session:
        sent = (
            await session.exec(
                select(func.count()).select_from(Notification).where(Notification.state == "sent")
            )
        ).one()
    assert sent == COUNT
