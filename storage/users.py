"""Queries about people (keyword-only, each taking the caller's session)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import User
from storage.types import utcnow


async def get_by_telegram_id(session: AsyncSession, *, telegram_id: int) -> User | None:
    result = await session.exec(select(User).where(User.telegram_id == telegram_id))
    return result.first()


async def get(session: AsyncSession, *, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def upsert_from_telegram(
    session: AsyncSession,
    *,
    telegram_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language: str,
    timezone: str,
) -> User:
    """Create the user on first contact; keep names fresh afterwards."""
    user = await get_by_telegram_id(session, telegram_id=telegram_id)
    if user is None:
        return await create_from_telegram(
            session,
            telegram_id=telegram_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language=language,
            timezone=timezone,
        )
    refresh_from_telegram(
        session, user=user, first_name=first_name, last_name=last_name, username=username,
        language=language,
    )  # fmt: skip
    return user


async def create_from_telegram(
    session: AsyncSession,
    *,
    telegram_id: int,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language: str,
    timezone: str,
) -> User:
    user = User(
        telegram_id=telegram_id,
        first_name=first_name[:256] or "?",
        last_name=last_name[:256] if last_name else None,
        username=username,
        language=language,
        timezone=timezone,
    )
    session.add(user)
    await session.flush()
    return user


def refresh_from_telegram(
    session: AsyncSession,
    *,
    user: User,
    first_name: str,
    last_name: str | None,
    username: str | None,
    language: str,
) -> None:
    """Keep what Telegram tells us fresh; nothing is written when nothing changed.

    The language follows Telegram's app language until the person picks one
    in /settings, after which their choice wins.
    """
    changed = False
    for attr, value in (
        ("first_name", first_name[:256] or user.first_name),
        ("last_name", last_name[:256] if last_name else None),
        ("username", username),
    ):
        if getattr(user, attr) != value:
            setattr(user, attr, value)
            changed = True
    if not user.language_chosen and user.language != language:
        user.language = language
        changed = True
    if user.blocked_at is not None:
        # Writing to us means they unblocked the bot.
        user.blocked_at = None
        changed = True
    if changed:
        user.updated_at = utcnow()
        session.add(user)


async def set_language(session: AsyncSession, *, user: User, language: str) -> User:
    user.language = language
    user.language_chosen = True
    user.updated_at = utcnow()
    session.add(user)
    await session.flush()
    return user


async def set_timezone(session: AsyncSession, *, user: User, timezone: str) -> User:
    user.timezone = timezone
    user.updated_at = utcnow()
    session.add(user)
    await session.flush()
    return user


async def mark_blocked(session: AsyncSession, *, telegram_id: int) -> None:
    user = await get_by_telegram_id(session, telegram_id=telegram_id)
    if user is not None and user.blocked_at is None:
        user.blocked_at = utcnow()
        session.add(user)
        await session.flush()
