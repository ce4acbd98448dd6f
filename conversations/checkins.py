"""/checkin and the monthly check-in the outbox sends: four short questions, then the
author's choice of what the partner sees.

Buttons: `ci:go:<checkin>` (start or resume), `ci:rate:<checkin>:<1-5>`,
`ci:skip:<checkin>` (no note), `ci:share:<checkin>:<all|note|none>`. Every press is
re-checked in the use case against the presser and the check-in they are answering.

Answering is the persistent conversation "checkins", one state per question; the
answers themselves are stored as they come, so /checkin resumes where a person
left off even if the conversation state was lost.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler, services
from bot.domain import checkins as rules
from bot.domain.checkins import Sharing
from bot.i18n import N_, t
from bot.usecases import Refused
from bot.usecases import checkins as usecase
from bot.usecases.pairing import display_name
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    message_of,
    now,
    raw_keyboard,
    remember_step,
    remember_user,
    run,
    say,
)
from storage.models import Role, User

FLOW = "checkins"
WORKS_WELL, COULD_IMPROVE, RATING, NOTE, SHARE = (*rules.STEPS, rules.SHARE)
END = ConversationHandler.END
# Refusals after which the same question is still open.
STAYS = frozenset(
    {"checkins.refused.empty", "checkins.refused.too_long", "checkins.refused.rating"}
)
SHARE_LABELS = {
    Sharing.ALL: N_("checkins.button.share_all"),
    Sharing.NOTE: N_("checkins.button.share_note"),
    Sharing.NONE: N_("checkins.button.keep_private"),
}
DONE_TEXTS = {
    Sharing.ALL: N_("checkins.done.all"),
    Sharing.NOTE: N_("checkins.done.note"),
    Sharing.NONE: N_("checkins.done.none"),
}
QUESTIONS = {
    WORKS_WELL: N_("checkins.q.works_well"),
    COULD_IMPROVE: N_("checkins.q.could_improve"),
    RATING: N_("checkins.q.rating"),
}
# The adept is asked for feedback to the mentor in so many words: it is easily forgotten.
NOTE_QUESTIONS = {
    Role.ADEPT: N_("checkins.q.note_adept"),
    Role.MENTOR: N_("checkins.q.note_mentor"),
}


def rating_keyboard(checkin_id: int) -> InlineKeyboardMarkup:
    return raw_keyboard([[(str(n), f"ci:rate:{checkin_id}:{n}") for n in rules.RATINGS]])


def question(language: str, found: usecase.CheckInView) -> tuple[str, InlineKeyboardMarkup | None]:
    """The text and buttons of the next unanswered question (or the sharing choice)."""
    step, name = found.step, display_name(found.partner)
    checkin_id = found.checkin.id
    assert checkin_id is not None
    if step == RATING:
        return t(language, QUESTIONS[RATING], name=name), rating_keyboard(checkin_id)
    if step == NOTE:
        skip = [[(t(language, "checkins.button.skip_note"), f"ci:skip:{checkin_id}")]]
        return t(language, NOTE_QUESTIONS[Role(found.role)], name=name), raw_keyboard(skip)
    if step == SHARE:
        rows = [
            [(t(language, SHARE_LABELS[choice], name=name), f"ci:share:{checkin_id}:{choice}")]
            for choice in rules.choices(has_note=bool(found.checkin.note_to_partner))
        ]
        return t(language, "checkins.q.share", name=name), raw_keyboard(rows)
    return t(language, QUESTIONS[step], name=name), None


async def ask(
    update: Update, context: Context, user: User, found: usecase.CheckInView
) -> str | int:
    step = found.step
    await remember_step(update, context, FLOW, step)
    text, markup = question(user.language, found)
    await say(update, text, markup)
    return step


async def stop(update: Update, context: Context, user: User, refusal: Refused) -> int:
    await remember_step(update, context, FLOW, None)
    await explain(update, user, refusal)
    return END


async def keep(update: Update, user: User, refusal: Refused) -> None:
    """A refused button: explain, and leave the person at the question they are on
    (None keeps the state), so a stale or forged press changes nothing at all."""
    await explain(update, user, refusal)


# -- starting and resuming -------------------------------------------------------------------


async def open_checkin(update: Update, context: Context) -> str | int | None:
    """/checkin or the prompt's button: the next question of the check-in meant."""
    user = await remember_user(update, context)
    query = update.callback_query
    try:
        if query is not None:
            checkin_id = int(callback_parts(update, 3)[2])
            found: usecase.CheckInView | None = await run(
                context, lambda s: usecase.begin(s, checkin_id=checkin_id, user=user)
            )
        else:
            found = await run(context, lambda s: usecase.begin_latest(s, user=user))
    except Refused as refusal:
        await keep(update, user, refusal)
        return None
    await answer_button(update)
    if found is None:
        await say(update, t(user.language, "checkins.none"))
        return None
    return await ask(update, context, user, found)


# -- the questions ---------------------------------------------------------------------------


def _typed(step: str) -> Callable[[Update, Context], Coroutine[Any, Any, str | int]]:
    async def typed(update: Update, context: Context) -> str | int:
        user = await remember_user(update, context)
        text = message_of(update).text or ""
        try:
            found = await run(
                context, lambda s: usecase.answer(s, user=user, step=step, value=text)
            )
        except Refused as refusal:
            if refusal.key not in STAYS:
                return await stop(update, context, user, refusal)
            markup = None
            if step == RATING and user.focus_checkin_id is not None:
                markup = rating_keyboard(user.focus_checkin_id)
            await say(update, t(user.language, refusal.key, **refusal.values), markup)
            return step
        return await ask(update, context, user, found)

    return typed


async def rated(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    _, _, checkin_id, value = callback_parts(update, 4)
    try:
        found = await run(
            context,
            lambda s: usecase.answer(
                s, user=user, step=RATING, value=value, checkin_id=int(checkin_id)
            ),
        )
    except Refused as refusal:
        await keep(update, user, refusal)
        return None
    await answer_button(update)
    return await ask(update, context, user, found)


async def skipped_note(update: Update, context: Context) -> str | int | None:
    user = await remember_user(update, context)
    checkin_id = int(callback_parts(update, 3)[2])
    try:
        found = await run(context, lambda s: usecase.skip_note(s, user=user, checkin_id=checkin_id))
    except Refused as refusal:
        await keep(update, user, refusal)
        return None
    await answer_button(update)
    return await ask(update, context, user, found)


async def chose_sharing(update: Update, context: Context) -> int | None:
    user = await remember_user(update, context)
    _, _, checkin_id, choice = callback_parts(update, 4)
    try:
        found = await run(
            context,
            lambda s: usecase.share(
                s, user=user, checkin_id=int(checkin_id), choice=choice, now=now(context)
            ),
        )
    except Refused as refusal:
        await keep(update, user, refusal)
        return None
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    await say(
        update,
        t(user.language, DONE_TEXTS[Sharing(choice)], name=display_name(found.partner)),
    )
    return END


async def use_buttons(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    await say(update, t(user.language, "checkins.use_buttons"))
    return SHARE


async def text_needed(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await say(update, t(user.language, "common.text_please"))


async def pause(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "checkins.paused"))
    return END


# -- what the outbox sends -------------------------------------------------------------------


def _start_button(language: str, checkin_id: int) -> list[list[tuple[str, str]]]:
    return [[(t(language, "checkins.button.start"), f"ci:go:{checkin_id}")]]


async def _invitation(ctx: scheduler.RenderContext, key: str) -> scheduler.Outgoing | None:
    checkin_id = int(ctx.notification.payload["checkin_id"])
    found = await usecase.still_wanted(ctx.session, checkin_id=checkin_id, user=ctx.recipient)
    if found is None:
        return None
    language = ctx.recipient.language
    return scheduler.Outgoing(
        text=t(language, key, name=display_name(found.partner), period=found.checkin.period),
        buttons=_start_button(language, checkin_id),
    )


async def render_prompt(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    return await _invitation(ctx, N_("checkins.prompt"))


async def render_reminder(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    return await _invitation(ctx, N_("checkins.reminder"))


async def render_shared(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The partner's copy of what the author chose to share, and nothing else."""
    shown = await usecase.shared_with(
        ctx.session, checkin_id=int(ctx.notification.payload["checkin_id"]), reader=ctx.recipient
    )
    if shown is None:
        return None
    language, name = ctx.recipient.language, display_name(shown.author)
    parts = [t(language, "checkins.shared.title", name=name, period=shown.period)]
    if shown.works_well is not None and shown.could_improve is not None:
        parts.append(
            t(
                language,
                "checkins.shared.answers",
                works_well=shown.works_well,
                could_improve=shown.could_improve,
                rating=shown.rating if shown.rating is not None else "—",
            )
        )
    if shown.note is not None:
        note_key = (
            N_("checkins.shared.note_from_adept")
            if shown.author_role == Role.ADEPT
            else N_("checkins.shared.note_from_mentor")
        )
        parts.append(t(language, note_key, name=name, note=shown.note))
    parts.append(t(language, "checkins.shared.footer"))
    return scheduler.Outgoing(text="\n\n".join(parts))


for _kind, _renderer in (
    (usecase.PROMPT_KIND, render_prompt),
    (usecase.REMINDER_KIND, render_reminder),
    (usecase.SHARED_KIND, render_shared),
):
    scheduler.register(_kind, _renderer)


async def checkin_job(context: Context) -> None:
    """Hourly: open the check-ins that fell due (the rule lives in the use case)."""
    svc = services.of(context)
    async with svc.db.session() as session:
        opened = await usecase.plan_checkins(session, now=svc.clock.now())
    if opened:
        scheduler.kick(context.application)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    not_text = ~filters.COMMAND & ~filters.TEXT
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        WORKS_WELL: [
            MessageHandler(text, _typed(WORKS_WELL)),
            MessageHandler(not_text, text_needed),
        ],
        COULD_IMPROVE: [
            MessageHandler(text, _typed(COULD_IMPROVE)),
            MessageHandler(not_text, text_needed),
        ],
        RATING: [
            CallbackQueryHandler(rated, pattern=r"^ci:rate:\d{1,18}:[1-5]$"),
            MessageHandler(text, _typed(RATING)),
        ],
        NOTE: [
            CallbackQueryHandler(skipped_note, pattern=r"^ci:skip:\d{1,18}$"),
            MessageHandler(text, _typed(NOTE)),
            MessageHandler(not_text, text_needed),
        ],
        SHARE: [
            CallbackQueryHandler(chose_sharing, pattern=r"^ci:share:\d{1,18}:(all|note|none)$"),
            MessageHandler(text, use_buttons),
        ],
    }
    return ConversationHandler(
        entry_points=[
            CommandHandler("checkin", open_checkin, filters=private),
            CallbackQueryHandler(open_checkin, pattern=r"^ci:go:\d{1,18}$"),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", pause)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )
