"""/support always answers; a problem can be reported to the coordinators after the
person confirms; /stats gives the coordinators counts, never content."""

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

from bot import services
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from bot.usecases import support as usecase
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    keyboard,
    message_of,
    now,
    remember_step,
    remember_user,
    run,
    say,
)
from conversations.help import support_text

log = logging.getLogger("mentorbot.support")

FLOW = "support"
WRITING = "writing"
END = ConversationHandler.END
STATE_NAMES = (
    N_("stats.state.invited"),
    N_("stats.state.intro"),
    N_("stats.state.active"),
    N_("stats.state.closing"),
    N_("stats.state.closed"),
    N_("stats.state.declined"),
    N_("stats.state.ended_early"),
)
REASON_NAMES = (
    N_("closing.reason.chemistry"),
    N_("closing.reason.conditions"),
    N_("closing.reason.confidentiality"),
    N_("closing.reason.other"),
)


async def support(update: Update, context: Context) -> None:
    """Whatever state a person is in, this answers with where to turn."""
    user = await remember_user(update, context)
    settings = services.of(context).settings
    text = "\n\n".join(
        [
            t(user.language, "support.intro"),
            support_text(user.language, settings.coordinator_contact),
        ]
    )
    markup = (
        keyboard(user.language, [[(N_("support.button.report"), "sup:rep")]])
        if settings.admin_ids
        else None
    )
    await say(update, text, markup)


async def ask_report(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    await answer_button(update)
    await remember_step(update, context, FLOW, WRITING)
    await say(update, t(user.language, "support.ask_report"))
    return WRITING


async def typed_report(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        report = await run(
            context, lambda s: usecase.draft_report(s, user=user, text=text, now=now(context))
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return WRITING
    await remember_step(update, context, FLOW, None)
    await say(
        update,
        t(user.language, "support.confirm_report", report=report.text or ""),
        keyboard(
            user.language,
            [
                [(N_("support.button.send"), f"sup:send:{report.id}")],
                [(N_("support.button.discard"), f"sup:drop:{report.id}")],
            ],
        ),
    )
    return END


async def send_report(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    report_id = int(callback_parts(update, 3)[2])
    try:
        report = await run(context, lambda s: usecase.my_report(s, report_id=report_id, user=user))
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    settings = services.of(context).settings
    delivered = 0
    for admin in settings.admin_ids:
        try:
            await context.bot.send_message(
                admin,
                t(
                    "sv" if settings.default_language == "sv" else "en",
                    "support.report_to_coordinator",
                    name=pairing.display_name(user),
                    username=f"@{user.username}" if user.username else "—",
                    user_id=user.telegram_id,
                    report=report.text or "",
                ),
            )
            delivered += 1
        except TelegramError as error:
            log.warning("a coordinator could not be reached: %s", type(error).__name__)
    query = update.callback_query
    assert query is not None
    await query.edit_message_reply_markup(None)
    if delivered:
        await run(context, lambda s: usecase.mark_sent(s, report_id=report_id, now=now(context)))
        await say(update, t(user.language, "support.report_sent"))
    else:
        await say(
            update,
            t(user.language, "support.report_not_sent")
            + "\n\n"
            + support_text(user.language, settings.coordinator_contact),
        )


async def drop_report(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    report_id = int(callback_parts(update, 3)[2])
    try:
        await run(context, lambda s: usecase.discard(s, report_id=report_id, user=user))
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(t(user.language, "support.report_discarded"))


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "support.report_discarded"))
    return END


async def stats(update: Update, context: Context) -> None:
    """/stats for the coordinators in ADMIN_IDS: counts only."""
    user = await remember_user(update, context)
    if user.telegram_id not in services.of(context).settings.admin_ids:
        await say(update, t(user.language, "stats.coordinators_only"))
        return
    found = await run(context, lambda s: usecase.counts(s, now=now(context)))
    language = user.language
    lines = [t(language, "stats.title")]
    for state, count in sorted(found.by_state.items()):
        lines.append(t(language, "stats.line", label=t(language, f"stats.state.{state}"), n=count))
    lines.append(t(language, "stats.meetings", n=found.meetings_last_30_days))
    lines.append(
        t(
            language,
            "stats.checkins",
            n=found.checkins_answered,
            average=f"{found.average_rating:.1f}" if found.average_rating is not None else "—",
        )
    )
    for reason, count in sorted(found.early_end_reasons.items()):
        label = t(language, f"closing.reason.{reason}") if reason != "?" else "?"
        lines.append(t(language, "stats.ended_because", label=label, n=count))
    lines.append(t(language, "stats.reports", n=found.reports_sent))
    await say(update, "\n".join(lines))


def conversation() -> ConversationHandler[Context]:
    return ConversationHandler(
        entry_points=[CallbackQueryHandler(ask_report, pattern=r"^sup:rep$")],
        states={WRITING: [MessageHandler(filters.TEXT & ~filters.COMMAND, typed_report)]},
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("support", support, filters=private),
        CommandHandler("stats", stats, filters=private),
        CallbackQueryHandler(send_report, pattern=r"^sup:send:\d+$"),
        CallbackQueryHandler(drop_report, pattern=r"^sup:drop:\d+$"),
    ]
