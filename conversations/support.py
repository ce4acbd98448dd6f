"""/support always answers; a problem can be reported to the coordinators, or a coordinator
asked to get in touch, after the person confirms (the coordinators' /stats lives in
`conversations/stats.py`).

Also here, as they all lead to the same help: "I'm worried about the other person"
(`sup:worry`), the code of conduct (`sup:coc`), and the private signals the bot sends
on its own (the chemistry check, `sup:chem:<mentorship>:<good|unsure|end>`, and the
word about a meeting changed inside the agreed notice)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler, services
from bot.i18n import N_, t
from bot.usecases import pairing, signals
from bot.usecases import programmes as programmes_uc
from bot.usecases import support as usecase
from conversations.common import Context, answer_button, keyboard
from conversations.help import (
    conduct_text,
    coordinator_contact,
    programme_texts,
    support_text,
    where_to_turn,
)
from conversations.step import END, State, Step, step
from storage.models import SupportReport, User

log = logging.getLogger("mentorbot.support")

FLOW = "support"
WRITING = "writing"


@step()
async def support(s: Step) -> State:
    """Whatever state a person is in, this answers with where to turn."""
    settings = services.of(s.context).settings
    texts = await programme_texts(s)
    text = "\n\n".join([s.t(N_("support.intro")), where_to_turn(s.language, settings, texts)])
    rows = [
        [(N_("support.button.worried"), "sup:worry")],
        [(N_("conduct.button"), "sup:coc")],
    ]
    rows += await _coordinator_buttons(s)
    await s.say(text, keyboard(s.language, rows))
    return None


@step()
async def worried(s: Step) -> State:
    """Worry about the other person: the coordinator first, and the numbers for when it
    cannot wait. Nothing is recorded and nobody is told."""
    settings = services.of(s.context).settings
    texts = await programme_texts(s)
    text = "\n\n".join([s.t(N_("support.worried")), where_to_turn(s.language, settings, texts)])
    await s.say(text)
    return None


@step()
async def conduct(s: Step) -> State:
    texts = await programme_texts(s)
    await s.say(conduct_text(s.language, services.of(s.context).settings, texts))
    return None


# -- signals the bot sends on its own ---------------------------------------------------------

CHEMISTRY_REPLIES = {
    "good": N_("signals.chemistry.good"),
    "unsure": N_("signals.chemistry.unsure"),
    "end": N_("signals.chemistry.end"),
}
CHEMISTRY_BUTTONS = (
    ("good", N_("signals.chemistry.button.good")),
    ("unsure", N_("signals.chemistry.button.unsure")),
    ("end", N_("signals.chemistry.button.end")),
)


async def render_chemistry(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    seen = await signals.chemistry_wanted(
        ctx.session, mentorship_id=mentorship_id, user=ctx.recipient
    )
    if seen is None or seen.partner is None:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "signals.chemistry.ask", name=pairing.display_name(seen.partner)),
        buttons=[
            [(t(language, label), f"sup:chem:{mentorship_id}:{answer}")]
            for answer, label in CHEMISTRY_BUTTONS
        ],
    )


@step()
async def chemistry_answered(s: Step) -> State:
    _, _, mentorship_id, answer = s.parts(4)
    seen = await s.do(
        signals.chemistry_answer, mentorship_id=int(mentorship_id), user=s.person, answer=answer
    )
    assert seen.partner is not None
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    name = pairing.display_name(seen.partner)
    text = s.t(CHEMISTRY_REPLIES[answer], name=name)
    if answer != "good":
        contact = await coordinator_contact(s)
        text += "\n\n" + support_text(s.language, contact)
    await s.say(text)
    return None


async def render_short_notice(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The gentle word to whoever called a meeting off later than agreed; nothing if the
    meeting is not theirs any more."""
    seen = await signals.short_notice_view(
        ctx.session, meeting_id=int(ctx.notification.payload["meeting_id"]), user=ctx.recipient
    )
    notice = str(ctx.notification.payload.get("notice") or "")
    if seen is None or seen.partner is None or notice not in signals.NOTICE_NAMES:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "signals.short_notice",
            name=pairing.display_name(seen.partner),
            notice=t(language, signals.NOTICE_NAMES[notice]),
        )
    )


scheduler.register(signals.CHEMISTRY_KIND, render_chemistry)
scheduler.register(signals.SHORT_NOTICE_KIND, render_short_notice)


@step(FLOW)
async def ask_report(s: Step) -> State:
    return await s.reply(N_("support.ask_report"), next=WRITING)


@step(FLOW)
async def typed_report(s: Step) -> State:
    report = await s.do(usecase.draft_report, user=s.person, text=s.text, now=s.now)
    buttons = [
        [(N_("support.button.send"), f"sup:send:{report.id}")],
        [(N_("support.button.discard"), f"sup:drop:{report.id}")],
    ]
    return await s.reply(
        N_("support.confirm_report"),
        next=END,
        markup=keyboard(s.language, buttons),
        report=report.text or "",
    )


async def _coordinator_buttons(s: Step) -> list[list[tuple[str, str]]]:
    """Report a problem, ask to be contacted: offered when someone would receive them."""
    reachable = await s.do(
        usecase.can_reach_coordinator,
        user=s.person,
        super_coordinators=services.of(s.context).settings.admin_ids,
        now=s.now,
    )
    if not reachable:
        return []
    return [
        [(N_("support.button.report"), "sup:rep")],
        [(N_("support.button.contact"), "sup:contact")],
    ]


def _username(user: User, language: str) -> str:
    return f"@{user.username}" if user.username else t(language, N_("support.no_username"))


@step()
async def ask_contact(s: Step) -> State:
    """What the coordinator would get, exactly, before anything is sent."""
    draft = await s.do(usecase.draft_contact, user=s.person, now=s.now)
    buttons = [
        [(N_("support.button.send"), f"sup:send:{draft.report.id}")],
        [(N_("support.button.discard"), f"sup:drop:{draft.report.id}")],
    ]
    return await s.reply(
        N_("support.confirm_contact"),
        next=None,
        markup=keyboard(s.language, buttons),
        name=pairing.display_name(s.person),
        username=_username(s.person, s.language),
        programme=programmes_uc.name_of(draft.programme, s.language),
    )


async def _tell_coordinators(s: Step, report: SupportReport) -> int:
    """Send the report or contact request to the coordinators of its programme (else the
    super-coordinators), each in their language; how many it reached."""
    settings = services.of(s.context).settings
    user = s.person
    found = await s.do(
        usecase.recipients,
        programme_id=report.programme_id,
        super_coordinators=settings.admin_ids,
        default_language=settings.default_language,
    )
    programme = await s.do(usecase.programme_named, report=report)
    delivered = 0
    for recipient in found:
        language = recipient.language
        key = (
            N_("support.contact_to_coordinator")
            if report.kind == usecase.CONTACT
            else N_("support.report_to_coordinator")
        )
        text = t(
            language,
            key,
            name=pairing.display_name(user),
            username=_username(user, language),
            user_id=user.telegram_id,
            report=report.text or "",
            programme=programmes_uc.name_of(programme, language) if programme else "—",
        )
        try:
            await s.context.bot.send_message(recipient.telegram_id, text)
            delivered += 1
        except TelegramError as error:
            log.warning("a coordinator could not be reached: %s", type(error).__name__)
    return delivered


@step()
async def send_report(s: Step) -> State:
    report_id = int(s.parts(3)[2])
    report = await s.do(usecase.my_report, report_id=report_id, user=s.person)
    await answer_button(s.update)
    delivered = await _tell_coordinators(s, report)
    query = s.update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    if delivered:
        kind = report.kind
        await s.do(usecase.mark_sent, report_id=report_id, now=s.now)
        sent = N_("support.contact_sent") if kind == usecase.CONTACT else N_("support.report_sent")
        return await s.reply(sent, next=None)
    contact = services.of(s.context).settings.coordinator_contact
    await s.say(s.t(N_("support.report_not_sent")) + "\n\n" + support_text(s.language, contact))
    return None


@step()
async def drop_report(s: Step) -> State:
    await s.do(usecase.discard, report_id=int(s.parts(3)[2]), user=s.person)
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(s.t(N_("support.report_discarded")))
    return None


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("support.report_discarded"), next=END)


def conversation() -> ConversationHandler[Context]:
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_report, pattern=r"^sup:rep$")],
        states={WRITING: [MessageHandler(filters.TEXT & ~filters.COMMAND, typed_report)]},
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("support", support, filters=private),
        CallbackQueryHandler(send_report, pattern=r"^sup:send:\d+$"),
        CallbackQueryHandler(drop_report, pattern=r"^sup:drop:\d+$"),
        CallbackQueryHandler(ask_contact, pattern=r"^sup:contact$"),
        CallbackQueryHandler(worried, pattern=r"^sup:worry$"),
        CallbackQueryHandler(conduct, pattern=r"^sup:coc$"),
        CallbackQueryHandler(chemistry_answered, pattern=r"^sup:chem:\d{1,18}:(good|unsure|end)$"),
    ]
