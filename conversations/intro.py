"""The intro meeting: the adept's areas, both decisions, and mutual confidentiality."""

from __future__ import annotations

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
from bot.usecases import intro, pairing
from conversations import choose
from conversations.common import Context, keyboard
from conversations.step import END, State, Step, step
from storage import mentorships
from storage.models import MentorshipState, Role

FLOW = "intro"
AREAS, REASON = "areas", "reason"
IN_INTRO = frozenset({MentorshipState.INTRO})


async def _intro_mentorship(s: Step, purpose: str) -> int | None:
    """The mentorship an `intro:` button names (made the current one), or the one meant."""
    query = s.update.callback_query
    if query is not None and query.data and query.data.startswith("intro:"):
        mentorship_id = int(query.data.rsplit(":", 1)[1])
        await s.do(pairing.choose_current, user=s.person, mentorship_id=mentorship_id)
        return mentorship_id
    seen = await choose.mentorship(s.update, s.context, s.person, purpose=purpose, states=IN_INTRO)
    return seen.mentorship.id if seen else None


@step(FLOW)
async def ask_areas(s: Step) -> State:
    mentorship_id = await _intro_mentorship(s, "areas")
    if mentorship_id is None:
        return END
    await s.do(intro.start_areas, mentorship_id=mentorship_id, user=s.person)
    return await s.reply(N_("intro.ask_areas"), next=AREAS)


@step(FLOW)
async def save_areas(s: Step) -> State:
    seen = await s.do(
        intro.save_areas,
        mentorship_id=s.person.current_mentorship_id or 0,
        user=s.person,
        text=s.text,
        now=s.now,
    )
    assert seen.partner is not None
    return await s.reply(N_("intro.areas_saved"), next=END, name=pairing.display_name(seen.partner))


def _decision_buttons(mentorship_id: int) -> list[list[tuple[str, str]]]:
    return [
        [
            (N_("intro.button.continue"), f"intro:yes:{mentorship_id}"),
            (N_("intro.button.stop"), f"intro:no:{mentorship_id}"),
        ]
    ]


async def _meet_first(s: Step, ready: intro.Readiness) -> State:
    """No intro meeting yet: book it (the adept books), or say it happened outside the bot."""
    mentorship_id = ready.seen.mentorship.id
    rows = [[(N_("intro.button.met_outside"), f"intro:met:{mentorship_id}")]]
    if ready.seen.me.role == Role.ADEPT:
        rows.insert(0, [(N_("intro.button.book"), f"ms:pick:{mentorship_id}:book")])
    return await s.reply(N_("intro.meet_first"), next=END, markup=keyboard(s.language, rows))


async def _decide(s: Step, mentorship_id: int, decision: str) -> State:
    outcome = await s.do(
        intro.decide, mentorship_id=mentorship_id, user=s.person, decision=decision, now=s.now
    )
    if decision == IntroDecision.STOP:
        skip = keyboard(s.language, [[(N_("intro.button.skip_reason"), "intro:skip")]])
        return await s.reply(N_("intro.you_stopped"), next=REASON, markup=skip)
    key = (
        N_("intro.you_continue_both") if outcome.both_continue else N_("intro.you_continue_waiting")
    )
    return await s.reply(key, next=END)


@step()
async def decide_continue(s: Step) -> State:
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return None
    ready = await s.do(intro.ready_to_decide, mentorship_id=mentorship_id, user=s.person, now=s.now)
    if not ready.met:
        await _meet_first(s, ready)
    else:
        await _decide(s, mentorship_id, IntroDecision.CONTINUE)
    return None


@step()
async def ask_to_confirm_stop(s: Step) -> State:
    """ "I don't want to continue": asked once more, as it ends the mentorship for both."""
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return None
    ready = await s.do(intro.ready_to_decide, mentorship_id=mentorship_id, user=s.person, now=s.now)
    if not ready.met:
        return await _meet_first(s, ready)
    assert ready.seen.partner is not None
    rows = [
        [(N_("intro.button.stop_sure"), f"intro:stop:{mentorship_id}")],
        [(N_("intro.button.stop_back"), f"intro:back:{mentorship_id}")],
    ]
    return await s.reply(
        N_("intro.confirm_stop"),
        next=None,
        markup=keyboard(s.language, rows),
        name=pairing.display_name(ready.seen.partner),
    )


@step()
async def stop_withdrawn(s: Step) -> State:
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return None
    markup = keyboard(s.language, _decision_buttons(mentorship_id))
    return await s.reply(N_("intro.stop_withdrawn"), next=None, markup=markup)


@step(FLOW)
async def decide_stop(s: Step) -> State:
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return END
    return await _decide(s, mentorship_id, IntroDecision.STOP)


@step()
async def met_outside(s: Step) -> State:
    """ "We met outside the bot": the decision opens as after a held intro meeting."""
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return None
    await s.do(intro.met_outside, mentorship_id=mentorship_id, user=s.person, now=s.now)
    markup = keyboard(s.language, _decision_buttons(mentorship_id))
    return await s.reply(N_("intro.ask_decision"), next=None, markup=markup)


@step()
async def ask_decision(s: Step) -> State:
    """/decide: the two buttons for the current mentorship in its intro phase, once the
    intro meeting has happened."""
    mentorship_id = await _intro_mentorship(s, "decide")
    if mentorship_id is None:
        return None
    ready = await s.do(intro.ready_to_decide, mentorship_id=mentorship_id, user=s.person, now=s.now)
    if not ready.met:
        return await _meet_first(s, ready)
    markup = keyboard(s.language, _decision_buttons(mentorship_id))
    return await s.reply(N_("intro.ask_decision"), next=None, markup=markup)


@step(FLOW)
async def ask_few_words(s: Step) -> State:
    """The other of the pair, told the mentorship ended at the intro, may leave a few words."""
    mentorship_id = int(s.parts(3)[2])
    await s.do(intro.start_feedback, mentorship_id=mentorship_id, user=s.person)
    skip = keyboard(s.language, [[(N_("intro.button.skip_reason"), "intro:skip")]])
    return await s.reply(N_("intro.ask_few_words"), next=REASON, markup=skip)


@step(FLOW)
async def save_reason(s: Step) -> State:
    mentorship_id = s.person.current_mentorship_id or 0
    await s.do(intro.save_private_reason, mentorship_id=mentorship_id, user=s.person, reason=s.text)
    rows = [
        [(N_("intro.button.share_words"), f"intro:share:{mentorship_id}")],
        [(N_("intro.button.keep_words"), f"intro:keep:{mentorship_id}")],
    ]
    return await s.reply(
        N_("intro.reason_saved_share"), next=END, markup=keyboard(s.language, rows)
    )


@step()
async def share_reason(s: Step) -> State:
    seen = await s.do(
        intro.share_reason, mentorship_id=int(s.parts(3)[2]), user=s.person, now=s.now
    )
    assert seen.partner is not None
    return await s.reply(
        N_("intro.reason_shared"), next=None, name=pairing.display_name(seen.partner)
    )


@step()
async def keep_reason(s: Step) -> State:
    return await s.reply(N_("intro.reason_saved"), next=None)


@step(FLOW)
async def skip_reason(s: Step) -> State:
    return await s.reply(N_("intro.reason_skipped"), next=END)


@step()
async def agree(s: Step) -> State:
    query = s.update.callback_query
    if query is not None and query.data and query.data.startswith("conf:yes:"):
        mentorship_id: int | None = int(s.parts(3)[2])
    else:
        seen = await choose.mentorship(
            s.update, s.context, s.person, purpose="agree", states=IN_INTRO
        )
        mentorship_id = seen.mentorship.id if seen else None
    if mentorship_id is None:
        return None
    both = await s.do(
        intro.agree_confidentiality, mentorship_id=mentorship_id, user=s.person, now=s.now
    )
    key = N_("intro.confidentiality_both") if both else N_("intro.confidentiality_waiting")
    return await s.reply(key, next=None)


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("common.cancelled"), next=END)


@step(FLOW)
async def text_needed(s: Step) -> State:
    return await s.reply(N_("common.text_please"), next=None)


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
            [(t(language, key), data) for key, data in row]
            for row in _decision_buttons(mentorship_id)
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
            CallbackQueryHandler(decide_stop, pattern=r"^intro:stop:\d+$"),
            CallbackQueryHandler(ask_few_words, pattern=r"^intro:fb:\d+$"),
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
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("decide", ask_decision, filters=private),
        CallbackQueryHandler(ask_decision, pattern=choose.pick_pattern("decide")),
        CallbackQueryHandler(decide_continue, pattern=r"^intro:yes:\d+$"),
        CallbackQueryHandler(ask_to_confirm_stop, pattern=r"^intro:no:\d+$"),
        CallbackQueryHandler(stop_withdrawn, pattern=r"^intro:back:\d+$"),
        CallbackQueryHandler(met_outside, pattern=r"^intro:met:\d+$"),
        CallbackQueryHandler(share_reason, pattern=r"^intro:share:\d+$"),
        CallbackQueryHandler(keep_reason, pattern=r"^intro:keep:\d+$"),
        CommandHandler("confidentiality", agree, filters=private),
        CallbackQueryHandler(agree, pattern=r"^conf:yes:\d+$"),
        CallbackQueryHandler(agree, pattern=choose.pick_pattern("agree")),
    ]
