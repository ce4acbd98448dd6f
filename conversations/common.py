"""Small helpers shared by the handlers: who is talking, and how to answer."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import CallbackContext

from bot import services
from bot.i18n import normalise_language
from storage import users
from storage.models import User

Context = CallbackContext[Any, Any, Any, Any]

# Telegram's limit, in UTF-16 code units; we split on characters with margin.
MESSAGE_LIMIT = 4096


async def remember_user(update: Update, context: Context) -> User:
    """The stored user behind this update, created or refreshed and committed."""
    tg_user = update.effective_user
    assert tg_user is not None, "handlers are registered for private chats with a sender"
    svc = services.of(context)
    async with svc.db.session() as session:
        return await users.upsert_from_telegram(
            session,
            telegram_id=tg_user.id,
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            username=tg_user.username,
            language=normalise_language(tg_user.language_code, svc.settings.default_language),
            timezone=svc.settings.timezone,
        )


async def remember_step(update: Update, context: Context, flow: str, state: object) -> None:
    """Store where this person stands in `flow` before the bot says so.

    PTB records a conversation's new state only after the callback returns,
    which is after the reply went out; a crash in between would send the
    person back a step although the bot had moved on. Writing the step first
    closes that window. `state=None` records that the flow ended.
    """
    chat, user = update.effective_chat, update.effective_user
    persistence = context.application.persistence
    if chat is None or user is None or persistence is None:
        return
    # ConversationHandler's key with per_chat and per_user (its defaults).
    await persistence.update_conversation(flow, (chat.id, user.id), state)


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MESSAGE_LIMIT - 96) -> list[str]:
    """Cut plain text into pieces Telegram accepts, preferring paragraph and line breaks.

    Telegram measures its limit in UTF-16 units of the parsed text, so this is
    applied to what the user wrote before it is escaped.
    """
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        low, high = 1, len(rest)
        while low < high:  # the longest prefix that fits
            middle = (low + high + 1) // 2
            if utf16_len(rest[:middle]) <= limit:
                low = middle
            else:
                high = middle - 1
        cut = low
        for separator in ("\n\n", "\n", " "):
            position = rest.rfind(separator, 0, cut)
            if position > cut // 2:
                cut = position + len(separator)
                break
        pieces.append(rest[:cut])
        rest = rest[cut:]
    pieces.append(rest)
    return [piece for piece in pieces if piece]
