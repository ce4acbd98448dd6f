"""/start: the greeting, in the user's language; with a deep link, an invitation
(t.me/<bot>?start=<code>) or a programme's join link (start=j<code>)."""

from __future__ import annotations

from telegram.ext import CommandHandler, filters

from bot.domain.programmes import join_code
from bot.i18n import N_
from conversations import pairing, programmes
from conversations.common import Context
from conversations.step import State, Step, step


@step()
async def start(s: Step) -> State:
    if s.context.args:
        payload = s.context.args[0]
        code = join_code(payload)
        if code is not None:
            await programmes.show_join(s.update, s.context, code)
            return None
        # A deep link: t.me/<bot>?start=<invitation code>
        await pairing.show_invitation(s.update, s.context, payload)
        return None
    return await s.reply(N_("start.welcome"), next=None, name=s.person.first_name)


def handlers() -> list[CommandHandler[Context, None]]:
    return [CommandHandler("start", start, filters=filters.ChatType.PRIVATE)]
