"""One update, one unit of work: counted statements, one commit before the reply, steps
read from the database on every update (no per-process copy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bot import scheduler
from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Settings
from storage import steps
from storage.db import Database
from tests.conftest import TOKEN
from tests.factories import active_pair
from tests.harness import Person

People = Callable[..., Person]
# The budget of one wizard answer (issue "One unit of work per update").
MAX_STATEMENTS = 6
MAX_COMMITS = 2


@dataclass
class Counted:
    statements: list[str]
    sql: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def counting(db: Database) -> Iterator[Counted]:
    counted = Counted([])

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counted.statements.append(statement.split()[0].upper())
        counted.sql.append(statement[:300])

    def on_commit(_conn: Any) -> None:
        counted.commits += 1

    engine = db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)


async def settled(application: AnyApplication) -> None:
    """Every update handed to the bot is processed and its unit of work closed."""
    await asyncio.wait_for(application.update_queue.join(), timeout=5)


async def answer_counted(
    person: Person, text: str, expected: str, application: AnyApplication, db: Database
) -> Counted:
    await settled(application)
    with counting(db) as counted:
        await person.send(text)
        await person.expect(expected)
        await settled(application)
    return counted


async def test_a_goal_wizard_answer_stays_within_the_statement_and_commit_budget(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    dispatcher: scheduler.Dispatcher,  # paused: its ticks are not this update's statements
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.send("/goal")
    await anna.expect("1/4 · S – Specifikt")
    counted = await answer_counted(
        anna, "Leda teamets veckoplanering själv", "2/4 · M – Mätbart", bot_app, db
    )
    assert len(counted.statements) <= MAX_STATEMENTS, counted.sql
    assert 1 <= counted.commits <= MAX_COMMITS, counted
    counted = await answer_counted(
        anna, "Teamet frågar mig först om planeringen.", "3/4 · R – Realistiskt", bot_app, db
    )
    assert len(counted.statements) <= MAX_STATEMENTS, counted.sql
    assert 1 <= counted.commits <= MAX_COMMITS, counted


async def test_a_diary_entry_stays_within_the_statement_and_commit_budget(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    dispatcher: scheduler.Dispatcher,  # paused: its ticks are not this update's statements
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.send("/diary")
    await anna.expect("📓")
    await anna.press("✍️ Skriv en anteckning")
    await anna.expect("Ny anteckning")
    counted = await answer_counted(anna, "Jag lärde mig att fråga först.", "Sparat", bot_app, db)
    assert len(counted.statements) <= MAX_STATEMENTS, counted.sql
    assert 1 <= counted.commits <= MAX_COMMITS, counted


async def test_a_command_that_writes_nothing_commits_nothing_and_does_not_kick_the_outbox(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.ask("/help")
    await settled(bot_app)
    kicks: list[None] = []
    dispatcher = scheduler.installed(bot_app)
    original = dispatcher.kick

    def counting_kick() -> None:
        kicks.append(None)
        original()

    dispatcher.kick = counting_kick  # type: ignore[method-assign]
    try:
        counted = await answer_counted(anna, "/help", "/goal", bot_app, db)
    finally:
        dispatcher.kick = original  # type: ignore[method-assign]
    assert counted.commits == 0
    assert not [s for s in counted.statements if s in {"INSERT", "UPDATE", "DELETE"}]
    assert kicks == []


async def test_the_step_is_stored_before_the_bot_asks_the_next_question(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.send("/goal")
    await anna.expect("1/4 · S – Specifikt")
    # The question is visible to Anna, so her step must already be committed.
    async with db.session() as session:
        stored = await steps.all_of_flow(session, name="goals")
    assert stored == {(anna.user_id, anna.user_id): "specific"}


async def _second_bot(
    settings: Settings, db: Database, clock: TravellingClock
) -> AsyncIterator[AnyApplication]:
    application = build_application(settings, token=TOKEN, database=db, clock=clock)
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=10)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


async def test_another_process_continues_a_flow_where_the_first_left_it(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    make_settings: Callable[..., Settings],
    database_url: str,
    emulator: BotAPIEmulator,
) -> None:
    """No per-process copy of the steps: a fresh application sees the step at once."""
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.send("/goal")
    await anna.expect("1/4 · S – Specifikt")
    await settled(bot_app)
    # The first bot stops polling; a second one, started afterwards, takes over.
    assert bot_app.updater is not None
    await bot_app.updater.stop()
    other_db = Database(database_url)
    second = _second_bot(make_settings(), other_db, clock)
    await second.__anext__()
    try:
        await anna.send("Leda teamets veckoplanering själv")
        await anna.expect("2/4 · M – Mätbart")
    finally:
        await second.aclose()
        await other_db.dispose()
        await bot_app.updater.start_polling(poll_interval=0, timeout=10)
