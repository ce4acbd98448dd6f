"""Which bank questions a pair's mentor has already been offered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import QuestionUse


async def used_ids(session: AsyncSession, *, mentorship_id: int) -> set[str]:
    """Every question id ever offered to this pair."""
    rows = await session.exec(
        select(QuestionUse.question_id).where(QuestionUse.mentorship_id == mentorship_id)
    )
    return set(rows)


async def history(session: AsyncSession, *, mentorship_id: int) -> list[str]:
    """The question ids offered to this pair, oldest first (repeats included)."""
    rows = await session.exec(
        select(QuestionUse.question_id)
        .where(QuestionUse.mentorship_id == mentorship_id)
        .order_by(col(QuestionUse.used_at), col(QuestionUse.id))
    )
    return list(rows)


async def record(
    session: AsyncSession, *, mentorship_id: int, question_ids: Sequence[str], now: datetime
) -> None:
    """Remember that these questions were offered, in this order."""
    for question_id in question_ids:
        session.add(QuestionUse(mentorship_id=mentorship_id, question_id=question_id, used_at=now))
        # One flush per row keeps the ids in offering order, which `history` relies on.
        await session.flush()
