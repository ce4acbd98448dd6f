"""Which mentorship a command acts on, when a person has more than one.

A command uses the only open mentorship, or the one chosen last (remembered as
the user's current one). Otherwise it asks with a button per partner; the
button (`ms:pick:<id>:<purpose>`) runs the same command again with the choice.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.domain.mentorship import OPEN_STATES
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from conversations.common import (
    Context,
    answer_button,
    explain,
    raw_keyboard,
    remember_user,
    run,
    say,
)
from storage.mentorships import Pairing
from storage.models import User

NONE_TEXTS = (
    N_("mentorship.none.contract"),
    N_("mentorship.none.decide"),
    N_("mentorship.none.areas"),
    N_("mentorship.none.agree"),
    N_("mentorship.none.switch"),
    N_("mentorship.none.book"),
    N_("mentorship.none.meetings"),
    N_("mentorship.none.close"),
    N_("mentorship.none.end"),
    N_("mentorship.none.extend"),
)
ROLE_NAMES = (N_("role.mentor"), N_("role.adept"))
PICK = re.compile(r"^ms:pick:(\d+):(\w+)$")


def pick_pattern(purpose: str) -> str:
    return rf"^ms:pick:\d+:{purpose}$"


def label(language: str, seen: Pairing) -> str:
    assert seen.partner is not None
    role = t(language, f"role.{seen.partner_membership.role}") if seen.partner_membership else ""
    return f"{pairing.display_name(seen.partner)} ({role})"


async def mentorship(
    update: Update,
    context: Context,
    user: User,
    *,
    purpose: str,
    states: frozenset[str] = OPEN_STATES,
) -> Pairing | None:
    """The mentorship meant, or None after asking (or explaining there is none)."""
    query = update.callback_query
    picked = PICK.match(query.data) if query and query.data else None
    if picked:
        try:
            seen = await run(
                context,
                lambda s: pairing.choose_current(s, user=user, mentorship_id=int(picked[1])),
            )
        except Refused as refusal:
            await explain(update, user, refusal)
            return None
        await answer_button(update)
        if seen.mentorship.state in states and seen.partner is not None:
            return seen
        await say(update, t(user.language, "mentorship.not_now"))
        return None
    choice = await run(context, lambda s: pairing.resolve(s, user=user, states=states))
    if choice.chosen is not None:
        return choice.chosen
    if not choice.options:
        await say(update, t(user.language, f"mentorship.none.{purpose}"))
        return None
    rows = [
        [(label(user.language, seen), f"ms:pick:{seen.mentorship.id}:{purpose}")]
        for seen in choice.options
    ]
    await say(update, t(user.language, "mentorship.which"), raw_keyboard(rows))
    return None


async def switch(update: Update, context: Context) -> None:
    """/switch: pick the mentorship later commands act on."""
    user = await remember_user(update, context)
    choice = await run(context, lambda s: pairing.resolve(s, user=user))
    if not choice.options:
        await say(update, t(user.language, "mentorship.none.switch"))
        return
    rows = [
        [(label(user.language, seen), f"ms:pick:{seen.mentorship.id}:switch")]
        for seen in choice.options
    ]
    await say(update, t(user.language, "mentorship.which"), raw_keyboard(rows))


async def switched(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    seen = await mentorship(update, context, user, purpose="switch")
    if seen is not None:
        await say(update, t(user.language, "mentorship.switched", name=label(user.language, seen)))


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("switch", switch, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(switched, pattern=pick_pattern("switch")),
    ]
