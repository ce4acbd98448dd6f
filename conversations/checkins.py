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

from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.domain import checkins as rules
from bot.domain import signals
from bot.domain.checkins import CheckInRefused, Sharing
from bot.i18n import N_, t
from bot.usecases import checkins as usecase
from bot.usecases.pairing import display_name
from conversations.common import Context, raw_keyboard
from conversations.help import coordinator_contact, support_text
from conversations.step import END, Callback, State, Step, step
from storage.models import Role

FLOW = "checkins"
WORKS_WELL, COULD_IMPROVE, RATING, NOTE, SHARE = (*rules.STEPS, rules.SHARE)
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


class TypedRating(filters.MessageFilter):
    """A typed message that is a rating as `rules.parse_rating` reads it (a digit 1–5)."""

    def filter(self, message: Message) -> bool:
        try:
            rules.parse_rating(message.text or "")
        except CheckInRefused:
            return False
        return True


async def ask(s: Step, found: usecase.CheckInView) -> State:
    """Record the next question as this person's step, then ask it."""
    text, markup = question(s.language, found)
    await s.goto(found.step)
    await s.say(text, markup)
    return found.step


# -- starting and resuming -------------------------------------------------------------------


@step(FLOW)
async def open_checkin(s: Step) -> State:
    """/checkin or the prompt's button: the next question of the check-in meant."""
    if s.update.callback_query is not None:
        found: usecase.CheckInView | None = await s.do(
            usecase.begin, checkin_id=int(s.parts(3)[2]), user=s.person
        )
    else:
        found = await s.do(usecase.begin_latest, user=s.person)
    if found is None:
        return await s.reply(N_("checkins.none"), next=None)
    return await ask(s, found)


# -- the questions ---------------------------------------------------------------------------


def typed(question_step: str) -> Callback:
    @step(FLOW)
    async def answer(s: Step) -> State:
        found = await s.do(usecase.answer, user=s.person, step=question_step, value=s.text)
        return await ask(s, found)

    return answer


@step(FLOW)
async def rating_in_words(s: Step) -> State:
    """Words where a rating is asked: not guessed at; the buttons are shown again."""
    found = await s.do(usecase.current, user=s.person)
    assert found.checkin.id is not None
    markup = rating_keyboard(found.checkin.id)
    return await s.reply(N_("checkins.refused.rating"), next=None, markup=markup)


@step(FLOW)
async def rated(s: Step) -> State:
    _, _, checkin_id, value = s.parts(4)
    found = await s.do(
        usecase.answer, user=s.person, step=RATING, value=value, checkin_id=int(checkin_id)
    )
    return await ask(s, found)


@step(FLOW)
async def skipped_note(s: Step) -> State:
    found = await s.do(usecase.skip_note, user=s.person, checkin_id=int(s.parts(3)[2]))
    return await ask(s, found)


@step(FLOW)
async def chose_sharing(s: Step) -> State:
    _, _, checkin_id, choice = s.parts(4)
    found = await s.do(
        usecase.share, user=s.person, checkin_id=int(checkin_id), choice=choice, now=s.now
    )
    name = display_name(found.partner)
    done = await s.reply(DONE_TEXTS[Sharing(choice)], next=END, name=name)
    if signals.is_low(found.checkin.rating):
        # Only for the author, whatever they shared: a hard month deserves a kind word.
        contact = await coordinator_contact(s)
        text = s.t(N_("signals.low_rating"), name=name) + "\n\n" + support_text(s.language, contact)
        await s.say(text)
    return done


@step(FLOW)
async def use_buttons(s: Step) -> State:
    return await s.reply(N_("checkins.use_buttons"), next=None)


@step(FLOW)
async def text_needed(s: Step) -> State:
    return await s.reply(N_("common.text_please"), next=None)


@step(FLOW)
async def pause(s: Step) -> State:
    return await s.reply(N_("checkins.paused"), next=END)


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


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    not_text = ~filters.COMMAND & ~filters.TEXT
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        WORKS_WELL: [
            MessageHandler(text, typed(WORKS_WELL)),
            MessageHandler(not_text, text_needed),
        ],
        COULD_IMPROVE: [
            MessageHandler(text, typed(COULD_IMPROVE)),
            MessageHandler(not_text, text_needed),
        ],
        RATING: [
            CallbackQueryHandler(rated, pattern=r"^ci:rate:\d{1,18}:[1-5]$"),
            MessageHandler(text & TypedRating(), typed(RATING)),
            MessageHandler(text, rating_in_words),
        ],
        NOTE: [
            CallbackQueryHandler(skipped_note, pattern=r"^ci:skip:\d{1,18}$"),
            MessageHandler(text, typed(NOTE)),
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
        persistent=False,
        allow_reentry=True,
    )
