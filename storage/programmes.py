"""Queries about programmes and who is in them (keyword-only, never committing)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import upsert_insert
from storage.models import Mentorship, Programme, ProgrammeMember, User

# As invitation codes: 192 random bits, 32 characters of Telegram's deep-link alphabet.
CODE_BYTES = 24


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


@dataclass(frozen=True, slots=True)
class Joining:
    """A join code found: the programme and the role it gives."""

    programme: Programme
    role: str


async def get(session: AsyncSession, *, programme_id: int) -> Programme | None:
    return await session.get(Programme, programme_id)


async def create(session: AsyncSession, *, programme: Programme) -> Programme:
    session.add(programme)
    await session.flush()
    return programme


async def default(session: AsyncSession, *, now: datetime) -> Programme:
    """The default programme (the deployment's settings as its texts), made when first needed."""
    found = (
        await session.exec(
            select(Programme).where(col(Programme.is_default).is_(True)).order_by(col(Programme.id))
        )
    ).first()
    if found is not None:
        return found
    return await create(
        session,
        programme=Programme(
            mentor_code=new_code(),
            adept_code=new_code(),
            coordinator_code=new_code(),
            is_default=True,
            created_at=now,
        ),
    )


async def every(session: AsyncSession) -> list[Programme]:
    """All programmes, oldest first (for the deployment's super-coordinators); drafts are
    their author's alone and not listed."""
    return list(
        await session.exec(
            select(Programme).where(col(Programme.draft).is_(False)).order_by(col(Programme.id))
        )
    )


async def draft_of(session: AsyncSession, *, user_id: int) -> Programme | None:
    """The programme this person is setting up (`/programme new`), if any."""
    return (
        await session.exec(
            select(Programme)
            .where(col(Programme.draft).is_(True), Programme.created_by_id == user_id)
            .order_by(col(Programme.id).desc())
        )
    ).first()


async def discard_drafts(session: AsyncSession, *, user_id: int) -> None:
    """Forget any programme this person began setting up and left (nothing refers to a
    draft: it has no members, pairs or profiles)."""
    await session.exec(
        delete(Programme).where(
            col(Programme.draft).is_(True), col(Programme.created_by_id) == user_id
        )
    )


async def member_counts(session: AsyncSession, *, programme_id: int) -> dict[str, int]:
    """How many people hold each role in a programme (counts only)."""
    rows = await session.exec(
        select(ProgrammeMember.role, func.count())
        .where(ProgrammeMember.programme_id == programme_id)
        .group_by(col(ProgrammeMember.role))
    )
    return {role: count for role, count in rows}


async def by_code(session: AsyncSession, *, code: str) -> Joining | None:
    """The programme whose mentor, adept or coordinator join code this is."""
    found = (
        await session.exec(
            select(Programme).where(
                (col(Programme.mentor_code) == code)
                | (col(Programme.adept_code) == code)
                | (col(Programme.coordinator_code) == code),
                col(Programme.draft).is_(False),
            )
        )
    ).first()
    if found is None:
        return None
    role = (
        "mentor"
        if found.mentor_code == code
        else "adept"
        if found.adept_code == code
        else "coordinator"
    )
    return Joining(found, role)


async def add_member(
    session: AsyncSession, *, programme_id: int, user_id: int, role: str, now: datetime
) -> None:
    """Idempotent: joining twice in one role changes nothing."""
    dialect = session.get_bind().dialect.name
    statement = (
        upsert_insert(dialect)(ProgrammeMember)
        .values(programme_id=programme_id, user_id=user_id, role=role, joined_at=now)
        .on_conflict_do_nothing(index_elements=["programme_id", "user_id", "role"])
    )
    await session.exec(statement)


async def roles_in(session: AsyncSession, *, programme_id: int, user_id: int) -> set[str]:
    rows = await session.exec(
        select(ProgrammeMember.role).where(
            ProgrammeMember.programme_id == programme_id, ProgrammeMember.user_id == user_id
        )
    )
    return set(rows)


async def programmes_of(session: AsyncSession, *, user_id: int) -> list[tuple[Programme, set[str]]]:
    """Every programme the person is in, with their roles there, oldest programme first."""
    rows = await session.exec(
        select(Programme, ProgrammeMember.role)
        .join(ProgrammeMember, col(ProgrammeMember.programme_id) == col(Programme.id))
        .where(ProgrammeMember.user_id == user_id)
        .order_by(col(Programme.id))
    )
    found: dict[int, tuple[Programme, set[str]]] = {}
    for programme, role in rows:
        assert programme.id is not None
        found.setdefault(programme.id, (programme, set()))[1].add(role)
    return list(found.values())


async def members(session: AsyncSession, *, programme_id: int, roles: frozenset[str]) -> list[User]:
    """The people of a programme holding any of `roles`, each once, in id order."""
    rows = await session.exec(
        select(User)
        .where(
            col(User.id).in_(
                select(ProgrammeMember.user_id).where(
                    ProgrammeMember.programme_id == programme_id,
                    col(ProgrammeMember.role).in_(sorted(roles)),
                )
            )
        )
        .order_by(col(User.id))
    )
    return list(rows)


async def coordinators(session: AsyncSession, *, programme_id: int) -> list[User]:
    return await members(session, programme_id=programme_id, roles=frozenset({"coordinator"}))


async def coordinator_chats(session: AsyncSession) -> list[tuple[int, str]]:
    """Every programme coordinator's Telegram id and language, each once (for their menu)."""
    rows = await session.exec(
        select(User.telegram_id, User.language)
        .where(
            col(User.id).in_(
                select(ProgrammeMember.user_id).where(ProgrammeMember.role == "coordinator")
            ),
            col(User.erased_at).is_(None),
        )
        .order_by(col(User.id))
    )
    return [(int(telegram_id), str(language)) for telegram_id, language in rows]


async def of_mentorship(
    session: AsyncSession, *, mentorship: Mentorship, now: datetime
) -> Programme:
    """The programme a pair belongs to (pairs from before programmes: the default one)."""
    if mentorship.programme_id is not None:
        found = await get(session, programme_id=mentorship.programme_id)
        if found is not None:
            return found
    return await default(session, now=now)


async def save(session: AsyncSession, *items: object) -> None:
    for item in items:
        session.add(item)
    await session.flush()
