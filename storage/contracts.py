"""Queries about collaboration contracts (versioned: any change is a new version)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Contract

TERMS = (
    "aims",
    "mode",
    "duration_months",
    "cadence",
    "meeting_minutes",
    "time_budget_hours",
    "cancel_notice",
    "feedback_cadence",
)


async def get(session: AsyncSession, *, contract_id: int) -> Contract | None:
    return await session.get(Contract, contract_id)


async def versions(session: AsyncSession, *, mentorship_id: int) -> list[Contract]:
    rows = await session.exec(
        select(Contract)
        .where(Contract.mentorship_id == mentorship_id)
        .order_by(col(Contract.version))
    )
    return list(rows)


async def latest(session: AsyncSession, *, mentorship_id: int) -> Contract | None:
    found = await versions(session, mentorship_id=mentorship_id)
    return found[-1] if found else None


async def in_force(session: AsyncSession, *, mentorship_id: int) -> Contract | None:
    """The newest version both parties accepted."""
    for contract in reversed(await versions(session, mentorship_id=mentorship_id)):
        if contract.adept_accepted_at and contract.mentor_accepted_at:
            return contract
    return None


async def new_version(
    session: AsyncSession, *, mentorship_id: int, drafted_by_id: int, based_on: Contract | None
) -> Contract:
    latest_version = await latest(session, mentorship_id=mentorship_id)
    contract = Contract(
        mentorship_id=mentorship_id,
        version=(latest_version.version + 1) if latest_version else 1,
        drafted_by_id=drafted_by_id,
    )
    if based_on is not None:
        for term in TERMS:
            setattr(contract, term, getattr(based_on, term))
    session.add(contract)
    await session.flush()
    return contract
