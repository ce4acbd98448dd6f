"""/start: the greeting, in the user's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler, filters

from bot.i18n import t
from conversations import pairing
from conversations.common import Context, message_of, remember_user


async def start(update: Update, context: Context) -> None:
    if context.args:
        # A deep link: t.me/<bot>?start=<invitation code>
        await pairing.show_invitation(update, context, context.args[0])
        return
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, "start.welcome", name=user.first_name))


def handlers() -> list[CommandHandler[Context, None]]:
    return [CommandHandler("start", start, filters=filters.ChatType.PRIVATE)]
