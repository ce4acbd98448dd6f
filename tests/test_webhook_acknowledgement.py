"""`mentorbot webhook` answers Telegram only once an update is handled: a worker killed
while an update waits on the database never acknowledged it, so Telegram sends it again
and the restarted worker answers the person. (PTB's own webhook server answered 200
before handling, and such an update was gone.)"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from tests.conftest import TOKEN
from tests.harness import Person
from tests.test_startup_and_webhook import free_port, until

SECRET = "ack-S3cret-after-handling"


@asynccontextmanager
async def worker(
    env: dict[str, str], emulator: BotAPIEmulator, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/{TOKEN.split(':', 1)[0]}"
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "webhook", "--url", url,
            "--listen", "127.0.0.1", "--port", str(port), "--secret-token", SECRET,
            env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        await until(lambda: emulator.webhook_url == url or process.returncode is not None, 60)
        assert process.returncode is None, log.read_text()
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


@asynccontextmanager
async def writes_held(db: Database) -> AsyncIterator[None]:
    """Nobody else can write (PostgreSQL: nor read the people) until the block ends."""
    if db.dialect == "postgresql":
        async with db.engine.connect() as conn:
            transaction = await conn.begin()
            await conn.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await transaction.rollback()
        return
    with _sqlite_write_lock(db.url) as _:
        yield


@contextmanager
def _sqlite_write_lock(url: str) -> Iterator[sqlite3.Connection]:
    path = make_url(url).database
    assert path
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield conn
        conn.execute("ROLLBACK")
    finally:
        conn.close()


async def test_an_update_in_flight_when_the_worker_dies_is_answered_after_the_restart(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    greta = Person(emulator, 9501, "Greta", "sv")
    hanna = Person(emulator, 9502, "Hanna", "sv")
    env = {**env_for_subprocess, "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00"}
    async with worker(env, emulator, tmp_path / "first.log") as first:
        assert "Hej Greta" in (await greta.ask("/start", timeout=20)).text
        async with writes_held(db):
            # Her first message stores her: the worker has the update and waits on the
            # database, and nothing is answered yet.
            await hanna.send("/start")
            await asyncio.sleep(2)
            assert emulator.pending_updates() == 1, "the update is not acknowledged yet"
            assert await hanna.quiet(0) == []
            first.send_signal(signal.SIGKILL)
            await first.wait()
    async with worker(env, emulator, tmp_path / "second.log"):
        await hanna.expect("Hej Hanna", timeout=30)
        await until(lambda: emulator.pending_updates() == 0, 10)
