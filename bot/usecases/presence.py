"""Whether a person can be reached: Telegram says so when they block or unblock the bot."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage import mentorships, users


async def blocked(session: AsyncSession, *, telegram_id: int, now: datetime) -> bool:
    """Remember that the person blocked the bot; True if that is news.

    The dispatcher then fails what is queued to them (and tells their partner)
    instead of sending into a 403 first.
    """
    user = await users.get_by_telegram_id(session, telegram_id=telegram_id)
    if user is None or user.blocked_at is not None:
        return False
    user.blocked_at = now
    user.updated_at = now
    await mentorships.save(session, user)
    return True


async def unblocked(session: AsyncSession, *, telegram_id: int, now: datetime) -> bool:
    """The person let the bot write to them again; True if they had blocked it."""
    user = await users.get_by_telegram_id(session, telegram_id=telegram_id)
    if user is None or user.blocked_at is None:
        return False
    user.blocked_at = None
    user.updated_at = now
    await mentorships.save(session, user)
    return True
