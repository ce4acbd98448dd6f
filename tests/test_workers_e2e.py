"""Two `mentorbot webhook` workers on one PostgreSQL behind the emulator's round-robin
delivery: people's flows cross workers and survive a SIGKILL, a redelivered update has
one effect, and the outbox keeps Telegram's limits for both workers together."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.models import (
    DiaryEntry,
    GoalRevision,
    Notification,
    OutboxState,
    ProcessedUpdate,
    User,
)
from storage.types import utcnow
from tests.conftest import TOKEN
from tests.harness import Person
from tests.test_pairing_e2e import pair
from tests.test_startup_and_webhook import free_port, post, start_update, until

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="several workers need PostgreSQL; SQLite is one process",
)

SECRET = "workers-S3cret"
WAIT = 20.0  # seconds for a reply: two bot processes share the machine with the tests


@dataclass
class Worker:
    url: str
    process: asyncio.subprocess.Process
    log: Path

    def leads(self) -> bool:
        return "this worker now sends" in self.log.read_text(errors="replace")


@asynccontextmanager
async def webhook_workers(
    env: dict[str, str], emulator: BotAPIEmulator, tmp_path: Path, count: int = 2
) -> AsyncIterator[list[Worker]]:
    """`count` webhook workers; the emulator delivers to them in turn."""
    emulator.round_robin = True
    env = {
        **env,
        # Partner notices go out whenever the test runs, and a claim left by a killed
        # worker is taken over soon.
        "QUIET_HOURS_START": "00:00",
        "QUIET_HOURS_END": "00:00",
        "OUTBOX_STALE_SECONDS": "4",
    }
    workers: list[Worker] = []
    try:
        for number in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}/{TOKEN.split(':', 1)[0]}"
            log = tmp_path / f"worker{number}.log"
            with log.open("ab") as sink:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "webhook", "--url", url,
                    "--listen", "127.0.0.1", "--port", str(port), "--secret-token", SECRET,
                    env=env, stdout=sink, stderr=sink,
                )  # fmt: skip
            workers.append(Worker(url, process, log))
        await until(
            lambda: (
                len(emulator.webhook_urls) == count
                or any(w.process.returncode is not None for w in workers)
            ),
            timeout=60,
        )
        for worker in workers:
            assert worker.process.returncode is None, worker.log.read_text()
        await until(lambda: any(w.leads() for w in workers), timeout=30)
        yield workers
    finally:
        for worker in workers:
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                await asyncio.wait_for(worker.process.wait(), 20)
            except TimeoutError:
                worker.process.kill()
                await worker.process.wait()


def alternate(deliveries: list[tuple[int, str]]) -> bool:
    """Whether consecutive updates went to different workers."""
    return all(a[1] != b[1] for a, b in itertools.pairwise(deliveries))


async def contract_and_intro(anna: Person, bertil: Person) -> None:
    """From the accepted invitation to an active mentorship, each reply the next step."""
    await bertil.expect("Du tackade ja", timeout=WAIT)
    await anna.expect("Bertil tackade ja", timeout=WAIT)
    guide = await anna.expect("Före mötet", timeout=WAIT)
    await anna.press("✅ Jag fortsätter", message_id=guide.message_id)
    # The decision waits for the intro meeting; they met outside the bot.
    await anna.expect("Först har ni ert introduktionsmöte", timeout=WAIT)
    await anna.press("Vi har setts utanför boten")
    await anna.expect("vill du fortsätta", timeout=WAIT)
    await anna.press("✅ Jag fortsätter")
    await anna.expect("när ni båda har bestämt er", timeout=WAIT)
    nudge = await bertil.expect("Anna har bestämt sig för att fortsätta", timeout=WAIT)
    anna.mark_read()
    await bertil.press("✅ Jag fortsätter", message_id=nudge.message_id)
    await bertil.expect("vill båda fortsätta", timeout=WAIT)
    await anna.expect("vill båda fortsätta", timeout=WAIT)
    await anna.press("🔒 Jag lovar att det stannar mellan oss")
    await anna.expect("ditt löfte är sparat", timeout=WAIT)
    await bertil.expect("Anna har lovat", timeout=WAIT)
    anna.mark_read()
    await bertil.press("🔒 Jag lovar att det stannar mellan oss")
    await bertil.expect("Nu skriver Anna", timeout=WAIT)
    draft_prompt = await anna.expect("Dags för ert samarbetskontrakt", timeout=WAIT)
    await anna.press("✍️ Skriv kontraktet", message_id=draft_prompt.message_id)
    await anna.expect("Vad vill du uppnå", timeout=WAIT)
    await anna.send("Jag vill bli trygg i att leda mitt första team och förhandla bättre.")
    for button in (
        "Målstyrt",
        "6 månader",
        "Var tredje vecka",
        "60 minuter",
        "Cirka 3 timmar i månaden",
        "Minst 24 timmar innan",
        "En gång i månaden",
    ):
        await anna.expect("/8", timeout=WAIT)
        await anna.press(button)
    await anna.expect("Samarbetskontrakt · version 1", timeout=WAIT)
    bertil.mark_read()
    await anna.press("📨 Skicka för godkännande")
    await anna.expect("Skickat till Bertil", timeout=WAIT)
    to_mentor = await bertil.expect("har skickat samarbetskontraktet", timeout=WAIT)
    anna.mark_read()
    await bertil.press("Godkänn ✅", message_id=to_mentor.message_id)
    await bertil.expect("är nu igång", timeout=WAIT)
    await anna.expect("är nu igång", timeout=WAIT)


async def test_two_workers_carry_two_people_from_pairing_to_diary_and_survive_a_sigkill(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    anna, bertil = Person(emulator, 6101, "Anna", "sv"), Person(emulator, 6102, "Bertil", "sv")
    async with webhook_workers(env_for_subprocess, emulator, tmp_path) as workers:
        await pair(anna, bertil, "Jag är adept – bjud in min mentor", "Tacka ja ✅")
        await contract_and_intro(anna, bertil)
        both = emulator.deliveries[:]
        assert {url for _, url in both} == {w.url for w in workers}
        assert alternate(both), both

        # Mid goal wizard, the worker that sends the outbox dies without a word.
        await anna.send("/goal")
        await anna.expect("1/4 · S – Specifikt", timeout=WAIT)
        await anna.send("Leda teamets veckoplanering själv")
        await anna.expect("2/4 · M – Mätbart", timeout=WAIT)
        [leader] = [w for w in workers if w.leads()]
        leader.process.send_signal(signal.SIGKILL)
        await leader.process.wait()
        [survivor] = [w for w in workers if w is not leader]

        await anna.send("Teamet frågar mig först om planeringen.")
        await anna.expect("3/4 · R – Realistiskt", timeout=WAIT)
        await anna.send("Min chef stöttar det och jag har en timme i veckan.")
        await anna.expect("4/4 · T – Tidsatt", timeout=WAIT)
        await anna.send((date.today() + timedelta(days=60)).isoformat())
        review = await anna.expect("Mål · Anna · version 1", timeout=WAIT)
        bertil.mark_read()
        await anna.press("📨 Skicka till min mentor", message_id=review.message_id)
        await anna.expect("Skickat till Bertil", timeout=WAIT)
        # The partner's notice needs the survivor to take the lead over.
        await bertil.expect("Anna har skrivit ett mål", timeout=WAIT)
        assert survivor.leads()

        await bertil.send("/diary")
        await bertil.expect("📓", timeout=WAIT)
        await bertil.press("✍️ Skriv en anteckning")
        await bertil.expect("Ny anteckning", timeout=WAIT)
        await bertil.send("Jag lärde mig att fråga först.")
        await bertil.expect("Sparat 🔒", timeout=WAIT)
        after = emulator.deliveries[len(both) :]
        assert after and {url for _, url in after[2:]} == {survivor.url}
        # A notice the dead leader had claimed is sent again once its claim is stale
        # (OUTBOX_STALE_SECONDS); reminders planned for later wait as pending.
        deadline = asyncio.get_running_loop().time() + 30
        while unsent := await due_and_unsent(db):
            assert asyncio.get_running_loop().time() < deadline, unsent
            await asyncio.sleep(0.5)

    async with db.session() as session:
        goals = (await session.exec(select(GoalRevision))).all()
        entries = (await session.exec(select(DiaryEntry))).all()
    assert len(goals) == 1 and "veckoplanering" in (goals[0].specific or "")
    assert [entry.text for entry in entries] == ["Jag lärde mig att fråga först."]


async def due_and_unsent(db: Database) -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = await session.exec(
            select(Notification.kind, Notification.state, Notification.idempotency_key).where(
                col(Notification.state) != OutboxState.SENT,
                col(Notification.due_at) <= utcnow(),
            )
        )
        return [(str(kind), str(state), str(key)) for kind, state, key in rows.all()]


async def test_the_same_update_sent_to_both_workers_has_one_effect(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    greta = Person(emulator, 6201, "Greta", "sv")
    body = json.dumps(start_update(950_001, greta.user_id, "Greta"))
    async with (
        webhook_workers(env_for_subprocess, emulator, tmp_path) as workers,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
    ):
        answers = await asyncio.gather(*(post(http, w.url, body, SECRET) for w in workers))
        assert answers == [200, 200]
        await greta.expect("Hej Greta", timeout=WAIT)
        # Telegram retries a little later, again to both.
        answers = await asyncio.gather(*(post(http, w.url, body, SECRET) for w in workers))
        assert answers == [200, 200]
        await greta.quiet(1.5)
    assert len(greta.messages) == 1, [m.text for m in greta.messages]
    async with db.session() as session:
        people = (await session.exec(select(User).where(User.telegram_id == 6201))).all()
        claims = (await session.exec(select(ProcessedUpdate.update_id))).all()
    assert len(people) == 1
    assert claims == [950_001]


FANOUT_FIRST_CHAT = 6_300_000
FANOUT_CHATS = 60
BUSY_CHAT_ROWS = 3  # one chat gets several: 1 per second for it


async def test_two_workers_send_a_fan_out_within_telegrams_limits_losing_nothing(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    chats = range(FANOUT_FIRST_CHAT, FANOUT_FIRST_CHAT + FANOUT_CHATS)
    later = utcnow() + timedelta(days=1)
    async with db.session() as session:
        people = [User(telegram_id=chat, first_name=f"P{chat}", language="sv") for chat in chats]
        session.add_all(people)
        await session.flush()
        rows = [(person, 0) for person in people]
        rows += [(people[0], n) for n in range(1, BUSY_CHAT_ROWS)]
        session.add_all(
            Notification(
                idempotency_key=f"workers:{person.telegram_id}:{n}",
                recipient_id=person.id or 0,
                kind="message",
                payload={
                    "key": "common.partner_unreachable",
                    "values": {"name": {"user": person.id}},
                },
                state=OutboxState.PENDING,
                due_at=later,
                attempts=0,
                created_at=utcnow(),
            )
            for person, n in rows
        )
    for chat in chats:
        emulator.add_user(chat, f"P{chat}", language_code="sv")
    # Strict mode: a send past 30 per second overall or 1 per second per chat is a 429.
    emulator.set_rate_limit(30, 1)
    async with webhook_workers(env_for_subprocess, emulator, tmp_path):
        async with db.session() as session:
            await session.exec(update(Notification).values(due_at=utcnow()))
        for chat in chats:
            expected = BUSY_CHAT_ROWS if chat == FANOUT_FIRST_CHAT else 1
            await emulator.wait_for_messages(chat, expected, timeout=60)
        await asyncio.sleep(1.0)  # a duplicate would arrive by now
    received = Counter({chat: len(emulator.chat_messages(chat)) for chat in chats})
    duplicated = sum(received.values()) - len(rows)
    assert emulator.rejected_429 == 0, "both workers together kept 30/s and 1/s per chat"
    assert all(received[chat] >= 1 for chat in chats) and received[FANOUT_FIRST_CHAT] >= 3
    assert 0 <= duplicated <= 8  # at most the in-flight count (OUTBOX_CONCURRENCY)
    async with db.session() as session:
        states = (await session.exec(select(Notification.state))).all()
    assert set(states) == {OutboxState.SENT}
