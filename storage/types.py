"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from storage import crypto

log = logging.getLogger("mentorbot.storage")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out.

    SQLite drops the offset and PostgreSQL keeps it; normalising at the boundary
    means domain code never compares naive with aware times.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest with the active key ring, bound to `label` ("table.column").

    A value no key opens (corrupted, moved from another column, or under a key
    that was removed) reads as `crypto.UNREADABLE` and is logged without its
    content, so one damaged row cannot take the rest of the bot down. A wrong
    key for the whole database is caught at start-up instead (`storage.rotation`).
    """

    impl = Text
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[str]):
        """Refuses SQL comparisons: the same text encrypts differently every time, so
        `column == "x"` would silently match nothing. Only NULL tests make sense."""

        __slots__ = ()

        def operate(self, op: Any, *other: Any, **kwargs: Any) -> ColumnElement[Any]:
            _only_null_tests(op, other, self.expr)
            return super().operate(op, *other, **kwargs)

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> ColumnElement[Any]:
            _only_null_tests(op, (other,), self.expr)
            return super().reverse_operate(op, other, **kwargs)

    comparator_factory = Comparator

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        return crypto.active().encrypt(value, self.label)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        try:
            return crypto.active().decrypt(value, self.label)
        except crypto.Undecryptable as problem:
            log.error("a value in %s cannot be decrypted: %s", self.label, problem.reason)
            return crypto.UNREADABLE


_NULL_TESTS = frozenset({operators.is_, operators.is_not})


def _only_null_tests(op: Any, other: tuple[Any, ...], expr: Any) -> None:
    if op in _NULL_TESTS:
        return
    if op in (operators.eq, operators.ne) and all(o is None for o in other):
        return  # `column == None` becomes IS NULL
    raise TypeError(
        f"{getattr(expr, 'key', 'an encrypted column')} is encrypted: SQL can only test it"
        " for NULL; compare in Python after loading"
    )
