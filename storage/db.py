"""Engines, sessions and schema migrations.

Handlers run on the event loop, so everything here is async; the only
synchronous entry point is `upgrade`, which runs before the loop starts.
"""

from __future__ import annotations

import ast
import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, event, exc, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.crypto import KeyRing

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def upsert_insert(dialect: str) -> Any:
    """`insert` with ON CONFLICT for `dialect` ("postgresql" or "sqlite").

    Imported here, on first use, so a bot on SQLite never loads PostgreSQL's
    dialect (twenty modules, a few MB of memory that stay) and the other way round.
    """
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


async def set_column(session: AsyncSession, *, row: Any, field: str, value: object) -> None:
    """Write one column of one loaded row with one UPDATE by its id; the row shows the
    value as written and has nothing left to flush.

    For the wizards' answers, one per update: the ORM's flush of one changed attribute
    costs several times the statement. The value is bound with the column's type, so an
    encrypted column is encrypted as on any other write.
    """
    assert row.id is not None
    statement = _column_update(row.__table__, field)
    await session.exec(statement, params={"row_id": row.id, "value": value})
    set_committed_value(row, field, value)


@cache
def _column_update(table: Any, field: str) -> Any:
    """UPDATE of one column by id, built once per (table, column)."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({field: bindparam("value", type_=table.c[field].type)})
    )


def async_url(url: str) -> str:
    """Map the URLs people write (`postgresql://`, `sqlite:///`) to async drivers."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        # Imported here, as `upsert_insert` does: a bot on PostgreSQL never loads
        # SQLite's dialect (importing it registers the `inline` driver).
        from storage import sqlite_inline

        parsed = parsed.set(drivername=f"sqlite+{sqlite_inline.DRIVER}")
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+asyncpg")
    else:
        raise ValueError(f"unsupported database {backend!r}")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dispatcher read while a handler writes; synchronous=FULL makes a
    # committed answer survive kill -9 and power loss alike.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Only another process can make a statement wait (this one's transactions take
    # turns, `storage.sqlite_inline`); the wait holds up the event loop, so it is short.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # hide_parameters: a failed statement's error (and any echo) would otherwise show
    # the values bound to it, names and texts among them.
    target = async_url(url)
    sqlite = target.startswith("sqlite")
    if sqlite and "creator" not in kwargs and "async_creator" not in kwargs:
        from storage import sqlite_inline

        kwargs["creator"] = sqlite_inline.creator(make_url(target))
    engine = create_async_engine(target, hide_parameters=True, **kwargs)
    if sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:
        # A SQLite file cannot drop a connection; a server can, while it sits idle.
        event.listen(engine.sync_engine.pool, "checkin", _note_idle)
        event.listen(engine.sync_engine.pool, "checkout", _ping_if_idle)
    return engine


# A server connection may have been dropped while it sat in the pool (a restart of the
# server, an idle timeout, a proxy), so one that sat there longer than this is pinged
# before it is used. SQLAlchemy's `pool_pre_ping` pings every time: on asyncpg that
# is BEGIN, an empty statement and ROLLBACK, three round trips before every update's
# first statement, for a connection the previous update gave back a moment ago.
IDLE_BEFORE_PING = 10.0
_IDLE_SINCE = "mentorbot_idle_since"


def _note_idle(_dbapi_connection: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get(_IDLE_SINCE)
    if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
        return  # just connected, or given back a moment ago
    try:
        dbapi_connection.ping()
    except Exception as error:
        # The pool throws this connection away and hands out another (a new one
        # once all the old ones turned out dead), as `pool_pre_ping` would.
        raise exc.DisconnectionError(type(error).__name__) from error


class Database:
    """One engine and its session factory, shared by the whole application."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = create_engine(url, **engine_kwargs)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self) -> AsyncSession:
        """A session the caller commits and closes itself (the unit of work of an update)."""
        return self._sessions()

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session that commits on success and rolls back on any error."""
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def dispose(self) -> None:
        await self.engine.dispose()


def _alembic_config(url: str, keyring: KeyRing | None = None) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    # The migrations that encrypt rows use this ring, else `storage.crypto.active()`.
    config.attributes["keyring"] = keyring
    return config


# `revision: str = "0012"` and `down_revision: ... = ("0010", "0011")` at the top of a
# migration, as `alembic revision` writes them.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.M)


@cache
def script_heads() -> frozenset[str] | None:
    """The newest revisions of `migrations/versions`, read from their files without Alembic.

    Importing Alembic and loading its script directory costs a start a third of a
    second and over 10 MB that stay, only to find nothing to do. None when a file
    is not in the shape read here: callers then ask Alembic.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text("utf-8")
        found = {m.group(1): m.group(2) for m in _REVISION_LINE.finditer(source)}
        try:
            revision = ast.literal_eval(found["revision"].strip())
            down = ast.literal_eval(found["down_revision"].strip())
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        parents.update([down] if isinstance(down, str) else down or ())
    return frozenset(revisions - parents) or None


async def stored_revisions(connection: AsyncConnection) -> frozenset[str]:
    """The revisions recorded in `alembic_version`; empty for a database never migrated."""
    if not await connection.run_sync(lambda sync: sync.dialect.has_table(sync, "alembic_version")):
        return frozenset()
    rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
    return frozenset(str(row[0]) for row in rows)


def is_at_head(url: str) -> bool:
    """Whether the schema is at the newest revisions, with one query and no Alembic."""
    heads = script_heads()
    if heads is None:
        return False

    async def stored() -> frozenset[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await stored_revisions(connection)
        finally:
            await engine.dispose()

    return asyncio.run(stored()) == heads


def upgrade(url: str, revision: str = "heads", *, keyring: KeyRing | None = None) -> bool:
    """Bring the schema to `revision`; whether anything had to be done. Must be called
    outside a running event loop."""
    if revision == "heads" and is_at_head(url):
        return False
    from alembic import command

    command.upgrade(_alembic_config(url, keyring), revision)
    return True


async def upgrade_async(
    url: str, revision: str = "heads", *, keyring: KeyRing | None = None
) -> bool:
    """`upgrade` for callers already inside an event loop (tests, the sandbox)."""
    return await asyncio.to_thread(upgrade, url, revision, keyring=keyring)
