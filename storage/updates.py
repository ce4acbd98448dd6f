"""Telegram updates already handled, and the per-person lock (keyword-only, caller's session).

PostgreSQL only: several webhook workers share the database there. One statement
takes the person's advisory transaction lock and then claims the update id, so the
claim is decided only once any other worker busy with this person has committed.
The lock is released with the transaction; the claim stays only if the update's
own effects are committed with it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Connection, TextClause, bindparam, delete, text
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ProcessedUpdate
from storage.types import UTCDateTime

# The CTE runs first: the insert's conflict check then sees what the worker that held
# the lock committed (ON CONFLICT looks at committed rows, not at the snapshot).
_CLAIM: TextClause = text(
    "WITH locked AS (SELECT pg_advisory_xact_lock(:person)) "
    "INSERT INTO processed_updates (update_id, seen_at) "
    "SELECT :update_id, :now FROM locked "
    "ON CONFLICT (update_id) DO NOTHING RETURNING update_id"
).bindparams(
    bindparam("person", type_=BigInteger),
    bindparam("update_id", type_=BigInteger),
    bindparam("now", type_=UTCDateTime),
)


async def claim(session: AsyncSession, *, person: int, update_id: int, now: datetime) -> bool:
    """Lock the person for this transaction and claim the update; False: already handled."""
    connection = await session.connection()
    result = await connection.execute(
        _CLAIM, {"person": person, "update_id": update_id, "now": now}
    )
    return result.first() is not None


def claim_again(connection: Connection, *, person: int, update_id: int, now: datetime) -> None:
    """The same at the start of a later transaction of the update (after a commit or a
    rollback): the lock again, and the claim if a rollback took it away."""
    connection.execute(_CLAIM, {"person": person, "update_id": update_id, "now": now})


async def forget(session: AsyncSession, *, before: datetime) -> int:
    """Drop the claims older than `before`; how many were dropped."""
    result = await session.exec(
        delete(ProcessedUpdate).where(col(ProcessedUpdate.seen_at) < before)
    )
    return int(result.rowcount or 0)


async def seen(session: AsyncSession, *, update_id: int) -> bool:
    """Whether the update's effects are committed (for tests and maintenance)."""
    return await session.get(ProcessedUpdate, update_id) is not None
