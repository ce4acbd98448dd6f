"""SQLite statements reach aiosqlite's thread once (twice with rows), and still behave
as SQLAlchemy expects: rows, row counts, RETURNING, executemany, streaming, errors,
and the statement events the unit-of-work budget counts.

The hand-overs are counted on aiosqlite's own `Connection._execute`, the one door to
its thread; the engine, the file and the statements are all real.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import steps
from storage.db import Database, create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'hops.sqlite3'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
        await connection.execute(text("INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"))
    yield engine
    await engine.dispose()


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions handed to aiosqlite's thread, in order."""
    seen: list[str] = []
    original: Callable[..., Awaitable[Any]] = aiosqlite.core.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Callable[..., Any], *a: Any, **k: Any) -> Any:
        seen.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *a, **k)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    return seen


async def test_a_select_is_two_hand_overs_and_a_write_one(
    engine: AsyncEngine, hops: list[str]
) -> None:
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    async with engine.connect() as connection:
        hops.clear()
        rows = (await connection.execute(text("SELECT v FROM t ORDER BY id"))).all()
        assert [row.v for row in rows] == ["a", "b", "c"]
        assert hops == ["execute", "fetchall"]

        hops.clear()
        updated = await connection.execute(text("UPDATE t SET v = v || '!' WHERE id < 3"))
        assert updated.rowcount == 2
        assert hops == ["execute"]

        hops.clear()
        returned = await connection.execute(text("INSERT INTO t (v) VALUES ('d') RETURNING id"))
        assert returned.scalar_one() == 4
        assert hops == ["execute", "fetchall"]
        await connection.commit()
    # SQLAlchemy's statement events still see every statement (the budget tests count them).
    assert len(statements) == 3


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
