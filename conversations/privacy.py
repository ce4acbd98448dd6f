"""/mydata and /deleteme: a person's own data in their hands; and the retention job that
erases the texts of mentorships closed long ago, after one reminder.

Buttons: `priv:erase:<user>:<minute>` (the first confirmation; re-checked against
the presser and its age), `priv:keep` (changed my mind). Erasing needs that
button and then the confirmation word typed in the person's language; anything
else leaves everything as it was.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InputFile, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.domain import privacy as rules
from bot.i18n import N_, t
from bot.usecases import privacy as usecase
from bot.usecases.pairing import display_name
from conversations.common import Context, answer_button, keyboard
from conversations.step import END, State, Step, step
from storage.db import Database

log = logging.getLogger("mentorbot.privacy")

FLOW = "privacy"
CONFIRMING, TYPING = "confirming", "typing"
# Mentorships per transaction in the retention job: short transactions, never one over all.
BATCH = 100


# -- /mydata -----------------------------------------------------------------------------------


def _file(content: bytes, name: str, mime: str) -> InputFile:
    document = InputFile(content, filename=name)
    document.mimetype = mime
    return document


@step()
async def my_data(s: Step) -> State:
    """Everything stored about this person, as JSON and as a readable page."""
    data = await s.do(usecase.export, user=s.person, now=s.now)
    stamp = s.now.astimezone(ZoneInfo(s.person.timezone)).date().isoformat()
    chat = s.update.effective_chat
    assert chat is not None
    await s.say(s.t(N_("privacy.export.sending")))
    await chat.send_document(
        _file(rules.to_json(data), f"mentorbot-{stamp}.json", "application/json"),
        caption=s.t(N_("privacy.export.json_caption")),
    )
    await chat.send_document(
        _file(rules.to_html(data, s.language), f"mentorbot-{stamp}.html", "text/html"),
        caption=s.t(N_("privacy.export.html_caption")),
    )
    return None


# -- /deleteme ---------------------------------------------------------------------------------


def _minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60


@step(FLOW)
async def ask_erase(s: Step) -> State:
    """/deleteme: what erasing means (naming what it would end), and the first confirmation."""
    pairings = await s.do(usecase.open_pairings, user=s.person)
    partners = [display_name(p.partner) for p in pairings if p.partner is not None]
    text = s.t(N_("privacy.erase.explain"))
    if partners:
        text += "\n\n" + s.t(N_("privacy.erase.will_end"), names=", ".join(partners))
    buttons = keyboard(
        s.language,
        [
            [(N_("privacy.erase.button.confirm"), f"priv:erase:{s.person.id}:{_minute(s.now)}")],
            [(N_("privacy.erase.button.keep"), "priv:keep")],
        ],
    )
    await s.goto(CONFIRMING)
    await s.say(text, buttons)
    return CONFIRMING


@step(FLOW)
async def confirmed(s: Step) -> State:
    """The button: now the word. A button from someone else's or an old /deleteme does nothing."""
    _, _, user_id, minute = s.parts(4)
    issued = datetime.fromtimestamp(int(minute) * 60, UTC)
    await s.do(usecase.check_button, user=s.person, user_id=int(user_id), issued=issued, now=s.now)
    query = s.update.callback_query
    assert query is not None
    await s.goto(TYPING)
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    word = s.t(rules.CONFIRMATION_WORD)
    return await s.reply(N_("privacy.erase.type_word"), next=TYPING, word=word)


@step(FLOW)
async def typed_word(s: Step) -> State:
    ended = await s.do(usecase.erase_confirmed, user=s.person, typed=s.text, now=s.now)
    log.info("a person erased their data; %d mentorship(s) ended", ended)
    return await s.reply(N_("privacy.erase.done"), next=END)


@step(FLOW)
async def keep(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None
    await s.goto(END)
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    return await s.reply(N_("privacy.erase.kept"), next=END)


@step(FLOW)
async def not_now(s: Step) -> State:
    """/cancel inside the flow: nothing is erased."""
    return await s.reply(N_("privacy.erase.kept"), next=END)


@step(FLOW)
async def use_the_button(s: Step) -> State:
    return await s.reply(N_("privacy.erase.use_button"), next=CONFIRMING)


# -- retention ---------------------------------------------------------------------------------


async def render_reminder(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    months = ctx.settings.retention_months
    found = await usecase.reminder(
        ctx.session,
        mentorship_id=int(ctx.notification.payload["mentorship_id"]),
        user=ctx.recipient,
        months=months,
    )
    if found is None:
        return None
    zone = ZoneInfo(ctx.recipient.timezone)
    return scheduler.Outgoing(
        text=t(
            ctx.recipient.language,
            "privacy.retention.reminder",
            name=display_name(found.partner),
            ended=found.ended.astimezone(zone).date(),
            purge=found.purge_on.astimezone(zone).date(),
        )
    )


scheduler.register(usecase.REMINDER_KIND, render_reminder)


async def run_retention(
    db: Database, *, now: datetime, months: int, batch: int = BATCH
) -> tuple[int, int]:
    """Reminders, then purges, each `batch` mentorships to a transaction; (reminded, purged)."""
    reminded = purged = 0
    while True:
        async with db.session() as session:
            done = await usecase.remind_batch(session, now=now, months=months, limit=batch)
        reminded += done
        if done < batch:
            break
    while True:
        async with db.session() as session:
            done = await usecase.purge_batch(session, now=now, months=months, limit=batch)
        purged += done
        if done < batch:
            break
    return reminded, purged


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    erase = CallbackQueryHandler(confirmed, pattern=r"^priv:erase:\d{1,18}:\d{1,18}$")
    keep_button = CallbackQueryHandler(keep, pattern=r"^priv:keep$")
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        CONFIRMING: [erase, keep_button, MessageHandler(text, use_the_button)],
        TYPING: [erase, keep_button, MessageHandler(text, typed_word)],
    }
    return ConversationHandler(
        entry_points=[CommandHandler("deleteme", ask_erase, filters=private)],
        states=states,
        fallbacks=[CommandHandler("cancel", not_now)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CommandHandler("mydata", my_data, filters=filters.ChatType.PRIVATE),
        # "Keep my data" under an old question still answers kindly.
        CallbackQueryHandler(keep, pattern=r"^priv:keep$"),
    ]
