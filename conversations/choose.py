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
from conversations.common import Context, answer_button, explain, raw_keyboard
from conversations.step import State, Step, step
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
    """The mentorship meant, or None after asking (or explaining there is none).

    Every flow calls this, whatever its shape, so a refused pick is explained
    here rather than raised: callers only ever handle None.
    """
    s = Step(update, context, None, user)
    query = update.callback_query
    picked = PICK.match(query.data) if query and query.data else None
    if picked:
        try:
            seen = await s.do(pairing.choose_current, user=user, mentorship_id=int(picked[1]))
        except Refused as refusal:
            await explain(update, user, refusal)
            return None
        if seen.mentorship.state in states and seen.partner is not None:
            await answer_button(update)
            return seen
        await s.say(s.t(N_("mentorship.not_now")))
        return None
    choice = await s.do(pairing.resolve, user=user, states=states)
    if choice.chosen is not None:
        return choice.chosen
    if not choice.options:
        await s.say(s.t(f"mentorship.none.{purpose}"))
        return None
    await _ask_which(s, choice.options, purpose)
    return None


async def _ask_which(s: Step, options: list[Pairing], purpose: str) -> None:
    """A button per partner; pressing one runs the `purpose` command again with the choice."""
    rows = [
        [(label(s.language, seen), f"ms:pick:{seen.mentorship.id}:{purpose}")] for seen in options
    ]
    await s.say(s.t(N_("mentorship.which")), raw_keyboard(rows))


@step()
async def switch(s: Step) -> State:
    """/switch: pick the mentorship later commands act on."""
    choice = await s.do(pairing.resolve, user=s.person)
    if not choice.options:
        return await s.reply(N_("mentorship.none.switch"), next=None)
    await _ask_which(s, choice.options, "switch")
    return None


@step()
async def switched(s: Step) -> State:
    seen = await mentorship(s.update, s.context, s.person, purpose="switch")
    if seen is None:
        return None
    return await s.reply(N_("mentorship.switched"), next=None, name=label(s.language, seen))


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("switch", switch, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(switched, pattern=pick_pattern("switch")),
    ]
