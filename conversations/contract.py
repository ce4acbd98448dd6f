"""/contract: the adept drafts the collaboration contract step by step, the partner
accepts or asks for a change, and any later change needs both again."""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.domain import contract as rules
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from bot.usecases import contract as usecase
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
    today_for,
    use_buttons,
)
from storage import contracts
from storage.mentorships import Pairing
from storage.models import Contract, MentorshipState, Role, User

FLOW = "contract"
REVIEW, COMMENT = "review", "comment"
END = ConversationHandler.END
SHOWN_STATES = frozenset({MentorshipState.INTRO, MentorshipState.ACTIVE, MentorshipState.CLOSING})

QUESTION = {
    "aims": N_("contract.ask.aims"),
    "mode": N_("contract.ask.mode"),
    "duration_months": N_("contract.ask.duration_months"),
    "cadence": N_("contract.ask.cadence"),
    "meeting_minutes": N_("contract.ask.meeting_minutes"),
    "time_budget_hours": N_("contract.ask.time_budget_hours"),
    "cancel_notice": N_("contract.ask.cancel_notice"),
    "feedback_cadence": N_("contract.ask.feedback_cadence"),
}
TITLE = {
    "aims": N_("contract.term.aims"),
    "mode": N_("contract.term.mode"),
    "duration_months": N_("contract.term.duration_months"),
    "cadence": N_("contract.term.cadence"),
    "meeting_minutes": N_("contract.term.meeting_minutes"),
    "time_budget_hours": N_("contract.term.time_budget_hours"),
    "cancel_notice": N_("contract.term.cancel_notice"),
    "feedback_cadence": N_("contract.term.feedback_cadence"),
}
EDIT_BUTTON = {
    "aims": N_("contract.button.edit.aims"),
    "mode": N_("contract.button.edit.mode"),
    "duration_months": N_("contract.button.edit.duration_months"),
    "cadence": N_("contract.button.edit.cadence"),
    "meeting_minutes": N_("contract.button.edit.meeting_minutes"),
    "time_budget_hours": N_("contract.button.edit.time_budget_hours"),
    "cancel_notice": N_("contract.button.edit.cancel_notice"),
    "feedback_cadence": N_("contract.button.edit.feedback_cadence"),
}
LABEL = {
    ("mode", "goal"): N_("contract.value.mode.goal"),
    ("mode", "situation"): N_("contract.value.mode.situation"),
    ("cadence", "2w"): N_("contract.value.cadence.2w"),
    ("cadence", "3w"): N_("contract.value.cadence.3w"),
    ("cadence", "4w"): N_("contract.value.cadence.4w"),
    ("cadence", "1m"): N_("contract.value.cadence.1m"),
    ("cancel_notice", "24h"): N_("contract.value.cancel_notice.24h"),
    ("cancel_notice", "48h"): N_("contract.value.cancel_notice.48h"),
    ("cancel_notice", "1w"): N_("contract.value.cancel_notice.1w"),
    ("feedback_cadence", "meeting"): N_("contract.value.feedback_cadence.meeting"),
    ("feedback_cadence", "1m"): N_("contract.value.feedback_cadence.1m"),
    ("feedback_cadence", "2m"): N_("contract.value.feedback_cadence.2m"),
}
NUMBER_LABEL = {
    "duration_months": N_("contract.value.months"),
    "meeting_minutes": N_("contract.value.minutes"),
    "time_budget_hours": N_("contract.value.hours"),
}
# Keys reached through `Refused(f"contract.refused.{reason}")` in the use case.
REFUSALS = (
    N_("contract.refused.aims_too_short"),
    N_("contract.refused.aims_too_long"),
    N_("contract.refused.duration_not_a_number"),
    N_("contract.refused.duration_too_short"),
    N_("contract.refused.duration_too_long"),
    N_("contract.refused.not_a_choice"),
)
TYPED = frozenset({"aims", "duration_months"})


def value_label(language: str, term: str, value: object) -> str:
    if term in NUMBER_LABEL:
        return t(language, NUMBER_LABEL[term], n=value)
    return t(language, LABEL[(term, str(value))])


def card(language: str, contract: Contract, adept: str, mentor: str) -> str:
    """The whole contract as one message in `language`."""
    lines = [
        t(language, "contract.card.title", version=contract.version, adept=adept, mentor=mentor)
    ]
    for term in rules.STEPS:
        value = getattr(contract, term)
        if value in (None, ""):
            shown = "—"
        elif term == "aims":
            shown = str(value)
        else:
            shown = value_label(language, term, value)
        lines.append(t(language, "contract.card.line", title=t(language, TITLE[term]), value=shown))
    lines.append(t(language, "contract.card.confidentiality"))
    if contract.change_request:
        lines.append(t(language, "contract.card.change_request", comment=contract.change_request))
    return "\n\n".join(lines)


def pair_names(seen: Pairing, user: User) -> tuple[str, str]:
    """(adept, mentor) display names, for a mentorship seen by `user`."""
    assert seen.partner is not None
    mine, theirs = pairing.display_name(user), pairing.display_name(seen.partner)
    return (mine, theirs) if seen.me.role == Role.ADEPT else (theirs, mine)


def _choice_rows(language: str, term: str) -> list[list[tuple[str, str]]]:
    return [
        [(value_label(language, term, choice), f"ctr:set:{term}:{choice}")]
        for choice in rules.CHOICES[term]
    ]


async def _question(
    update: Update, context: Context, user: User, term: str, draft: Contract
) -> str:
    await remember_step(update, context, FLOW, term)
    text = t(user.language, QUESTION[term])
    current = getattr(draft, term)
    if current not in (None, ""):
        shown = str(current) if term == "aims" else value_label(user.language, term, current)
        text += "\n\n" + t(user.language, "contract.current_value", value=shown)
    rows = _choice_rows(user.language, term) if term in rules.CHOICES else []
    await say(update, text, raw_keyboard(rows) if rows else None)
    return term


async def _next(update: Update, context: Context, user: User, draft: Contract) -> str:
    """Ask the first missing term, or show the review card when nothing is missing."""
    step = rules.first_missing(draft)
    if step is not None:
        return await _question(update, context, user, step, draft)
    seen = await run(
        context, lambda s: pairing.member_view(s, mentorship_id=draft.mentorship_id, user=user)
    )
    adept, mentor = pair_names(seen, user)
    await remember_step(update, context, FLOW, REVIEW)
    edit_rows = [
        [(EDIT_BUTTON[term], f"ctr:edit:{term}") for term in rules.STEPS[i : i + 2]]
        for i in range(0, len(rules.STEPS), 2)
    ]
    partner = mentor if seen.me.role == Role.ADEPT else adept
    await say(
        update,
        card(user.language, draft, adept, mentor)
        + "\n\n"
        + t(user.language, "contract.review_hint", name=partner),
        keyboard(user.language, [*edit_rows, [(N_("contract.button.send"), "ctr:send")]]),
    )
    return REVIEW


async def _open_draft(
    update: Update, context: Context, user: User, mentorship_id: int
) -> Contract | None:
    try:
        return await run(
            context, lambda s: usecase.open_draft(s, mentorship_id=mentorship_id, user=user)
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return None


async def show(update: Update, context: Context) -> str | int:
    """/contract: what the contract needs from this person now."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="contract", states=SHOWN_STATES)
    if seen is None or seen.mentorship.id is None:
        return END
    mentorship_id = seen.mentorship.id
    status = await run(context, lambda s: usecase.status(s, mentorship_id=mentorship_id, user=user))
    adept, mentor = pair_names(seen, user)
    partner = mentor if seen.me.role == Role.ADEPT else adept
    latest, in_force = status.latest, status.in_force
    if status.awaiting_me is not None:
        contract_id = status.awaiting_me.id
        await say(
            update,
            t(user.language, "contract.review_request", name=partner)
            + "\n\n"
            + card(user.language, status.awaiting_me, adept, mentor),
            keyboard(
                user.language,
                [
                    [
                        (N_("contract.button.accept"), f"ctr:acc:{contract_id}"),
                        (N_("contract.button.suggest"), f"ctr:chg:{contract_id}"),
                    ]
                ],
            ),
        )
        return END
    if in_force is not None and latest is not None and latest.id == in_force.id:
        await say(
            update,
            card(user.language, in_force, adept, mentor)
            + "\n\n"
            + t(user.language, "contract.in_force_hint"),
            keyboard(
                user.language,
                [[(N_("contract.button.propose_change"), f"ctr:change:{mentorship_id}")]],
            ),
        )
        return END
    if latest is not None and latest.submitted_at is not None:
        await say(
            update,
            card(user.language, latest, adept, mentor)
            + "\n\n"
            + t(user.language, "contract.waiting_for_partner", name=partner),
        )
        return END
    draft = await _open_draft(update, context, user, mentorship_id)
    return END if draft is None else await _next(update, context, user, draft)


async def start_draft(update: Update, context: Context) -> str | int:
    """A draft or change button (`ctr:draft:<id>`, `ctr:change:<id>`): write or revise."""
    user = await remember_user(update, context)
    mentorship_id = int(callback_parts(update, 3)[2])
    try:
        await run(
            context, lambda s: pairing.choose_current(s, user=user, mentorship_id=mentorship_id)
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    draft = await _open_draft(update, context, user, mentorship_id)
    return END if draft is None else await _next(update, context, user, draft)


async def _current_draft(update: Update, context: Context, user: User) -> Contract | None:
    """This person's unsent draft in their current mentorship, or an explanation."""
    mentorship_id = user.current_mentorship_id
    if mentorship_id is not None:
        status = await run(
            context, lambda s: usecase.status(s, mentorship_id=mentorship_id, user=user)
        )
        if status.my_draft is not None:
            return status.my_draft
    await explain(update, user, Refused("common.stale_button"))
    return None


async def _set(update: Update, context: Context, term: str, value: str) -> str | int | None:
    user = await remember_user(update, context)
    draft = await _current_draft(update, context, user)
    if draft is None:
        return END
    contract_id = draft.id or 0
    try:
        draft = await run(
            context,
            lambda s: usecase.set_term(
                s, contract_id=contract_id, user=user, term=term, value=value
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return None  # stay on this question
    await answer_button(update)
    return await _next(update, context, user, draft)


async def set_from_button(update: Update, context: Context) -> str | int | None:
    _, _, term, value = callback_parts(update, 4)
    return await _set(update, context, term, value)


def typed(term: str) -> object:
    async def set_from_text(update: Update, context: Context) -> str | int | None:
        return await _set(update, context, term, message_of(update).text or "")

    return set_from_text


async def edit(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    term = callback_parts(update, 3)[2]
    draft = await _current_draft(update, context, user)
    if draft is None or term not in rules.STEPS:
        return END
    await answer_button(update)
    return await _question(update, context, user, term, draft)


async def send(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    draft = await _current_draft(update, context, user)
    if draft is None:
        return END
    contract_id = draft.id or 0
    try:
        await run(
            context,
            lambda s: usecase.submit(s, contract_id=contract_id, user=user, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    seen = await run(
        context, lambda s: pairing.member_view(s, mentorship_id=draft.mentorship_id, user=user)
    )
    assert seen.partner is not None
    await say(update, t(user.language, "contract.sent", name=pairing.display_name(seen.partner)))
    return END


async def accept(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    contract_id = int(callback_parts(update, 3)[2])
    try:
        await run(
            context,
            lambda s: usecase.accept(
                s,
                contract_id=contract_id,
                user=user,
                now=now(context),
                today=today_for(user, context),
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    query = update.callback_query
    assert query is not None
    await query.answer(t(user.language, "contract.accepted_toast"))
    await query.edit_message_reply_markup(None)


async def ask_change(update: Update, context: Context) -> str | int:
    """The partner's "suggest a change" button: ask what should change."""
    user = await remember_user(update, context)
    contract_id = int(callback_parts(update, 3)[2])
    try:
        await run(
            context, lambda s: usecase.start_change_request(s, contract_id=contract_id, user=user)
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, COMMENT)
    await say(update, t(user.language, "contract.ask_comment"))
    return COMMENT


async def save_comment(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    mentorship_id = user.current_mentorship_id or 0
    text = message_of(update).text or ""
    try:
        seen = await run(
            context,
            lambda s: usecase.request_change(
                s, mentorship_id=mentorship_id, user=user, comment=text, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return None if refusal.key == "contract.comment_empty" else END
    await remember_step(update, context, FLOW, None)
    assert seen.partner is not None
    await say(
        update, t(user.language, "contract.comment_sent", name=pairing.display_name(seen.partner))
    )
    return END


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "contract.paused"))
    return END


async def render_review(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The partner's copy of a sent contract; nothing if it was replaced meanwhile."""
    contract_id = int(ctx.notification.payload["contract_id"])
    contract = await contracts.get(ctx.session, contract_id=contract_id)
    if contract is None:
        return None
    try:
        status = await usecase.status(
            ctx.session, mentorship_id=contract.mentorship_id, user=ctx.recipient
        )
    except Refused:
        return None
    if status.awaiting_me is None or status.awaiting_me.id != contract_id:
        return None
    language = ctx.recipient.language
    adept, mentor = pair_names(status.pairing, ctx.recipient)
    partner = mentor if status.pairing.me.role == Role.ADEPT else adept
    return scheduler.Outgoing(
        text=t(language, "contract.review_request", name=partner)
        + "\n\n"
        + card(language, contract, adept, mentor),
        buttons=[
            [
                (t(language, "contract.button.accept"), f"ctr:acc:{contract_id}"),
                (t(language, "contract.button.suggest"), f"ctr:chg:{contract_id}"),
            ]
        ],
    )


scheduler.register("contract_review", render_review)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    anywhere: list[BaseHandler] = [
        CallbackQueryHandler(set_from_button, pattern=r"^ctr:set:\w+:\w+$"),
        CallbackQueryHandler(edit, pattern=r"^ctr:edit:\w+$"),
        CallbackQueryHandler(send, pattern=r"^ctr:send$"),
    ]
    states: dict[object, list[BaseHandler]] = {
        term: [
            *anywhere,
            MessageHandler(text, typed(term) if term in TYPED else use_buttons),  # type: ignore[arg-type]
        ]
        for term in rules.STEPS
    }
    states[REVIEW] = [*anywhere, MessageHandler(text, use_buttons)]
    states[COMMENT] = [MessageHandler(text, save_comment)]
    return ConversationHandler(
        entry_points=[
            CommandHandler("contract", show, filters=private),
            CallbackQueryHandler(show, pattern=choose.pick_pattern("contract")),
            CallbackQueryHandler(start_draft, pattern=r"^ctr:(draft|change):\d+$"),
            CallbackQueryHandler(ask_change, pattern=r"^ctr:chg:\d+$"),
            *anywhere,
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[CallbackQueryHandler[Context, None]]:
    return [CallbackQueryHandler(accept, pattern=r"^ctr:acc:\d+$")]
