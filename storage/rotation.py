"""Where encrypted values live, whether the configured keys open them, and rotation.

Everything here reads and writes the stored ciphertexts as plain text (not
through `EncryptedText`), so nothing is decrypted that does not have to be and
a value no key opens is left exactly as it was.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage import crypto
from storage.db import _alembic_config, create_engine, script_heads, stored_revisions
from storage.types import EncryptedText

# The first revision whose rows are encrypted: before it, texts are still plain.
ENCRYPTION_REVISION = "0009"


class KeysDoNotOpen(crypto.CryptoError):
    """The configured keys open none of the stored values: the wrong key for this database."""


@dataclass(frozen=True, slots=True)
class EncryptedTable:
    """A table's primary key and encrypted columns, as plain-text columns for raw access."""

    table: sa.TableClause
    labels: dict[str, str]

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def id(self) -> sa.ColumnClause[int]:
        return self.table.c.id

    @property
    def columns(self) -> list[sa.ColumnClause[str]]:
        return [self.table.c[name] for name in self.labels]


def encrypted_tables() -> list[EncryptedTable]:
    """Every table with an `EncryptedText` column, from the models (so none is forgotten)."""
    found = []
    for table in SQLModel.metadata.sorted_tables:
        labels = {
            column.name: column.type.label
            for column in table.columns
            if isinstance(column.type, EncryptedText)
        }
        if not labels:
            continue
        if [c.name for c in table.primary_key.columns] != ["id"]:
            raise AssertionError(f"{table.name}: rotation walks tables by an integer id")
        raw = sa.table(
            table.name, sa.column("id", sa.Integer), *(sa.column(n, sa.Text) for n in labels)
        )
        found.append(EncryptedTable(raw, labels))
    return found


async def _encryption_applied(connection: AsyncConnection, database_url: str) -> bool:
    """Whether the schema is at or past the migration that encrypted the rows."""
    # The newest schema has every migration: known without importing Alembic at start.
    if await stored_revisions(connection) == script_heads():
        return True
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def current(sync: sa.Connection) -> tuple[str, ...]:
        return MigrationContext.configure(sync).get_current_heads()

    heads = await connection.run_sync(current)
    if not heads:
        return False
    script = ScriptDirectory.from_config(_alembic_config(database_url))
    for head in heads:
        try:
            if any(
                r.revision == ENCRYPTION_REVISION for r in script.iterate_revisions(head, "base")
            ):
                return True
        except Exception:  # a revision newer than this code: it came after the encryption
            return True
    return False


@dataclass(frozen=True, slots=True)
class KeyCheck:
    sampled: int
    opened: int


def _newest_values(dialect: sa.Dialect) -> tuple[list[str], sa.TextClause]:
    """One statement for the newest stored value of every encrypted column: rows of
    (index into the returned labels, ciphertext), one per column that holds any.

    Every start checks the keys, and one statement per column (close to forty) cost
    a start more than the check itself: each is compiled, and each is a round trip.
    The one statement is written as SQL text: built as SQLAlchemy expressions it took
    some two hundred objects and a compilation (about 30 ms of CPU) at each start, for
    a statement that never changes. Its names come from our models, quoted.
    """
    quote = dialect.identifier_preparer.quote
    labels: list[str] = []
    parts: list[str] = []
    for table in encrypted_tables():
        name = quote(table.name)
        for column in table.columns:
            value = quote(column.name)
            parts.append(
                f"SELECT {len(labels)} AS i, newest.value FROM (SELECT {value} AS value"
                f" FROM {name} WHERE {value} IS NOT NULL ORDER BY {quote('id')} DESC LIMIT 1)"
                " AS newest"
            )
            labels.append(table.labels[column.name])
    return labels, sa.text(" UNION ALL ".join(parts))


async def check_keys(database_url: str, ring: crypto.KeyRing) -> KeyCheck:
    """Try the newest value of every encrypted column; raise `KeysDoNotOpen` if none opens.

    A single corrupted value must not stop the bot, so one value that opens is
    enough; a wrong key (a lost key file, another deployment's key) opens none.
    Before the encryption migration there is nothing to check.
    """
    engine = create_engine(database_url)
    sampled = opened = 0
    try:
        async with engine.connect() as connection:
            if not await _encryption_applied(connection, database_url):
                return KeyCheck(0, 0)
            labels, statement = _newest_values(connection.dialect)
            for index, value in await connection.execute(statement):
                sampled += 1
                try:
                    ring.decrypt(value, labels[index])
                except crypto.Undecryptable:
                    continue
                opened += 1
    finally:
        await engine.dispose()
    if sampled and not opened:
        raise KeysDoNotOpen(f"none of the {sampled} stored values tried opens with these keys")
    return KeyCheck(sampled, opened)


@dataclass(slots=True)
class Progress:
    """Rows walked so far out of `total`, updated after every committed batch."""

    total: int
    done: int = 0
    table: str = ""


@dataclass(slots=True)
class RotationReport:
    rows: int = 0
    rotated: int = 0
    already_current: int = 0
    # Values no key opens, per "table.column": left as they are (they read as unreadable).
    unreadable: Counter[str] = field(default_factory=Counter)
    # Values the bot rewrote while we worked on them: the bot wrote them under the current key.
    changed_meanwhile: int = 0


async def rotate(
    database_url: str,
    ring: crypto.KeyRing,
    *,
    batch_size: int = 500,
    progress: Callable[[Progress], None] | None = None,
) -> RotationReport:
    """Re-encrypt every value not yet under the ring's current key.

    Rows are walked in primary-key order, a batch per transaction, so a crash
    loses at most the batch in flight and a rerun skips everything already
    under the current key. Each update only lands if the value is still the
    one read, so an answer the running bot saves meanwhile is never overwritten.
    """
    await check_keys(database_url, ring)
    engine = create_engine(database_url)
    report = RotationReport()
    try:
        tables = encrypted_tables()
        async with engine.connect() as connection:
            total = 0
            for table in tables:
                total += (
                    await connection.scalar(sa.select(sa.func.count()).select_from(table.table))
                    or 0
                )
        state = Progress(total=total)
        if progress:
            progress(state)
        for table in tables:
            state.table = table.name
            last = 0
            while True:
                async with engine.begin() as connection:
                    rows = (
                        await connection.execute(
                            sa.select(table.id, *table.columns)
                            .where(table.id > last)
                            .order_by(table.id)
                            .limit(batch_size)
                        )
                    ).all()
                    if not rows:
                        break
                    last = rows[-1].id
                    for row in rows:
                        await _rotate_row(connection, table, row, ring, report)
                    report.rows += len(rows)
                state.done += len(rows)
                if progress:
                    progress(state)
    finally:
        await engine.dispose()
    return report


async def _rotate_row(
    connection: AsyncConnection,
    table: EncryptedTable,
    row: Any,
    ring: crypto.KeyRing,
    report: RotationReport,
) -> None:
    new: dict[str, str] = {}
    old: dict[str, str] = {}
    for name, label in table.labels.items():
        value = getattr(row, name)
        if value is None:
            continue
        if ring.is_current(value):
            report.already_current += 1
            continue
        try:
            plain = ring.decrypt(value, label)
        except crypto.Undecryptable:
            report.unreadable[label] += 1
            continue
        new[name], old[name] = ring.encrypt(plain, label), value
    if not new:
        return
    if await _update_if_unchanged(connection, table, row.id, new, old):
        report.rotated += len(new)
        return
    # Someone saved one of them meanwhile: keep theirs, rotate the others one by one.
    for name in new:
        if await _update_if_unchanged(connection, table, row.id, {name: new[name]}, old):
            report.rotated += 1
        else:
            report.changed_meanwhile += 1


async def _update_if_unchanged(
    connection: AsyncConnection,
    table: EncryptedTable,
    row_id: int,
    new: dict[str, str],
    old: dict[str, str],
) -> bool:
    result = await connection.execute(
        table.table.update()
        .where(table.id == row_id, *(table.table.c[name] == old[name] for name in new))
        .values(**new)
    )
    return result.rowcount == 1
