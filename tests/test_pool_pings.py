"""A PostgreSQL connection is pinged before use only after sitting idle in the pool:
not before every update's first statement, yet a connection dropped while idle is
still replaced before anything uses it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlmodel import select

from storage import db as storage_db
from storage.db import Database


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[Database]:
    if not database_url.startswith("postgres"):
        pytest.skip("a SQLite file has no connection to drop")
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> Any:
        seen.append(1)
        return original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return seen


async def _backend(database: Database) -> int:
    async with database.session() as session:
        pid = (await session.exec(select(func.pg_backend_pid()))).one()
    assert isinstance(pid, int)
    return pid


async def test_a_connection_given_back_a_moment_ago_is_used_without_a_ping(
    server: Database, pings: list[int]
) -> None:
    first = await _backend(server)
    assert [await _backend(server) for _ in range(3)] == [first] * 3
    assert pings == []


async def test_a_connection_dropped_while_idle_is_replaced_before_anything_uses_it(
    server: Database, pings: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    dropped = await _backend(server)
    admin = Database(server.url)  # the server drops the idle connection, as on a restart
    try:
        async with admin.engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
    finally:
        await admin.dispose()
    monkeypatch.setattr(storage_db, "IDLE_BEFORE_PING", 0.0)  # as if idle for long

    replaced = await _backend(server)

    assert replaced != dropped
    assert pings, "the idle connection was pinged before use"
