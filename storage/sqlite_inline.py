"""SQLite on the event loop's own thread: sqlite3 itself under SQLAlchemy's asyncio API.

aiosqlite runs every call on a thread of its own: a queue put, a wake-up of that
thread and a wake-up of the event loop for the answer, per call. For a local file
those hand-overs cost more than the statements (most take microseconds), and while
the loop is busy the driver's thread also waits for the GIL, which is what made an
update's latency jump (measured: a quarter of the CPU of an update, and p99 several
times p50). SQLAlchemy's adapter for an async driver then adds its own layer per
call (a greenlet switch for each awaited driver call, an asyncio lock per statement,
a copy of the rows).

So this dialect, `sqlite+inline`, is SQLAlchemy's own pysqlite dialect declared
async: `AsyncSession` and `AsyncEngine` work as with any async driver (one greenlet
per session call), and inside it the statements run on plain sqlite3, inline. Only
a commit, which waits for the disk (synchronous=FULL: an fsync of the WAL), goes to
a worker thread, so the loop keeps serving while the disk works.

An inline statement must never wait in SQLite's busy handler for another connection
of this process: it would hold up the loop, and with it the very transaction it
waits for. So a connection takes its file's turn (`Turn`) before a statement that
may begin a transaction and gives it back when the transaction ends (commit,
rollback, close): this process's write transactions take turns, as SQLite makes
them do anyway, and an update's transaction is short (the unit of work commits
before any request leaves for Telegram). A read outside a transaction is one
statement, atomic on this thread, and in WAL mode never waits for a writer, so it
does not queue. Another process on the same file (a `mentorbot` command beside the
bot) still meets SQLite's busy timeout, and the loop waits with it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.base import SQLiteExecutionContext
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util import await_only

DRIVER = "inline"


class Turn:
    """Whose transaction it is on one file: taken at once when free, else waited for
    in order. Unlike `asyncio.Lock` it can be taken without awaiting, which is every
    time but when two transactions meet."""

    __slots__ = ("_taken", "_waiting")

    def __init__(self) -> None:
        self._taken = False
        self._waiting: deque[asyncio.Future[None]] = deque()

    def take(self) -> None:
        """Inside SQLAlchemy's greenlet: returns at once, or once the turn is handed over."""
        if not self._taken:
            self._taken = True
            return
        handed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(handed)
        try:
            await_only(handed)
        except BaseException:
            # Cancelled after the turn was handed over: pass it on, or it is lost.
            if handed.done() and not handed.cancelled():
                self.give_back()
            raise

    def give_back(self) -> None:
        while self._waiting:
            handed = self._waiting.popleft()
            if not handed.done():
                handed.set_result(None)  # still taken: now the waiter's
                return
        self._taken = False


_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, Turn]] = (
    weakref.WeakKeyDictionary()
)


def turn_of(database: str) -> Turn:
    """The turn of `database`'s transactions on the running loop (tests run several)."""
    turns = _TURNS.setdefault(asyncio.get_running_loop(), {})
    turn = turns.get(database)
    if turn is None:
        turn = turns[database] = Turn()
    return turn


def _is_read(sql: str) -> bool:
    # sqlite3 (legacy transaction control) begins a transaction only before
    # INSERT, UPDATE, DELETE and REPLACE; anything else that is not a plain SELECT
    # (a CTE, a PRAGMA, DDL, SAVEPOINT) takes its turn too, which is never wrong.
    return sql[:6].upper() == "SELECT"


async def _nothing() -> None:
    return None


def _through_the_loop() -> None:
    """One hop out of SQLAlchemy's greenlet and back, with nothing awaited in between.

    `AsyncConnection.execute` refuses a driver that never awaits (it takes that for a
    sync driver by mistake), so every statement makes one such hop: two greenlet
    switches, where an async driver makes several."""
    await_only(_nothing())


class TurnTakingCursor:
    """sqlite3's cursor, taking the file's turn before a statement that may write."""

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: TurnTakingConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    def execute(self, sql: str, parameters: Any = ()) -> TurnTakingCursor:
        self._connection.before_statement(writes=not _is_read(sql))
        try:
            self._cursor.execute(sql, parameters)
        finally:
            self._connection.end_turn_if_done()
        return self

    def executemany(self, sql: str, parameters: Iterable[Any]) -> TurnTakingCursor:
        self._connection.before_statement(writes=True)
        try:
            self._cursor.executemany(sql, parameters)
        finally:
            self._connection.end_turn_if_done()
        return self

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's asyncio results call this right after a statement, so that an
        async driver's cursor is closed where it can be awaited; sqlite3 closes
        synchronously when the result is done, and the rows stay to be fetched."""


class TurnTakingConnection:
    """One sqlite3 connection, used from the loop's thread (and a worker for commits)."""

    __slots__ = ("_conn", "_database", "holding")

    def __init__(self, connection: sqlite3.Connection, database: str) -> None:
        self._conn = connection
        self._database = database
        self.holding: Turn | None = None  # this file's turn, while in a transaction

    def cursor(self) -> TurnTakingCursor:
        return TurnTakingCursor(self, self._conn.cursor())

    def before_statement(self, *, writes: bool) -> None:
        """Take the file's turn for a statement that may begin a transaction, then hop."""
        if writes and self.holding is None:
            turn = turn_of(self._database)
            turn.take()
            self.holding = turn
        _through_the_loop()

    def end_turn_if_done(self) -> None:
        if self.holding is not None and not self._conn.in_transaction:
            self._end_turn()

    def _end_turn(self) -> None:
        turn, self.holding = self.holding, None
        if turn is not None:
            turn.give_back()

    # sqlite3 commits and rolls back only inside a transaction; outside one both do
    # nothing, so nothing is handed to a thread: the pool rolls back every connection
    # it gets back, right after the unit of work committed.
    def commit(self) -> None:
        try:
            if self._conn.in_transaction:
                # The wait for the disk off the loop; the turn stays held until it is done.
                await_only(asyncio.to_thread(self._conn.commit))
        finally:
            self.end_turn_if_done()

    def rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.rollback()
        finally:
            self.end_turn_if_done()

    def close(self) -> None:
        try:
            self._conn.close()  # rolls back an open transaction
        finally:
            self._end_turn()

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    @property
    def total_changes(self) -> int:
        return self._conn.total_changes


class InlineExecutionContext(SQLiteExecutionContext):
    def create_server_side_cursor(self) -> Any:
        # sqlite3's cursor already steps through the rows as they are fetched.
        return self._dbapi_connection.cursor()


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite, declared async for `create_async_engine` (see the module docstring)."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = True
    execution_ctx_cls = InlineExecutionContext

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        # As SQLAlchemy's aiosqlite dialect: the pool waits for a connection by
        # awaiting, and an in-memory database is one connection shared.
        if cls._is_url_file_db(url):
            return pool.AsyncAdaptedQueuePool
        return pool.StaticPool


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")


def creator(url: URL) -> Any:
    """`creator` for an engine on `url`: sqlite3 connected with the arguments
    SQLAlchemy's pysqlite dialect would pass, wrapped to take turns."""
    args, kwargs = SQLiteDialect_pysqlite().create_connect_args(url)
    arguments: dict[str, Any] = {**kwargs, "check_same_thread": False}  # commits: a worker
    database = str(args[0]) if args else str(arguments.get("database", ""))

    def connect() -> TurnTakingConnection:
        connection = sqlite3.connect(*args, **arguments)  # type: ignore[call-overload]
        return TurnTakingConnection(connection, database)

    return connect
