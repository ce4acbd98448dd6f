"""/close, /end and /extend: closing on time with feedback from both, ending early
respectfully, extending the planned end; and the look-back when it closes."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import lookback, scheduler, services
from bot.domain import closing as rules
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from bot.usecases import closing as usecase
from conversations import choose
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    keyboard,
    message_of,
    now,
    raw_keyboard,
    remember_step,
    remember_user,
    run,
    say,
    use_buttons,
)
from conversations.help import support_text
from storage import mentorships
from storage.models import ClosingFeedback, MentorshipState, User

FLOW = "closing"
END = ConversationHandler.END
GOAL, VALUABLE, BETTER, RATING, TOUCH, SHARE = (
    "goal",
    "most_valuable",
    "could_be_better",
    "rating",
    "stay_in_touch",
    "share",
)
STATE_OF_STEP = {
    "goals": GOAL,
    "most_valuable": VALUABLE,
    "could_be_better": BETTER,
    "rating": RATING,
    "stay_in_touch": TOUCH,
    "share": SHARE,
}
QUESTION = {
    GOAL: N_("closing.ask.goal"),
    VALUABLE: N_("closing.ask.most_valuable"),
    BETTER: N_("closing.ask.could_be_better"),
    RATING: N_("closing.ask.rating"),
    TOUCH: N_("closing.ask.stay_in_touch"),
    SHARE: N_("closing.ask.share"),
}
OUTCOME_BUTTONS = (
    ("reached", N_("lookback.outcome.reached")),
    ("partly", N_("lookback.outcome.partly")),
    ("not", N_("lookback.outcome.not")),
)
ENDABLE = usecase.ENDABLE
CLOSABLE = frozenset({MentorshipState.ACTIVE, MentorshipState.CLOSING})
ACTIVE = frozenset({MentorshipState.ACTIVE})


# -- ending early ------------------------------------------------------------------------------


async def ask_end(update: Update, context: Context) -> None:
    """/end: why (kept private), then a confirmation."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="end", states=ENDABLE)
    if seen is None or seen.partner is None:
        return
    rows = [
        [(reason_key, f"cl:why:{seen.mentorship.id}:{reason}")]
        for reason, reason_key in zip(rules.END_REASONS, usecase.REASON_TEXTS, strict=True)
    ]
    await say(
        update,
        t(user.language, "closing.ask_reason", name=pairing.display_name(seen.partner)),
        keyboard(user.language, rows),
    )


async def confirm_end(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    _, _, mentorship_id, reason = callback_parts(update, 4)
    try:
        seen = await run(
            context,
            lambda s: pairing.member_view(s, mentorship_id=int(mentorship_id), user=user),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    assert seen.partner is not None
    await say(
        update,
        t(user.language, "closing.confirm_end", name=pairing.display_name(seen.partner)),
        keyboard(
            user.language,
            [
                [(N_("closing.button.end"), f"cl:end:{mentorship_id}:{reason}")],
                [(N_("closing.button.keep_going"), "cl:keep")],
            ],
        ),
    )


async def end(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    _, _, mentorship_id, reason = callback_parts(update, 4)
    try:
        seen = await run(
            context,
            lambda s: usecase.end_early(
                s, mentorship_id=int(mentorship_id), user=user, reason=reason, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    query = update.callback_query
    assert query is not None and seen.partner is not None
    await query.edit_message_reply_markup(None)
    text = t(user.language, "closing.you_ended", name=pairing.display_name(seen.partner))
    if rules.coordinator_at_once(reason):
        text += "\n\n" + support_text(
            user.language, services.of(context).settings.coordinator_contact
        )
    await say(
        update,
        text,
        keyboard(user.language, [[(N_("closing.button.feedback"), f"cl:fb:{mentorship_id}")]]),
    )


async def keep_going(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await answer_button(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(t(user.language, "closing.kept"))


# -- closing on time ---------------------------------------------------------------------------


async def ask_close(update: Update, context: Context) -> str | int:
    """/close: start closing (with a confirmation), or continue one's closing feedback."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="close", states=CLOSABLE)
    if seen is None or seen.mentorship.id is None or seen.partner is None:
        return END
    if seen.mentorship.state == MentorshipState.CLOSING:
        return await _next_question(update, context, user, seen.mentorship.id)
    await say(
        update,
        t(user.language, "closing.confirm_close", name=pairing.display_name(seen.partner)),
        keyboard(
            user.language,
            [
                [(N_("closing.button.start_closing"), f"cl:go:{seen.mentorship.id}")],
                [(N_("closing.button.not_yet"), "cl:keep")],
            ],
        ),
    )
    return END


async def start_closing(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    mentorship_id = int(callback_parts(update, 3)[2])
    try:
        seen = await run(
            context,
            lambda s: usecase.start_closing(
                s, mentorship_id=mentorship_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    assert seen.partner is not None
    key = N_("closing.started_adept") if seen.me.role == "adept" else N_("closing.started_mentor")
    await say(update, t(user.language, key, name=pairing.display_name(seen.partner)))
    return await _next_question(update, context, user, mentorship_id)


# -- closing feedback --------------------------------------------------------------------------


async def _next_question(
    update: Update, context: Context, user: User, mentorship_id: int
) -> str | int:
    """Ask the first unanswered part of this person's closing feedback."""
    try:
        feedback, assessed, seen = await run(
            context,
            lambda s: usecase.my_feedback(
                s, mentorship_id=mentorship_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    step, goal_id = rules.next_step(feedback, [g.id for g, _ in assessed if g.id])
    if step == "done":
        await remember_step(update, context, FLOW, None)
        await say(update, t(user.language, "closing.feedback_done"))
        return END
    state = STATE_OF_STEP[step]
    await remember_step(update, context, FLOW, state)
    assert seen.partner is not None
    partner = pairing.display_name(seen.partner)
    if state == GOAL:
        revision = next(r for g, r in assessed if g.id == goal_id)
        goal_text = (revision.specific if revision else None) or "—"
        await say(
            update,
            t(user.language, QUESTION[GOAL], goal=goal_text),
            keyboard(
                user.language,
                [[(key, f"cl:g:{goal_id}:{outcome}")] for outcome, key in OUTCOME_BUTTONS],
            ),
        )
    elif state == RATING:
        await say(
            update,
            t(user.language, QUESTION[RATING], name=partner),
            raw_keyboard([[(str(n), f"cl:r:{n}") for n in range(1, 6)]]),
        )
    elif state in (TOUCH, SHARE):
        prefix = "cl:t" if state == TOUCH else "cl:s"
        await say(
            update,
            t(user.language, QUESTION[state], name=partner),
            keyboard(
                user.language,
                [
                    [
                        (N_("closing.button.yes"), f"{prefix}:yes"),
                        (N_("closing.button.no"), f"{prefix}:no"),
                    ]
                ],
            ),
        )
    else:
        await say(update, t(user.language, QUESTION[state], name=partner))
    return state


async def open_feedback(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    mentorship_id = int(callback_parts(update, 3)[2])
    await answer_button(update)
    return await _next_question(update, context, user, mentorship_id)


def _answer(step: str) -> Callable[[Update, Context], Coroutine[Any, Any, str | int]]:
    async def handle(update: Update, context: Context) -> str | int:
        user = await remember_user(update, context)
        mentorship_id = user.current_mentorship_id or 0
        query = update.callback_query
        goal_id: int | None = None
        if query is not None and query.data is not None:
            parts = query.data.split(":")
            if step == "goals":
                goal_id, value = int(parts[2]), parts[3]
            else:
                value = parts[2]
        else:
            value = message_of(update).text or ""
        try:
            feedback: ClosingFeedback = await run(
                context,
                lambda s: usecase.answer(
                    s,
                    mentorship_id=mentorship_id,
                    user=user,
                    step=step,
                    value=value,
                    goal_id=goal_id,
                    now=now(context),
                ),
            )
        except Refused as refusal:
            await explain(update, user, refusal)
            if refusal.key in ("closing.too_long", "common.text_please", "closing.rating_buttons"):
                return STATE_OF_STEP[step]
            return await _next_question(update, context, user, mentorship_id)
        await answer_button(update)
        if feedback.submitted_at is not None:
            key = N_("closing.submitted_shared") if feedback.shared else N_("closing.submitted")
            await say(update, t(user.language, key))
        return await _next_question(update, context, user, mentorship_id)

    return handle


async def pause(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "closing.paused"))
    return END


# -- extending ---------------------------------------------------------------------------------


async def ask_extension(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="extend", states=ACTIVE)
    if seen is None or seen.mentorship.id is None:
        return
    await say(
        update,
        t(user.language, "closing.ask_extension", end=seen.mentorship.planned_end or "—"),
        raw_keyboard(
            [
                [
                    (
                        t(user.language, "contract.value.months", n=n),
                        f"cl:ext:{seen.mentorship.id}:{n}",
                    )
                    for n in rules.EXTEND_MONTHS
                ]
            ]
        ),
    )


async def propose_extension(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    _, _, mentorship_id, months = callback_parts(update, 4)
    try:
        proposed = await run(
            context,
            lambda s: usecase.propose_extension(
                s, mentorship_id=int(mentorship_id), user=user, months=int(months), now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    await say(update, t(user.language, "closing.extension_sent", end=proposed))


async def answer_extension(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    agree = parts[1] == "xok"
    mentorship_id = int(parts[2])
    months = int(parts[3]) if agree else None
    stamp = parts[4] if agree else None
    proposer = int(parts[-1])
    try:
        result = await run(
            context,
            lambda s: usecase.answer_extension(
                s,
                mentorship_id=mentorship_id,
                user=user,
                months=months,
                stamp=stamp,
                proposer_id=proposer,
                now=now(context),
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    await query.edit_message_reply_markup(None)
    if result is None:
        await say(update, t(user.language, "closing.extension_kept"))


# -- what the outbox sends ---------------------------------------------------------------------


async def render_prompt(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    seen = await mentorships.pairing(
        ctx.session, mentorship_id=mentorship_id, user_id=ctx.recipient.id or 0
    )
    if seen is None or seen.partner is None or seen.mentorship.state != MentorshipState.ACTIVE:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(
            language,
            "closing.prompt",
            name=pairing.display_name(seen.partner),
            end=seen.mentorship.planned_end or "—",
        ),
        buttons=[
            [(t(language, "meetings.button.book"), f"ms:pick:{mentorship_id}:book")],
            [(t(language, "closing.button.start_closing"), f"cl:go:{mentorship_id}")],
        ],
    )


async def render_shared_feedback(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    feedback = await ctx.session.get(ClosingFeedback, ctx.notification.payload["feedback_id"])
    if feedback is None or not feedback.shared:
        return None
    author = await ctx.session.get(User, feedback.user_id)
    if author is None:
        return None
    language = ctx.recipient.language
    touch = N_("closing.button.yes") if feedback.stay_in_touch else N_("closing.button.no")
    return scheduler.Outgoing(
        text=t(
            language,
            "closing.feedback_from_partner",
            name=pairing.display_name(author),
            most_valuable=feedback.most_valuable or "—",
            could_be_better=feedback.could_be_better or "—",
            rating=feedback.rating or "—",
            stay_in_touch=t(language, touch),
        )
    )


async def _summary(ctx: scheduler.RenderContext) -> lookback.Summary | None:
    return await lookback.gather(
        ctx.session,
        mentorship_id=int(ctx.notification.payload["mentorship_id"]),
        user=ctx.recipient,
        now=ctx.now,
    )


def _chart(summary: lookback.Summary, language: str) -> bytes | None:
    if not any(summary.ratings.values()):
        return None
    from bot.domain.charts import ratings_chart

    return ratings_chart(
        summary.ratings, title=t(language, "lookback.chart_title"), language=language
    )


async def render_lookback_text(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    summary = await _summary(ctx)
    if summary is None:
        return None
    return scheduler.Outgoing(text=lookback.message(summary, ctx.recipient.language))


async def render_lookback_chart(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    summary = await _summary(ctx)
    if summary is None:
        return None
    png = _chart(summary, ctx.recipient.language)
    if png is None:
        return None
    return scheduler.Outgoing(text=t(ctx.recipient.language, "lookback.chart_caption"), photo=png)


async def render_lookback_document(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    summary = await _summary(ctx)
    if summary is None:
        return None
    language = ctx.recipient.language
    content = lookback.document(summary, language, _chart(summary, language))
    return scheduler.Outgoing(
        text=t(language, "lookback.document_caption"),
        document=("mentorship-look-back.html", content, "text/html"),
    )


for _kind, _renderer in (
    ("closing_prompt", render_prompt),
    ("closing_feedback_shared", render_shared_feedback),
    ("lookback_text", render_lookback_text),
    ("lookback_chart", render_lookback_chart),
    ("lookback_document", render_lookback_document),
):
    scheduler.register(_kind, _renderer)


async def closing_job(context: Context) -> None:
    """Hourly: the closing prompt before the planned end, and closing after two weeks."""
    svc = services.of(context)
    async with svc.db.session() as session:
        changed = await usecase.plan_closing(session, now=svc.clock.now(), zone=svc.settings.zone)
    if changed:
        scheduler.kick(context.application)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        GOAL: [
            CallbackQueryHandler(_answer("goals"), pattern=r"^cl:g:\d+:(reached|partly|not)$"),
            MessageHandler(text, use_buttons),
        ],
        VALUABLE: [MessageHandler(text, _answer("most_valuable"))],
        BETTER: [MessageHandler(text, _answer("could_be_better"))],
        RATING: [
            CallbackQueryHandler(_answer("rating"), pattern=r"^cl:r:[1-5]$"),
            MessageHandler(text, use_buttons),
        ],
        TOUCH: [
            CallbackQueryHandler(_answer("stay_in_touch"), pattern=r"^cl:t:(yes|no)$"),
            MessageHandler(text, use_buttons),
        ],
        SHARE: [
            CallbackQueryHandler(_answer("share"), pattern=r"^cl:s:(yes|no)$"),
            MessageHandler(text, use_buttons),
        ],
    }
    return ConversationHandler(
        entry_points=[
            CommandHandler("close", ask_close, filters=private),
            CallbackQueryHandler(ask_close, pattern=choose.pick_pattern("close")),
            CallbackQueryHandler(start_closing, pattern=r"^cl:go:\d+$"),
            CallbackQueryHandler(open_feedback, pattern=r"^cl:fb:\d+$"),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", pause)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    reasons = "|".join(rules.END_REASONS)
    return [
        CommandHandler("end", ask_end, filters=private),
        CallbackQueryHandler(ask_end, pattern=choose.pick_pattern("end")),
        CallbackQueryHandler(confirm_end, pattern=rf"^cl:why:\d+:({reasons})$"),
        CallbackQueryHandler(end, pattern=rf"^cl:end:\d+:({reasons})$"),
        CallbackQueryHandler(keep_going, pattern=r"^cl:keep$"),
        CommandHandler("extend", ask_extension, filters=private),
        CallbackQueryHandler(ask_extension, pattern=choose.pick_pattern("extend")),
        CallbackQueryHandler(propose_extension, pattern=r"^cl:ext:\d+:[1-3]$"),
        CallbackQueryHandler(answer_extension, pattern=r"^cl:xok:\d+:[1-3]:\d{8}:\d+$"),
        CallbackQueryHandler(answer_extension, pattern=r"^cl:xno:\d+:\d+$"),
    ]
