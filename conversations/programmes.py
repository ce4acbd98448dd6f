"""/programme new: a super-coordinator sets up a programme step by step and gets its join
links; /programme: a coordinator's programmes with their links, member counts and closing;
/start j<code>: joining a programme by link.

Callback data (all re-checked in `bot.usecases.programmes`):
prg:skip                 skip a skippable step      prg:lang:<sv|en>     the default language
prg:tz:keep              keep the time zone         prg:len:<months>     the planned length
prg:show:<programme>     one programme's overview   prg:close:<programme>  ask to close it
prg:closeyes:<programme> close it                   prg:closeno:<programme> keep it open
prg:join:<code>          join by link
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommandScopeChat, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.helpers import create_deep_linked_url

from bot import services
from bot.commands import coordinator_menu
from bot.domain import programmes as rules
from bot.i18n import N_, tn
from bot.usecases import programmes as usecase
from conversations.common import Context, answer_button, keyboard, raw_keyboard
from conversations.step import END, Callback, State, Step, step
from storage.models import Programme, ProgrammeRole

log = logging.getLogger("mentorbot.programmes")

FLOW = "programmes"
NAME, CONTACT, SUPPORT, CONDUCT = "name", "contact", "support", "conduct"
LANGUAGE, TIMEZONE, LENGTH, AREAS = "language", "timezone", "length", "areas"
# The wizard's order after the name; each step stores the field of the same name.
STEPS = (CONTACT, SUPPORT, CONDUCT, LANGUAGE, TIMEZONE, LENGTH, AREAS)
QUESTION = {
    CONTACT: N_("programme.new.ask_contact"),
    SUPPORT: N_("programme.new.ask_support"),
    CONDUCT: N_("programme.new.ask_conduct"),
    LANGUAGE: N_("programme.new.ask_language"),
    TIMEZONE: N_("programme.new.ask_timezone"),
    LENGTH: N_("programme.new.ask_length"),
    AREAS: N_("programme.new.ask_areas"),
}
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}
DEFAULT_TIMEZONE = "Europe/Stockholm"
COUNTS = (
    (ProgrammeRole.MENTOR, N_("programme.count.mentor")),
    (ProgrammeRole.ADEPT, N_("programme.count.adept")),
    (ProgrammeRole.COORDINATOR, N_("programme.count.coordinator")),
)


def _super_coordinators(s: Step) -> list[int]:
    return services.of(s.context).settings.admin_ids


def _link(s: Step, code: str) -> str:
    return create_deep_linked_url(s.context.bot.username, rules.join_payload(code))


def _links(s: Step, programme: Programme) -> str:
    return s.t(
        N_("programme.links"),
        mentor_link=_link(s, programme.mentor_code),
        adept_link=_link(s, programme.adept_code),
        coordinator_link=_link(s, programme.coordinator_code),
    )


def _markup(s: Step, field: str) -> InlineKeyboardMarkup | None:
    if field == LANGUAGE:
        return raw_keyboard([[(name, f"prg:lang:{code}")] for code, name in LANGUAGE_NAMES.items()])
    if field == TIMEZONE:
        return keyboard(s.language, [[(N_("programme.button.keep_timezone"), "prg:tz:keep")]])
    if field == LENGTH:
        return raw_keyboard(
            [
                [(tn(s.language, "contract.value.months", n), f"prg:len:{n}")]
                for n in rules.LENGTH_CHOICES
            ]
        )
    if field in usecase.SKIPPABLE:
        return keyboard(s.language, [[(N_("programme.button.skip"), "prg:skip")]])
    return None


async def _ask(s: Step, field: str) -> State:
    return await s.reply(
        QUESTION[field],
        next=field,
        markup=_markup(s, field),
        n=len(STEPS) + 1,
        step=STEPS.index(field) + 2,
        low=rules.LENGTH_MIN,
        high=rules.LENGTH_MAX,
        limit=rules.AREAS_MAX,
        chars=rules.AREA_MAX_CHARS,
    )


async def _answered(s: Step, field: str, value: str | None) -> State:
    """Store the answer; ask the next step, or open the programme after the last one."""
    await s.do(usecase.answer_draft, user=s.person, field=field, value=value)
    if s.update.callback_query is not None and s.update.callback_query.message is not None:
        await answer_button(s.update)
        await s.update.callback_query.edit_message_reply_markup(None)
    index = STEPS.index(field)
    if index + 1 < len(STEPS):
        return await _ask(s, STEPS[index + 1])
    programme = await s.do(usecase.finish_draft, user=s.person, now=s.now)
    await s.goto(END)
    name = usecase.name_of(programme, s.language)
    await s.say(s.t(N_("programme.created"), programme=name) + "\n\n" + _links(s, programme))
    return END


# -- the wizard -----------------------------------------------------------------------------


@step(FLOW)
async def command(s: Step) -> State:
    """/programme new starts the wizard; /programme alone shows the person's programmes."""
    arguments = s.context.args or []
    if arguments and arguments[0].lower() in ("new", "ny"):
        await s.do(usecase.may_create, user=s.person, super_coordinators=_super_coordinators(s))
        return await s.reply(
            N_("programme.new.ask_name"),
            next=NAME,
            n=len(STEPS) + 1,
            limit=rules.NAME_MAX_CHARS,
        )
    if arguments:
        return await s.reply(N_("programme.usage"), next=END)
    found = await s.do(usecase.mine, user=s.person, super_coordinators=_super_coordinators(s))
    if len(found) == 1 and found[0].id is not None:
        await s.goto(END)
        await _show(s, found[0].id)
        return END
    rows = [[(usecase.name_of(p, s.language), f"prg:show:{p.id}")] for p in found]
    return await s.reply(N_("programme.pick"), next=END, markup=raw_keyboard(rows))


@step(FLOW)
async def typed_name(s: Step) -> State:
    await s.do(
        usecase.name_draft,
        user=s.person,
        text=s.text,
        super_coordinators=_super_coordinators(s),
        now=s.now,
    )
    return await _ask(s, STEPS[0])


def _typed(field: str) -> Callback:
    @step(FLOW)
    async def typed(s: Step) -> State:
        return await _answered(s, field, s.text)

    return typed


def _skipped(field: str) -> Callback:
    @step(FLOW)
    async def skipped(s: Step) -> State:
        return await _answered(s, field, None)

    return skipped


def _pressed(field: str) -> Callback:
    """A button's value (`prg:<kind>:<value>`) as the answer."""

    @step(FLOW)
    async def pressed(s: Step) -> State:
        value = s.parts(3)[2]
        return await _answered(s, field, DEFAULT_TIMEZONE if value == "keep" else value)

    return pressed


@step(FLOW)
async def use_buttons(s: Step) -> State:
    return await s.reply(N_("programme.new.use_buttons"), next=None, markup=_markup(s, LANGUAGE))


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("programme.new.cancelled"), next=END)


# -- a coordinator's programmes -------------------------------------------------------------


async def _show(s: Step, programme_id: int) -> None:
    seen = await s.do(
        usecase.overview,
        user=s.person,
        programme_id=programme_id,
        super_coordinators=_super_coordinators(s),
    )
    programme = seen.programme
    lines = [
        s.t(
            N_("programme.overview.open")
            if programme.closed_at is None
            else N_("programme.overview.closed"),
            programme=usecase.name_of(programme, s.language),
        )
    ]
    lines += [tn(s.language, key, seen.counts.get(role, 0)) for role, key in COUNTS]
    text = "\n".join(lines)
    markup = None
    if programme.closed_at is None:
        text += "\n\n" + _links(s, programme)
        if not programme.is_default:
            markup = keyboard(
                s.language, [[(N_("programme.button.close"), f"prg:close:{programme.id}")]]
            )
    await s.say(text, markup)


@step()
async def show(s: Step) -> State:
    await _show(s, int(s.parts(3)[2]))
    return None


@step()
async def ask_close(s: Step) -> State:
    programme_id = int(s.parts(3)[2])
    seen = await s.do(
        usecase.overview,
        user=s.person,
        programme_id=programme_id,
        super_coordinators=_super_coordinators(s),
    )
    answers = [
        [
            (N_("programme.button.close_yes"), f"prg:closeyes:{programme_id}"),
            (N_("programme.button.close_no"), f"prg:closeno:{programme_id}"),
        ]
    ]
    return await s.reply(
        N_("programme.close.confirm"),
        next=None,
        markup=keyboard(s.language, answers),
        programme=usecase.name_of(seen.programme, s.language),
    )


async def _edit(s: Step, text: str) -> None:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(text)


@step()
async def close(s: Step) -> State:
    programme = await s.do(
        usecase.close,
        user=s.person,
        programme_id=int(s.parts(3)[2]),
        super_coordinators=_super_coordinators(s),
        now=s.now,
    )
    name = usecase.name_of(programme, s.language)
    await _edit(s, s.t(N_("programme.close.done"), programme=name))
    return None


@step()
async def keep_open(s: Step) -> State:
    await _edit(s, s.t(N_("programme.close.kept")))
    return None


# -- joining by link ------------------------------------------------------------------------


async def show_join(update: Update, context: Context, code: str) -> None:
    """/start j<code>: which programme, in which role, with a Join button."""
    await _join_offer(code)(update, context)


def _join_offer(code: str) -> Callback:
    @step()
    async def offer(s: Step) -> State:
        seen = await s.do(usecase.view_join, code=code, user=s.person)
        join = [[(N_("programme.button.join"), f"prg:join:{code}")]]
        return await s.reply(
            f"programme.join.ask.{seen.role}",
            next=None,
            markup=keyboard(s.language, join),
            programme=seen.name,
        )

    return offer


@step()
async def join(s: Step) -> State:
    seen = await s.do(
        usecase.join,
        code=s.parts(3)[2],
        user=s.person,
        now=s.now,
        deployment_timezone=services.of(s.context).settings.timezone,
        telegram_language=s.update.effective_user.language_code
        if s.update.effective_user
        else None,
    )
    if seen.role == ProgrammeRole.COORDINATOR:
        await _coordinator_menu(s)
    text = s.t(f"programme.join.done.{seen.role}", programme=seen.name)
    if seen.timezone is not None:
        text += "\n\n" + s.t(N_("programme.join.timezone"), timezone=seen.timezone)
    await _edit(s, text)
    return None


async def _coordinator_menu(s: Step) -> None:
    """A new coordinator's own chat gets the coordinators' menu (/programme, /stats)."""
    chat = s.update.effective_chat
    assert chat is not None
    try:
        await s.context.bot.set_my_commands(
            coordinator_menu(s.language), scope=BotCommandScopeChat(chat.id)
        )
    except TelegramError as error:
        # The menu is a convenience: the commands work without it.
        log.info("no coordinator menu for a new coordinator: %s", type(error).__name__)


def conversation() -> ConversationHandler[Context]:
    text = filters.TEXT & ~filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        NAME: [MessageHandler(text, typed_name)],
        LANGUAGE: [
            CallbackQueryHandler(_pressed(LANGUAGE), pattern=r"^prg:lang:(sv|en)$"),
            MessageHandler(text, use_buttons),
        ],
        TIMEZONE: [
            CallbackQueryHandler(_pressed(TIMEZONE), pattern=r"^prg:tz:keep$"),
            MessageHandler(text, _typed(TIMEZONE)),
        ],
        LENGTH: [
            CallbackQueryHandler(_pressed(LENGTH), pattern=r"^prg:len:\d{1,2}$"),
            MessageHandler(text, _typed(LENGTH)),
        ],
    }
    for field in (CONTACT, SUPPORT, CONDUCT, AREAS):
        states[field] = [MessageHandler(text, _typed(field))]
        if field in usecase.SKIPPABLE:
            states[field].append(CallbackQueryHandler(_skipped(field), pattern=r"^prg:skip$"))
    return ConversationHandler(
        entry_points=[CommandHandler("programme", command, filters=filters.ChatType.PRIVATE)],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CallbackQueryHandler(show, pattern=r"^prg:show:\d+$"),
        CallbackQueryHandler(ask_close, pattern=r"^prg:close:\d+$"),
        CallbackQueryHandler(close, pattern=r"^prg:closeyes:\d+$"),
        CallbackQueryHandler(keep_open, pattern=r"^prg:closeno:\d+$"),
        CallbackQueryHandler(join, pattern=r"^prg:join:[A-Za-z0-9_-]{32}$"),
    ]
