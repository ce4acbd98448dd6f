"""/contract: the adept drafts the collaboration contract step by step, the partner
accepts or asks for a change, and any later change needs both again."""

from __future__ import annotations

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
from bot.i18n import N_, t, tn
from bot.usecases import Refused, pairing
from bot.usecases import contract as usecase
from bot.usecases import programmes as programmes_uc
from conversations import choose
from conversations.common import Context, answer_button, keyboard, raw_keyboard, use_buttons
from conversations.step import END, Callback, State, Step, step
from storage import contracts
from storage.mentorships import Pairing
from storage.models import Contract, MentorshipState, Role, User

FLOW = "contract"
REVIEW, COMMENT = "review", "comment"
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
# Keys reached through `Refused(f"contract.refused.{reason}", stay=True)` in the use case:
# the value can be corrected, so the person stays at the question.
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
        return tn(language, NUMBER_LABEL[term], int(str(value)))
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


async def _question(s: Step, term: str, contract: Contract) -> State:
    text = s.t(QUESTION[term])
    current = getattr(contract, term)
    if current not in (None, ""):
        shown = str(current) if term == "aims" else value_label(s.language, term, current)
        text += "\n\n" + s.t(N_("contract.current_value"), value=shown)
    rows = _choice_rows(s.language, term) if term in rules.CHOICES else []
    if term == "duration_months":
        # The pair's programme plans a length: offered first, the usual choices after it.
        planned = await s.do(
            programmes_uc.planned_length, mentorship_id=contract.mentorship_id, now=s.now
        )
        if planned is not None:
            text += "\n\n" + tn(s.language, N_("contract.programme_length"), planned)
            others = [row for row in rows if not row[0][1].endswith(f":{planned}")]
            label = value_label(s.language, term, planned)
            rows = [[(label, f"ctr:set:{term}:{planned}")], *others]
    await s.goto(term)
    await s.say(text, raw_keyboard(rows) if rows else None)
    return term


async def _next(s: Step, draft: usecase.Draft) -> State:
    """Ask the first missing term, or show the review card when nothing is missing."""
    missing = rules.first_missing(draft.contract)
    if missing is not None:
        return await _question(s, missing, draft.contract)
    adept, mentor = pair_names(draft.pairing, s.person)
    partner = mentor if draft.pairing.me.role == Role.ADEPT else adept
    edit_rows = [
        [(EDIT_BUTTON[term], f"ctr:edit:{term}") for term in rules.STEPS[i : i + 2]]
        for i in range(0, len(rules.STEPS), 2)
    ]
    await s.goto(REVIEW)
    await s.say(
        card(s.language, draft.contract, adept, mentor)
        + "\n\n"
        + s.t(N_("contract.review_hint"), name=partner),
        keyboard(s.language, [*edit_rows, [(N_("contract.button.send"), "ctr:send")]]),
    )
    return REVIEW


@step(FLOW)
async def show(s: Step) -> State:
    """/contract: what the contract needs from this person now."""
    seen = await choose.mentorship(
        s.update, s.context, s.person, purpose="contract", states=SHOWN_STATES
    )
    if seen is None or seen.mentorship.id is None:
        return END
    mentorship_id = seen.mentorship.id
    found = await s.do(usecase.overview, mentorship_id=mentorship_id, user=s.person)
    if found.draft is not None:
        return await _next(s, found.draft)
    status = found.status
    adept, mentor = pair_names(status.pairing, s.person)
    partner = mentor if status.pairing.me.role == Role.ADEPT else adept
    latest, in_force = status.latest, status.in_force
    if status.awaiting_me is not None:
        contract_id = status.awaiting_me.id
        answer = [
            [
                (N_("contract.button.accept"), f"ctr:acc:{contract_id}"),
                (N_("contract.button.suggest"), f"ctr:chg:{contract_id}"),
            ]
        ]
        await s.say(
            s.t(N_("contract.review_request"), name=partner)
            + "\n\n"
            + card(s.language, status.awaiting_me, adept, mentor),
            keyboard(s.language, answer),
        )
    elif in_force is not None and latest is not None and latest.id == in_force.id:
        change = [[(N_("contract.button.propose_change"), f"ctr:change:{mentorship_id}")]]
        await s.say(
            card(s.language, in_force, adept, mentor) + "\n\n" + s.t(N_("contract.in_force_hint")),
            keyboard(s.language, change),
        )
    else:
        assert latest is not None  # sent, waiting for the partner (see `ContractStatus.to_write`)
        await s.say(
            card(s.language, latest, adept, mentor)
            + "\n\n"
            + s.t(N_("contract.waiting_for_partner"), name=partner)
        )
    return END


@step(FLOW)
async def start_draft(s: Step) -> State:
    """A draft or change button (`ctr:draft:<id>`, `ctr:change:<id>`): write or revise."""
    mentorship_id = int(s.parts(3)[2])
    # Two use cases: the button's mentorship becomes the current one even when the
    # draft is refused (it is not this person's turn, say).
    await s.do(pairing.choose_current, user=s.person, mentorship_id=mentorship_id)
    draft = await s.do(usecase.draft_to_write, mentorship_id=mentorship_id, user=s.person)
    return await _next(s, draft)


async def _set(s: Step, term: str, value: str) -> State:
    draft = await s.do(usecase.answer_current_draft, user=s.person, term=term, value=value)
    return await _next(s, draft)


@step(FLOW)
async def set_from_button(s: Step) -> State:
    _, _, term, value = s.parts(4)
    return await _set(s, term, value)


def typed(term: str) -> Callback:
    @step(FLOW)
    async def set_from_text(s: Step) -> State:
        return await _set(s, term, s.text)

    return set_from_text


@step(FLOW)
async def edit(s: Step) -> State:
    term = s.parts(3)[2]
    draft = await s.do(usecase.current_draft, user=s.person)
    if term not in rules.STEPS:
        return END
    return await _question(s, term, draft.contract)


@step(FLOW)
async def send(s: Step) -> State:
    draft = await s.do(usecase.send_current_draft, user=s.person, now=s.now)
    assert draft.pairing.partner is not None
    name = pairing.display_name(draft.pairing.partner)
    return await s.reply(N_("contract.sent"), next=END, name=name)


@step()
async def accept(s: Step) -> State:
    await s.do(
        usecase.accept, contract_id=int(s.parts(3)[2]), user=s.person, now=s.now, today=s.today
    )
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update, s.t(N_("contract.accepted_toast")))
    await query.edit_message_reply_markup(None)
    return None


@step(FLOW)
async def ask_change(s: Step) -> State:
    """The partner's "suggest a change" button: ask what should change."""
    await s.do(usecase.start_change_request, contract_id=int(s.parts(3)[2]), user=s.person)
    return await s.reply(N_("contract.ask_comment"), next=COMMENT)


@step(FLOW)
async def save_comment(s: Step) -> State:
    seen = await s.do(
        usecase.request_change,
        mentorship_id=s.person.current_mentorship_id or 0,
        user=s.person,
        comment=s.text,
        now=s.now,
    )
    assert seen.partner is not None
    return await s.reply(
        N_("contract.comment_sent"), next=END, name=pairing.display_name(seen.partner)
    )


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("contract.paused"), next=END)


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
            MessageHandler(text, typed(term) if term in TYPED else use_buttons),
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
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[CallbackQueryHandler[Context, None]]:
    return [CallbackQueryHandler(accept, pattern=r"^ctr:acc:\d+$")]
