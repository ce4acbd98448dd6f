"""/start: the greeting, in the user's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.i18n import t
from conversations.common import Context, message_of, remember_user


async def start(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, "start.welcome", name=user.first_name))


def handlers() -> list[CommandHandler[Context, None]]:
    return [CommandHandler("start", start, filters=filters.ChatType.PRIVATE)]
