"""What happens to the chat rather than in it: the bot blocked or unblocked, a message edited.

Both run in `GROUP`, before the flow switch and the flows: an edited message
must never reach a flow, where it would be taken for a new answer (PTB's
message handlers match edits too unless told otherwise).
"""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.constants import ChatType
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    ChatMemberHandler,
    MessageHandler,
    filters,
)

from bot.i18n import N_, t
from bot.usecases import presence
from conversations.common import Context, message_of, now, remember_user, run

log = logging.getLogger("mentorbot.chat_member")

# Before `bot.app.FLOW_SWITCH_GROUP` (-10), which would otherwise let an edited
# command start a flow.
GROUP = -20
EDIT_NOT_PICKED_UP = N_("common.edit_not_picked_up")


async def membership_changed(update: Update, context: Context) -> None:
    """Status "kicked" in a private chat: the person blocked the bot; "member": they
    are back (Telegram sends it when they unblock or restart the bot)."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    status = change.new_chat_member.status
    telegram_id = change.chat.id
    moment = now(context)
    if status == ChatMember.BANNED:
        change_to, word = presence.blocked, "blocked"
    elif status == ChatMember.MEMBER:
        change_to, word = presence.unblocked, "unblocked"
    else:
        return
    if await run(context, lambda session: change_to(session, telegram_id=telegram_id, now=moment)):
        log.info("a person %s the bot (update %s)", word, update.update_id)


async def edited(update: Update, context: Context) -> None:
    """An edit is not a new answer: say so, and let no flow see it."""
    user = await remember_user(update, context)
    await message_of(update).reply_text(t(user.language, EDIT_NOT_PICKED_UP))
    raise ApplicationHandlerStop


def handlers() -> list[BaseHandler[Update, Context, None]]:
    return [
        ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER),
        MessageHandler(filters.UpdateType.EDITED & filters.ChatType.PRIVATE, edited),
    ]
