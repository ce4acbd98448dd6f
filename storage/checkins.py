"""Queries about monthly check-ins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, exists
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import set_column, upsert_insert
from storage.models import CheckIn, Membership, User


async def get(session: AsyncSession, *, checkin_id: int) -> CheckIn | None:
    return await session.get(CheckIn, checkin_id)


async def find(
    session: AsyncSession, *, mentorship_id: int, user_id: int, period: int
) -> CheckIn | None:
    rows = await session.exec(
        select(CheckIn).where(
            CheckIn.mentorship_id == mentorship_id,
            CheckIn.user_id == user_id,
            CheckIn.period == period,
        )
    )
    return rows.first()


# Built once with bound parameters: every answer of a check-in asks for the latest one,
# and building the statement (and its cache key) costs more than SQLite running it.
_LATEST = (
    select(CheckIn)
    .where(
        col(CheckIn.mentorship_id) == bindparam("mentorship_id"),
        col(CheckIn.user_id) == bindparam("user_id"),
    )
    .order_by(col(CheckIn.period).desc())
    .limit(1)
)


async def latest(session: AsyncSession, *, mentorship_id: int, user_id: int) -> CheckIn | None:
    """This person's check-in of the most recent period in one mentorship."""
    rows = await session.exec(_LATEST, params={"mentorship_id": mentorship_id, "user_id": user_id})
    return rows.first()


_LATER = aliased(CheckIn)
_WITH_SUPERSEDED = select(
    CheckIn,
    exists()
    .where(
        col(_LATER.mentorship_id) == col(CheckIn.mentorship_id),
        col(_LATER.user_id) == col(CheckIn.user_id),
        col(_LATER.period) > col(CheckIn.period),
    )
    .label("superseded"),
).where(col(CheckIn.id) == bindparam("checkin_id"))


async def get_and_superseded(
    session: AsyncSession, *, checkin_id: int
) -> tuple[CheckIn | None, bool]:
    """A check-in, and whether it is superseded (not `latest`: the person has one of a
    later period in that mentorship), in one query: every answer of a check-in asks both."""
    row = (await session.exec(_WITH_SUPERSEDED, params={"checkin_id": checkin_id})).first()
    if row is None:
        return None, False
    return row[0], bool(row[1])


ANSWERS = frozenset({"works_well", "could_improve", "rating", "note_to_partner"})


async def set_answer(session: AsyncSession, *, checkin: CheckIn, field: str, value: object) -> None:
    """One answer of a check-in, written at once as one UPDATE of its column."""
    assert field in ANSWERS
    await set_column(session, row=checkin, field=field, value=value)


async def open_period(
    session: AsyncSession, *, mentorship_id: int, user_id: int, period: int, due_at: datetime
) -> CheckIn | None:
    """A new check-in row, or None when that period was already opened for this person.

    ON CONFLICT DO NOTHING rather than catching the IntegrityError: two planners
    racing must not abort the transaction that opens everybody else's check-ins.
    """
    dialect = session.get_bind().dialect.name
    insert = upsert_insert(dialect)
    statement = (
        insert(CheckIn)
        .values(
            mentorship_id=mentorship_id,
            user_id=user_id,
            period=period,
            due_at=due_at,
            shared=False,
            note_shared=False,
        )
        .on_conflict_do_nothing(index_elements=["mentorship_id", "user_id", "period"])
        .returning(col(CheckIn.id))
    )
    new_id = (await session.exec(statement)).scalar_one_or_none()
    return None if new_id is None else await session.get(CheckIn, new_id)


async def members(session: AsyncSession, *, mentorship_id: int) -> list[tuple[Membership, User]]:
    rows = await session.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(Membership.mentorship_id == mentorship_id)
        .order_by(col(Membership.id))
    )
    return list(rows)


async def answered(session: AsyncSession, *, mentorship_id: int) -> list[CheckIn]:
    """Every finished check-in of a mentorship, both parties', oldest period first."""
    rows = await session.exec(
        select(CheckIn)
        .where(CheckIn.mentorship_id == mentorship_id, col(CheckIn.answered_at).is_not(None))
        .order_by(col(CheckIn.period), col(CheckIn.id))
    )
    return list(rows)
