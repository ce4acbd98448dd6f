"""Answers for everything no flow claimed: stray text, unknown commands, stale buttons."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.i18n import N_
from conversations.common import Context
from conversations.step import State, Step, step


@step()
async def nothing_to_cancel(s: Step) -> State:
    return await s.reply(N_("common.nothing_to_cancel"), next=None)


@step()
async def unknown_command(s: Step) -> State:
    return await s.reply(N_("common.unknown_command"), next=None)


@step()
async def stray_message(s: Step) -> State:
    return await s.reply(N_("common.not_understood"), next=None)


@step()
async def stale_button(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None
    # An alert, not a toast: the press did nothing, and the person should notice.
    await query.answer(s.t(N_("common.stale_button")), show_alert=True)
    return None


def handlers() -> list[BaseHandler[Update, Context, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("cancel", nothing_to_cancel, filters=private),
        MessageHandler(filters.COMMAND & private, unknown_command),
        MessageHandler(private & ~filters.StatusUpdate.ALL, stray_message),
        CallbackQueryHandler(stale_button),
    ]
