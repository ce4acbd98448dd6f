"""Fixtures: a real database (SQLite file or PostgreSQL), the emulator and the real bot.

`DATABASE_URL` selects the database: unset means a fresh SQLite file for the
run; a postgresql:// URL means that server, and an unreachable server fails
the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot import scheduler
from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Settings
from storage import crypto
from storage.db import Database, upgrade
from storage.models import ALL_TABLES
from tests.harness import Person

TOKEN = "123456:TEST-token_for-emulator"
COORDINATOR = "mentorprogram@example.org, 08-123 45 67"
# A fixed key, so every test (and every bot process a test starts) reads what the others wrote.
ENCRYPTION_KEY = "bWVudG9yYm90LXRlc3RzLW5vdC1hLXJlYWwta2V5ISE"
TEST_KEYRING = crypto.KeyRing.from_strings(ENCRYPTION_KEY)


@pytest.fixture(autouse=True)
def encryption_keys() -> crypto.KeyRing:
    """The test key ring, configured again before each test: a test that starts the
    sandbox or rotates keys configures another ring, and that must not leak on."""
    crypto.configure(TEST_KEYRING)
    return TEST_KEYRING


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The run's database, migrated to head: a fresh SQLite file, or `DATABASE_URL`.

    Under pytest-xdist every worker gets a database of its own on that server
    (named after the worker), since each test empties the tables it starts with.
    """
    shared = os.environ.get("DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not shared:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade(url, keyring=TEST_KEYRING)
        yield url
        return
    if not worker:
        upgrade(shared, keyring=TEST_KEYRING)
        yield shared
        return
    from sqlalchemy.engine import make_url

    name = f"{make_url(shared).database}_{worker}"
    _on_own_loop(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', shared)
    _on_own_loop(f'CREATE DATABASE "{name}"', shared)
    url = make_url(shared).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url, keyring=TEST_KEYRING)
        yield url
    finally:
        _on_own_loop(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', shared)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    async with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(ALL_TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(ALL_TABLES):
                await conn.execute(text(f"DELETE FROM {table}"))
    yield database
    await database.dispose()


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    emu = BotAPIEmulator(host="127.0.0.1", port=0)
    await emu.start()
    yield emu
    await emu.stop()


@pytest.fixture
def clock() -> TravellingClock:
    """Tomorrow 10:00 in Stockholm, then flowing: days start outside quiet hours,
    so what a test schedules does not depend on when the suite runs."""
    stockholm = ZoneInfo("Europe/Stockholm")
    tomorrow = datetime.now(stockholm).date() + timedelta(days=1)
    return TravellingClock(datetime.combine(tomorrow, time(10, 0), tzinfo=stockholm))


@pytest.fixture
def make_settings(
    database_url: str, emulator: BotAPIEmulator, tmp_path: Path
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "TELEGRAM_API_URL": emulator.base_url,
            "DATABASE_URL": database_url,
            "MENTORBOT_DATA_DIR": str(tmp_path),
            "COORDINATOR_CONTACT": COORDINATOR,
            "DEFAULT_LANGUAGE": "sv",
            "ENCRYPTION_KEY": ENCRYPTION_KEY,
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Settings a test module needs for its bot (override this fixture in the module)."""
    return {}


@pytest.fixture
async def bot_app(
    make_settings: Callable[..., Settings],
    db: Database,
    clock: TravellingClock,
    settings_overrides: dict[str, Any],
) -> AsyncIterator[AnyApplication]:
    application = build_application(
        make_settings(**settings_overrides), token=TOKEN, database=db, clock=clock
    )
    await application.initialize()
    if application.post_init:  # run_polling would call it; tests start the pieces themselves
        await application.post_init(application)
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=10)
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()


@pytest.fixture
def people(emulator: BotAPIEmulator, bot_app: AnyApplication) -> Callable[..., Person]:
    """Make people who talk to the running bot: people("Anna", "sv")."""
    counter = iter(range(1001, 10_000))

    def make(first_name: str, language_code: str | None = "sv") -> Person:
        return Person(emulator, next(counter), first_name, language_code)

    return make


@pytest.fixture
def env_for_subprocess(
    database_url: str, emulator: BotAPIEmulator, tmp_path: Path
) -> Iterator[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DATABASE_URL"))}
    env.update(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=database_url,
        MENTORBOT_DATA_DIR=str(tmp_path),
        COORDINATOR_CONTACT=COORDINATOR,
        LOG_LEVEL="INFO",
        ENCRYPTION_KEY=ENCRYPTION_KEY,
    )
    yield env


@pytest.fixture
async def dispatcher(bot_app: AnyApplication) -> scheduler.Dispatcher:
    """The running bot's outbox dispatcher with its periodic job paused: tests call run_once."""
    installed = scheduler.installed(bot_app)
    await installed.pause()
    return installed


def _on_own_loop(statement: str, url: str) -> None:
    """Run one statement outside any transaction (CREATE/DROP DATABASE), off the test's loop."""
    from concurrent.futures import ThreadPoolExecutor

    from storage.db import create_engine

    async def execute() -> None:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, execute()).result()


@pytest.fixture
def scratch_database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the run's kind (no schema), for tests that need their own
    revision or their own keys without disturbing the shared test database."""
    from sqlalchemy.engine import make_url

    shared = os.environ.get("DATABASE_URL")
    if not shared or not shared.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
        return
    name = f"scratch_{secrets.token_hex(6)}"
    _on_own_loop(f'CREATE DATABASE "{name}"', shared)
    try:
        yield make_url(shared).set(database=name).render_as_string(hide_password=False)
    finally:
        _on_own_loop(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', shared)


@pytest.fixture
def logger_levels() -> Iterator[None]:
    """configure_logging changes process-wide levels: put them back afterwards."""
    root = logging.getLogger()
    names = ["mentorbot", "telegram", "httpx", "httpcore", "apscheduler", "alembic"]
    names += ["asyncpg", "sqlalchemy"]
    saved = {name: logging.getLogger(name).level for name in names}
    saved_root = root.level
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)
    root.setLevel(saved_root)
