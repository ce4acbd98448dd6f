"""/close, /end and /extend: closing in the handbook's order, on time or early (a closing
meeting, written feedback after it, then the look-back), ending early after asking whether
they have talked about it, and extending the planned end."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import lookback, scheduler
from bot.domain import closing as rules
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from bot.usecases import closing as usecase
from conversations import choose
from conversations.common import Context, answer_button, keyboard, raw_keyboard, use_buttons
from conversations.help import coordinator_contact, support_text
from conversations.step import END, Callback, State, Step, step
from storage import mentorships
from storage.models import ClosingFeedback, MentorshipState, User

FLOW = "closing"
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


@step()
async def ask_end(s: Step) -> State:
    """/end: first whether they have talked about it, then why (kept private), then a
    confirmation."""
    seen = await choose.mentorship(s.update, s.context, s.person, purpose="end", states=ENDABLE)
    if seen is None or seen.partner is None:
        return None
    mentorship_id = seen.mentorship.id
    choice = keyboard(
        s.language,
        [
            [(N_("closing.button.talked"), f"cl:talked:{mentorship_id}")],
            [(N_("closing.button.not_talked"), f"cl:nottalked:{mentorship_id}")],
        ],
    )
    return await s.reply(
        N_("closing.ask_talked"), next=None, markup=choice, name=pairing.display_name(seen.partner)
    )


@step()
async def talk_first(s: Step) -> State:
    """Not talked yet: the suggestion to talk (and /support), and the choice stays theirs."""
    mentorship_id = int(s.parts(3)[2])
    seen = await s.do(pairing.member_view, mentorship_id=mentorship_id, user=s.person)
    assert seen.partner is not None
    choice = keyboard(
        s.language,
        [
            [(N_("closing.button.talk_first"), "cl:keep")],
            [(N_("closing.button.end_anyway"), f"cl:talked:{mentorship_id}")],
        ],
    )
    return await s.reply(
        N_("closing.talk_first"), next=None, markup=choice, name=pairing.display_name(seen.partner)
    )


@step()
async def ask_reason(s: Step) -> State:
    seen = await s.do(pairing.member_view, mentorship_id=int(s.parts(3)[2]), user=s.person)
    if seen.mentorship.state not in ENDABLE or seen.partner is None:
        return await s.reply(N_("closing.already_over"), next=None)
    rows = [
        [(reason_key, f"cl:why:{seen.mentorship.id}:{reason}")]
        for reason, reason_key in zip(rules.END_REASONS, usecase.REASON_TEXTS, strict=True)
    ]
    return await s.reply(
        N_("closing.ask_reason"),
        next=None,
        markup=keyboard(s.language, rows),
        name=pairing.display_name(seen.partner),
    )


@step()
async def confirm_end(s: Step) -> State:
    _, _, mentorship_id, reason = s.parts(4)
    seen = await s.do(pairing.member_view, mentorship_id=int(mentorship_id), user=s.person)
    assert seen.partner is not None
    choice = keyboard(
        s.language,
        [
            [(N_("closing.button.end"), f"cl:end:{mentorship_id}:{reason}")],
            [(N_("closing.button.keep_going"), "cl:keep")],
        ],
    )
    return await s.reply(
        N_("closing.confirm_end"), next=None, markup=choice, name=pairing.display_name(seen.partner)
    )


@step()
async def end(s: Step) -> State:
    _, _, mentorship_id, reason = s.parts(4)
    seen = await s.do(
        usecase.end_early, mentorship_id=int(mentorship_id), user=s.person, reason=reason, now=s.now
    )
    query = s.update.callback_query
    assert query is not None and seen.partner is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    text = s.t(N_("closing.you_ended"), name=pairing.display_name(seen.partner))
    if rules.coordinator_at_once(reason):
        contact = await coordinator_contact(s)
        text += "\n\n" + support_text(s.language, contact)
    adept = seen.me.role == "adept"
    await s.say(text, keyboard(s.language, usecase.wrap_up_buttons(seen.mentorship, adept=adept)))
    return None


@step()
async def keep_going(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(s.t(N_("closing.kept")))
    return None


# -- closing on time ---------------------------------------------------------------------------


@step(FLOW)
async def ask_close(s: Step) -> State:
    """/close: start closing (with a confirmation), or continue one's closing feedback."""
    seen = await choose.mentorship(s.update, s.context, s.person, purpose="close", states=CLOSABLE)
    if seen is None or seen.mentorship.id is None or seen.partner is None:
        return END
    if seen.mentorship.state == MentorshipState.CLOSING:
        status = await s.do(
            usecase.status, mentorship_id=seen.mentorship.id, user=s.person, now=s.now
        )
        return await _next(s, status)
    choice = keyboard(
        s.language,
        [
            [(N_("closing.button.start_closing"), f"cl:go:{seen.mentorship.id}")],
            [(N_("closing.button.not_yet"), "cl:keep")],
        ],
    )
    return await s.reply(
        N_("closing.confirm_close"),
        next=END,
        markup=choice,
        name=pairing.display_name(seen.partner),
    )


@step(FLOW)
async def start_closing(s: Step) -> State:
    status = await s.do(
        usecase.begin_closing, mentorship_id=int(s.parts(3)[2]), user=s.person, now=s.now
    )
    assert status.pairing.partner is not None
    adept = status.pairing.me.role == "adept"
    key = N_("closing.started_adept") if adept else N_("closing.started_mentor")
    await s.say(s.t(key, name=pairing.display_name(status.pairing.partner)))
    return await _next(s, status)


async def _next(s: Step, status: usecase.Status) -> State:
    """In the handbook's order: the closing meeting first, written feedback after it."""
    seen = status.pairing
    assert seen.partner is not None and seen.mentorship.id is not None
    if status.asks_feedback:
        found = await s.do(usecase.feedback_view, mentorship_id=seen.mentorship.id, user=s.person)
        return await _ask(s, found)
    adept = seen.me.role == "adept"
    name = pairing.display_name(seen.partner)
    if status.ahead is not None:
        rows = [[(N_("closing.button.feedback"), f"cl:fb:{seen.mentorship.id}")]]
        when = status.ahead.starts_at.astimezone(ZoneInfo(s.person.timezone))
        return await s.reply(
            N_("closing.next.booked"),
            next=END,
            markup=keyboard(s.language, rows),
            name=name,
            when=when,
        )
    buttons = keyboard(s.language, usecase.wrap_up_buttons(seen.mentorship, adept=adept))
    key = N_("closing.next.book") if adept else N_("closing.next.wait")
    return await s.reply(key, next=END, markup=buttons, name=name)


# -- closing feedback --------------------------------------------------------------------------


def question(language: str, found: usecase.FeedbackView) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of the first unanswered part of this person's feedback."""
    step_name, goal_id = found.next
    state = STATE_OF_STEP[step_name]
    partner = pairing.display_name(found.partner)
    if state == GOAL:
        revision = next(r for g, r in found.assessed if g.id == goal_id)
        goal_text = (revision.specific if revision else None) or "—"
        outcomes = [[(key, f"cl:g:{goal_id}:{outcome}")] for outcome, key in OUTCOME_BUTTONS]
        return t(language, QUESTION[GOAL], goal=goal_text), keyboard(language, outcomes)
    if state == RATING:
        ratings = raw_keyboard([[(str(n), f"cl:r:{n}") for n in range(1, 6)]])
        return t(language, QUESTION[RATING], name=partner), ratings
    if state in (TOUCH, SHARE):
        prefix = "cl:t" if state == TOUCH else "cl:s"
        yes_no = [
            [(N_("closing.button.yes"), f"{prefix}:yes"), (N_("closing.button.no"), f"{prefix}:no")]
        ]
        return t(language, QUESTION[state], name=partner), keyboard(language, yes_no)
    return t(language, QUESTION[state], name=partner), None


async def _ask(s: Step, found: usecase.FeedbackView) -> State:
    """Tell the view's notice, if any; then ask the first unanswered part (or say it is done)."""
    if found.notice is not None:
        await s.say(s.t(found.notice))
    step_name, _ = found.next
    if step_name == "done":
        return await s.reply(N_("closing.feedback_done"), next=END)
    state = STATE_OF_STEP[step_name]
    text, markup = question(s.language, found)
    await s.goto(state)
    await s.say(text, markup)
    return state


@step(FLOW)
async def open_feedback(s: Step) -> State:
    """The feedback button both get when closing starts or a mentorship ends early."""
    found = await s.do(usecase.feedback_view, mentorship_id=int(s.parts(3)[2]), user=s.person)
    return await _ask(s, found)


def answer(step_name: str) -> Callback:
    """One answer of the feedback, typed or pressed (`cl:g:<goal>:<outcome>`, `cl:r:<n>`...)."""

    @step(FLOW)
    async def handle(s: Step) -> State:
        goal_id: int | None = None
        if s.update.callback_query is None:
            value = s.text
        elif step_name == "goals":
            _, _, goal, value = s.parts(4)
            goal_id = int(goal)
        else:
            value = s.parts(3)[2]
        found = await s.do(
            usecase.answer_feedback,
            mentorship_id=s.person.current_mentorship_id or 0,
            user=s.person,
            step=step_name,
            value=value,
            goal_id=goal_id,
            now=s.now,
        )
        return await _ask(s, found)

    return handle


@step(FLOW)
async def pause(s: Step) -> State:
    return await s.reply(N_("closing.paused"), next=END)


# -- extending ---------------------------------------------------------------------------------


@step()
async def ask_extension(s: Step) -> State:
    seen = await choose.mentorship(s.update, s.context, s.person, purpose="extend", states=ACTIVE)
    if seen is None or seen.mentorship.id is None:
        return None
    months = raw_keyboard(
        [
            [
                (s.t(N_("contract.value.months"), n=n), f"cl:ext:{seen.mentorship.id}:{n}")
                for n in rules.EXTEND_MONTHS
            ]
        ]
    )
    return await s.reply(
        N_("closing.ask_extension"),
        next=None,
        markup=months,
        end=seen.mentorship.planned_end or "—",
    )


@step()
async def propose_extension(s: Step) -> State:
    _, _, mentorship_id, months = s.parts(4)
    proposed = await s.do(
        usecase.propose_extension,
        mentorship_id=int(mentorship_id),
        user=s.person,
        months=int(months),
        now=s.now,
    )
    return await s.reply(N_("closing.extension_sent"), next=None, end=proposed)


@step()
async def answer_extension(s: Step) -> State:
    """The partner's answer: `cl:xok:<mentorship>:<months>:<planned end>:<proposer>` agrees,
    `cl:xno:<mentorship>:<proposer>` keeps the planned end."""
    query = s.update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    agree = parts[1] == "xok"
    result = await s.do(
        usecase.answer_extension,
        mentorship_id=int(parts[2]),
        user=s.person,
        months=int(parts[3]) if agree else None,
        stamp=parts[4] if agree else None,
        proposer_id=int(parts[-1]),
        now=s.now,
    )
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)
    if result is None:
        return await s.reply(N_("closing.extension_kept"), next=None)
    return None


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
            [(t(language, "closing.button.book_meeting"), f"m:cl:{mentorship_id}")],
            [(t(language, "closing.button.start_closing"), f"cl:go:{mentorship_id}")],
        ],
    )


async def render_feedback_prompt(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """After the closing meeting: the written feedback, unless it was given already."""
    mentorship_id = int(ctx.notification.payload["mentorship_id"])
    try:
        status = await usecase.status(
            ctx.session, mentorship_id=mentorship_id, user=ctx.recipient, now=ctx.now
        )
    except Refused:
        return None
    partner = status.pairing.partner
    done = status.feedback is not None and status.feedback.submitted_at is not None
    if partner is None or done or status.pairing.mentorship.state not in usecase.FEEDBACK_STATES:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, "closing.feedback_prompt", name=pairing.display_name(partner)),
        buttons=[[(t(language, "closing.button.feedback"), f"cl:fb:{mentorship_id}")]],
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
    ("closing_feedback_prompt", render_feedback_prompt),
    ("closing_feedback_shared", render_shared_feedback),
    ("lookback_text", render_lookback_text),
    ("lookback_chart", render_lookback_chart),
    ("lookback_document", render_lookback_document),
):
    scheduler.register(_kind, _renderer)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        GOAL: [
            CallbackQueryHandler(answer("goals"), pattern=r"^cl:g:\d+:(reached|partly|not)$"),
            MessageHandler(text, use_buttons),
        ],
        VALUABLE: [MessageHandler(text, answer("most_valuable"))],
        BETTER: [MessageHandler(text, answer("could_be_better"))],
        RATING: [
            CallbackQueryHandler(answer("rating"), pattern=r"^cl:r:[1-5]$"),
            # A typed digit is as good as the button; anything else is refused kindly.
            MessageHandler(text, answer("rating")),
        ],
        TOUCH: [
            CallbackQueryHandler(answer("stay_in_touch"), pattern=r"^cl:t:(yes|no)$"),
            MessageHandler(text, use_buttons),
        ],
        SHARE: [
            CallbackQueryHandler(answer("share"), pattern=r"^cl:s:(yes|no)$"),
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
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    reasons = "|".join(rules.END_REASONS)
    return [
        CommandHandler("end", ask_end, filters=private),
        CallbackQueryHandler(ask_end, pattern=choose.pick_pattern("end")),
        CallbackQueryHandler(talk_first, pattern=r"^cl:nottalked:\d+$"),
        CallbackQueryHandler(ask_reason, pattern=r"^cl:talked:\d+$"),
        CallbackQueryHandler(confirm_end, pattern=rf"^cl:why:\d+:({reasons})$"),
        CallbackQueryHandler(end, pattern=rf"^cl:end:\d+:({reasons})$"),
        CallbackQueryHandler(keep_going, pattern=r"^cl:keep$"),
        CommandHandler("extend", ask_extension, filters=private),
        CallbackQueryHandler(ask_extension, pattern=choose.pick_pattern("extend")),
        CallbackQueryHandler(propose_extension, pattern=r"^cl:ext:\d+:[1-3]$"),
        CallbackQueryHandler(answer_extension, pattern=r"^cl:xok:\d+:[1-3]:\d{8}:\d+$"),
        CallbackQueryHandler(answer_extension, pattern=r"^cl:xno:\d+:\d+$"),
    ]
