"""Answers for everything no flow claimed: stray text, unknown commands, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.i18n import t
from conversations.common import Context, message_of, remember_user


async def nothing_to_cancel(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, "common.nothing_to_cancel"))


async def unknown_command(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, "common.unknown_command"))


async def stray_message(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, "common.not_understood"))


async def stale_button(update: Update, context: Context) -> None:
    query = update.callback_query
    assert query is not None
    user = await remember_user(update, context)
    await query.answer(t(user.language, "common.stale_button"), show_alert=True)


def handlers() -> list[BaseHandler[Update, Context, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("cancel", nothing_to_cancel, filters=private),
        MessageHandler(filters.COMMAND & private, unknown_command),
        MessageHandler(private & ~filters.StatusUpdate.ALL, stray_message),
        CallbackQueryHandler(stale_button),
    ]
