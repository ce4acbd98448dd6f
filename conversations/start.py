"""/start: the greeting, in the user's language."""

from __future__ import annotations

from telegram.ext import CommandHandler, filters

from bot.i18n import N_
from conversations import pairing
from conversations.common import Context
from conversations.step import State, Step, step


@step()
async def start(s: Step) -> State:
    if s.context.args:
        # A deep link: t.me/<bot>?start=<invitation code>
        await pairing.show_invitation(s.update, s.context, s.context.args[0])
        return None
    return await s.reply(N_("start.welcome"), next=None, name=s.person.first_name)


def handlers() -> list[CommandHandler[Context, None]]:
    return [CommandHandler("start", start, filters=filters.ChatType.PRIVATE)]
