"""SQLite on the event loop's own thread; transactions of one file take turns.

aiosqlite runs every call on a thread of its own: a queue put, a wake-up of that
thread and a wake-up of the event loop for the answer, per call. For a local file
those hand-overs cost more than the statements (most take microseconds), and while
the loop is busy the driver's thread also waits for the GIL, which is what made an
update's latency jump (measured: a quarter of the CPU of an update, and p99 several
times p50). Here statements run inline. Only a commit, which waits for the disk
(synchronous=FULL: an fsync of the WAL), goes to a worker thread, so the loop keeps
serving while the disk works.

An inline statement must never wait in SQLite's busy handler for another
connection of this process: it would hold up the loop, and with it the very
transaction it waits for. So a connection takes its file's `asyncio.Lock` before a
statement that may begin a transaction and gives it back when the transaction ends
(commit, rollback, close): this process's write transactions take turns, as SQLite
makes them do anyway, and an update's transaction is short (the unit of work
commits before any request leaves for Telegram). A read outside a transaction is one
statement, atomic on this thread, and in WAL mode never waits for a writer, so it
does not queue. Another process on the same file (a `mentorbot` command beside the
bot) still meets SQLite's busy timeout, and the loop waits with it.

These classes offer what SQLAlchemy's aiosqlite adapter calls on an aiosqlite
connection (`cursor()` with awaitable methods, `commit`, `rollback`, `close`,
`stop`, `create_function`), so SQLAlchemy's `sqlite+aiosqlite` dialect is used
unchanged; aiosqlite itself only lends it its exception classes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Iterable
from typing import Any

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary()
)


def file_lock(database: str) -> asyncio.Lock:
    """The turn of `database`'s transactions on the running loop (tests run several)."""
    locks = _LOCKS.setdefault(asyncio.get_running_loop(), {})
    lock = locks.get(database)
    if lock is None:
        lock = locks[database] = asyncio.Lock()
    return lock


def _is_read(sql: str) -> bool:
    # sqlite3 (legacy transaction control) begins a transaction only before
    # INSERT, UPDATE, DELETE and REPLACE; anything else that is not a plain SELECT
    # (a CTE, a PRAGMA, DDL, SAVEPOINT) takes its turn too, which is never wrong.
    return sql[:6].upper() == "SELECT"


class InlineCursor:
    """A cursor whose awaitable methods answer at once."""

    __slots__ = ("_connection", "_cursor", "arraysize")

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor: sqlite3.Cursor | None = None
        self.arraysize = 1  # sqlite3's default, until there is a cursor

    @property
    def description(self) -> Any:
        return None if self._cursor is None else self._cursor.description

    @property
    def rowcount(self) -> int:
        return -1 if self._cursor is None else self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return None if self._cursor is None else self._cursor.lastrowid

    async def execute(self, sql: str, parameters: Any = None) -> InlineCursor:
        self._cursor = await self._connection.run(sql, parameters, many=False)
        self._cursor.arraysize = self.arraysize
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._cursor = await self._connection.run(sql, parameters, many=True)
        return self

    async def fetchall(self) -> list[Any]:
        return [] if self._cursor is None else self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return None if self._cursor is None else self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        if self._cursor is None:
            return []
        return self._cursor.fetchmany(size or self.arraysize)

    async def __aiter__(self) -> AsyncIterator[Any]:
        assert self._cursor is not None, "iterated before execute"
        for row in self._cursor:
            yield row

    async def close(self) -> None:
        if self._cursor is not None:
            self._cursor.close()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()


class InlineConnection:
    """One sqlite3 connection, used from the loop's thread (and a worker for commits)."""

    def __init__(self, connection: sqlite3.Connection, database: str) -> None:
        self._conn = connection
        self._database = database
        self._held: asyncio.Lock | None = None  # this file's turn, while in a transaction
        # SQLAlchemy's adapter commits and rolls back only while this is set.
        self._connection: sqlite3.Connection | None = connection

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def run(self, sql: str, parameters: Any, *, many: bool) -> sqlite3.Cursor:
        if self._held is None and not _is_read(sql):
            lock = file_lock(self._database)
            await lock.acquire()
            self._held = lock
        try:
            if many:
                return self._conn.executemany(sql, parameters)
            return self._conn.execute(sql, () if parameters is None else parameters)
        finally:
            self._end_turn_if_done()

    def _end_turn_if_done(self) -> None:
        if not self._conn.in_transaction:
            self._end_turn()

    def _end_turn(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    # sqlite3 commits and rolls back only inside a transaction; outside one both do
    # nothing, so nothing is handed to a thread: the pool rolls back every connection
    # it gets back, right after the unit of work committed.
    async def commit(self) -> None:
        try:
            if self._conn.in_transaction:
                # The wait for the disk off the loop; the turn stays held until it is done.
                await asyncio.to_thread(self._conn.commit)
        finally:
            self._end_turn_if_done()

    async def rollback(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.rollback()
        finally:
            self._end_turn_if_done()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        """Close at once (SQLAlchemy's terminate): an open transaction is rolled back."""
        if self._connection is not None:
            self._connection = None
            self._conn.close()
        self._end_turn()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level


async def connect(database: str, **kwargs: Any) -> InlineConnection:
    """`aiosqlite.connect` with the same arguments, answered inline."""
    kwargs["check_same_thread"] = False  # commits run on a worker thread
    return InlineConnection(sqlite3.connect(database, **kwargs), database)
