"""SQLite statements run on the event loop's thread (only a commit goes to a worker,
for the disk), transactions of one file take turns instead of waiting in SQLite's busy
handler, and everything still behaves as SQLAlchemy expects: rows, row counts,
RETURNING, executemany, streaming, errors, and the statement events the unit-of-work
budget counts. The engine, the file and the statements are all real.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import sqlite_inline, steps
from storage.db import Database, create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'inline.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        await connection.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
    yield engine
    await engine.dispose()


@pytest.fixture
def handed_over(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the driver hands to a worker thread, in order."""
    seen: list[str] = []
    original = asyncio.to_thread

    async def counted(fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_inline.asyncio, "to_thread", counted)
    return seen


async def test_statements_run_on_the_loops_thread_and_only_a_commit_is_handed_over(
    engine: AsyncEngine, handed_over: list[str]
) -> None:
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    threads: list[int] = []
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        raw.driver_connection.create_function(  # type: ignore[union-attr]
            "thread_of", 0, lambda: threads.append(threading.get_ident()) or 1
        )
        rows = (await connection.execute(text("SELECT v, thread_of() FROM t ORDER BY id"))).all()
        assert [row.v for row in rows] == ["a", "b", "c"]

        updated = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id < 3"))
        assert updated.rowcount == 2
        returned = await connection.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id"))
        assert returned.scalar_one() == 4
        assert handed_over == []
        await connection.commit()
        assert handed_over == ["commit"]
        # A rollback or commit with no transaction open does nothing at all.
        await connection.rollback()
        await connection.commit()
        assert handed_over == ["commit"]
    assert set(threads) == {threading.get_ident()}
    # SQLAlchemy's statement events still see every statement (the budget tests count them).
    assert len(statements) == 3


async def test_write_transactions_take_turns_and_reads_do_not_wait(engine: AsyncEngine) -> None:
    first = await engine.connect()
    second = await engine.connect()
    reader = await engine.connect()
    try:
        await first.execute(text("UPDATE t SET v = 'first' WHERE id = 1"))
        # A second writer waits for its turn on the loop instead of spinning in
        # SQLite's busy handler, which would hold up the loop and the first writer.
        second_write = text("UPDATE t SET v = 'second' WHERE id = 2")
        waiting = asyncio.create_task(second.execute(second_write))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        # A read outside a transaction does not queue, and sees what is committed.
        assert await reader.scalar(text("SELECT v FROM t WHERE id = 1")) == "a"
        await first.commit()
        await asyncio.wait_for(waiting, 5)
        await second.commit()
        values = (await reader.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
        assert values == ["first", "second", "c"]
    finally:
        for connection in (first, second, reader):
            await connection.close()


async def test_a_failed_or_abandoned_transaction_gives_its_turn_back(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("UPDATE t SET v = 'x' WHERE id = 3"))
        with pytest.raises(exc.IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        await connection.rollback()
    # The pool got back a connection in the middle of a transaction: it is rolled back
    # and the next writer is not kept waiting.
    left_open = await engine.connect()
    await left_open.execute(text("UPDATE t SET v = 'y' WHERE id = 3"))
    await left_open.close()
    async with engine.begin() as connection:
        await asyncio.wait_for(connection.execute(text("UPDATE t SET v = 'z' WHERE id = 3")), 5)
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT v FROM t WHERE id = 3")) == "z"


async def test_executemany_streaming_and_errors_behave_as_before(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        many = await connection.execute(
            text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x"}, {"v": "y"}]
        )
        assert many.rowcount == 2
        streamed = await connection.stream(text("SELECT v FROM t ORDER BY id"))
        assert [row.v async for row in streamed] == ["a", "b", "c", "x", "y"]
        with pytest.raises(exc.IntegrityError):
            await connection.execute(text("INSERT INTO t (v) VALUES ('a')"))
        await connection.rollback()
        # The connection is still good after the error.
        assert await connection.scalar(text("SELECT count(*) FROM t")) == 3


async def test_several_steps_saved_at_once_are_all_stored(db: Database) -> None:
    """Two flows changing in one update go out as one executemany of the built statement."""
    key = (7001, 7001)
    async with db.session() as session:
        await steps.save(session, key=key, changes={"goals": 1, "diary": 2})
    async with db.session() as session:
        await steps.save(session, key=key, changes={"goals": 3, "checkins": 4})
    async with db.session() as session:
        assert await steps.of(session, key=key) == {"goals": 3, "diary": 2, "checkins": 4}
        await steps.save(session, key=key, changes={"goals": None, "diary": None})
    async with db.session() as session:
        assert await steps.of(session, key=key) == {"checkins": 4}


async def test_a_writer_cancelled_while_its_turn_was_handed_over_passes_it_on(
    engine: AsyncEngine,
) -> None:
    """A task cancelled (an update timed out, the bot stopping) just as its turn came
    must not keep the turn: the next writer gets it."""
    first, second, third = [await engine.connect() for _ in range(3)]
    try:
        await first.execute(text("UPDATE t SET v = 'first' WHERE id = 1"))
        cancelled = asyncio.create_task(second.execute(text("UPDATE t SET v = 'x' WHERE id = 2")))
        later = asyncio.create_task(third.execute(text("UPDATE t SET v = 'third' WHERE id = 3")))
        await asyncio.sleep(0.05)
        assert not cancelled.done() and not later.done()
        await first.commit()  # hands the turn to `second`, which has not run yet
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
        await asyncio.wait_for(later, 5)
        await third.commit()
    finally:
        for connection in (first, second, third):
            await connection.close()
    async with engine.connect() as connection:
        values = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).scalars().all()
    assert values == ["first", "b", "third"]
