"""The intro meeting: the adept's areas, both decisions, and mutual confidentiality."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.domain.mentorship import IntroDecision
from bot.i18n import N_, t
from bot.usecases import Refused, intro, pairing
from conversations import choose
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
from storage import mentorships
from storage.models import MentorshipState

FLOW = "intro"
AREAS, REASON = "areas", "reason"
IN_INTRO = frozenset({MentorshipState.INTRO})
END = ConversationHandler.END


async def _intro_mentorship(update: Update, context: Context, purpose: str) -> int | None:
    user = await remember_user(update, context)
    query = update.callback_query
    if query is not None and query.data and query.data.startswith("intro:"):
        mentorship_id = int(query.data.rsplit(":", 1)[1])
        try:
            await run(
                context,
                lambda s: pairing.choose_current(s, user=user, mentorship_id=mentorship_id),
            )
        except Refused as refusal:
            await explain(update, user, refusal)
            return None
        return mentorship_id
    seen = await choose.mentorship(update, context, user, purpose=purpose, states=IN_INTRO)
    return seen.mentorship.id if seen else None


async def ask_areas(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    mentorship_id = await _intro_mentorship(update, context, "areas")
    if mentorship_id is None:
        return ConversationHandler.END
    try:
        await run(context, lambda s: intro.start_areas(s, mentorship_id=mentorship_id, user=user))
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, AREAS)
    await say(update, t(user.language, "intro.ask_areas"))
    return AREAS


async def save_areas(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    mentorship_id = user.current_mentorship_id or 0
    try:
        seen = await run(
            context,
            lambda s: intro.save_areas(
                s, mentorship_id=mentorship_id, user=user, text=text, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return AREAS if refusal.key in {"intro.areas_empty", "intro.areas_too_long"} else END
    await remember_step(update, context, FLOW, None)
    assert seen.partner is not None
    await say(
        update, t(user.language, "intro.areas_saved", name=pairing.display_name(seen.partner))
    )
    return ConversationHandler.END


async def decide_continue(update: Update, context: Context) -> None:
    await _decide(update, context, IntroDecision.CONTINUE)


async def decide_stop(update: Update, context: Context) -> str | int:
    return await _decide(update, context, IntroDecision.STOP)


async def _decide(update: Update, context: Context, decision: str) -> str | int:
    user = await remember_user(update, context)
    mentorship_id = await _intro_mentorship(update, context, "decide")
    if mentorship_id is None:
        return END
    try:
        outcome = await run(
            context,
            lambda s: intro.decide(
                s, mentorship_id=mentorship_id, user=user, decision=decision, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    if decision == IntroDecision.STOP:
        await remember_step(update, context, FLOW, REASON)
        await say(
            update,
            t(user.language, "intro.you_stopped"),
            keyboard(user.language, [[(N_("intro.button.skip_reason"), "intro:skip")]]),
        )
        return REASON
    key = (
        N_("intro.you_continue_both") if outcome.both_continue else N_("intro.you_continue_waiting")
    )
    await say(update, t(user.language, key))
    return END


async def ask_decision(update: Update, context: Context) -> None:
    """/decide: the two buttons for the current mentorship in its intro phase."""
    user = await remember_user(update, context)
    mentorship_id = await _intro_mentorship(update, context, "decide")
    if mentorship_id is None:
        return
    await say(
        update,
        t(user.language, "intro.ask_decision"),
        keyboard(
            user.language,
            [
                [
                    (N_("intro.button.continue"), f"intro:yes:{mentorship_id}"),
                    (N_("intro.button.stop"), f"intro:no:{mentorship_id}"),
                ]
            ],
        ),
    )


async def save_reason(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    mentorship_id = user.current_mentorship_id or 0
    try:
        await run(
            context,
            lambda s: intro.save_private_reason(
                s, mentorship_id=mentorship_id, user=user, reason=text
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "intro.reason_saved"))
    return END


async def skip_reason(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "intro.reason_skipped"))
    return END


async def agree(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    query = update.callback_query
    if query is not None and query.data and query.data.startswith("conf:yes:"):
        mentorship_id: int | None = int(callback_parts(update, 3)[2])
    else:
        seen = await choose.mentorship(update, context, user, purpose="agree", states=IN_INTRO)
        mentorship_id = seen.mentorship.id if seen else None
    if mentorship_id is None:
        return
    try:
        both = await run(
            context,
            lambda s: intro.agree_confidentiality(
                s, mentorship_id=mentorship_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    key = N_("intro.confidentiality_both") if both else N_("intro.confidentiality_waiting")
    await say(update, t(user.language, key))


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "common.cancelled"))
    return END


async def text_needed(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await say(update, t(user.language, "common.text_please"))


async def remind_undecided(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The one reminder to decide after the intro meeting; nothing if already decided."""
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    assert ctx.recipient.id is not None
    seen = await mentorships.pairing(
        ctx.session, mentorship_id=mentorship_id, user_id=ctx.recipient.id
    )
    if (
        seen is None
        or seen.partner is None
        or seen.mentorship.state != MentorshipState.INTRO
        or seen.me.intro_decision is not None
    ):
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "intro.reminder", name=pairing.display_name(seen.partner)),
        buttons=[
            [
                (t(language, "intro.button.continue"), f"intro:yes:{mentorship_id}"),
                (t(language, "intro.button.stop"), f"intro:no:{mentorship_id}"),
            ]
        ],
    )


scheduler.register("intro_decision_reminder", remind_undecided)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[
            CommandHandler("areas", ask_areas, filters=private),
            CallbackQueryHandler(ask_areas, pattern=r"^intro:areas:\d+$"),
            CallbackQueryHandler(ask_areas, pattern=choose.pick_pattern("areas")),
            CallbackQueryHandler(decide_stop, pattern=r"^intro:no:\d+$"),
        ],
        states={
            AREAS: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, save_areas),
                MessageHandler(~filters.COMMAND & ~filters.TEXT, text_needed),
            ],
            REASON: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, save_reason),
                CallbackQueryHandler(skip_reason, pattern=r"^intro:skip$"),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("decide", ask_decision, filters=private),
        CallbackQueryHandler(ask_decision, pattern=choose.pick_pattern("decide")),
        CallbackQueryHandler(decide_continue, pattern=r"^intro:yes:\d+$"),
        CommandHandler("confidentiality", agree, filters=private),
        CallbackQueryHandler(agree, pattern=r"^conf:yes:\d+$"),
        CallbackQueryHandler(agree, pattern=choose.pick_pattern("agree")),
    ]
