"""/settings: choose language, then time zone. Each answer is stored before it is confirmed."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.domain.timezones import COMMON, parse_timezone
from bot.i18n import N_
from conversations.common import Context, answer_button
from conversations.step import END, State, Step, step
from storage import users

FLOW = "settings"
LANGUAGE, TIMEZONE = "language", "timezone"

CB_LANG = "set:lang:"
CB_TZ = "set:tz:"
LANGUAGE_NAMES = {"sv": "Svenska", "en": "English"}


def _language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(name, callback_data=CB_LANG + code)]
            for code, name in LANGUAGE_NAMES.items()
        ]
    )


def _timezone_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(zone.replace("_", " "), callback_data=CB_TZ + zone)]
            for zone in COMMON
        ]
    )


@step(FLOW)
async def begin(s: Step) -> State:
    language = LANGUAGE_NAMES.get(s.language, s.language)
    return await s.reply(
        N_("settings.current"),
        next=LANGUAGE,
        markup=_language_keyboard(),
        language=language,
        timezone=s.person.timezone,
    )


@step(FLOW)
async def choose_language(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None and query.data is not None
    code = query.data.removeprefix(CB_LANG)
    if code not in LANGUAGE_NAMES:
        await answer_button(s.update)
        return None
    await s.do(users.set_language, user=s.person, language=code)
    await s.goto(TIMEZONE)
    await answer_button(s.update)
    # `s.t` speaks the language just chosen from here on.
    await query.edit_message_text(s.t(N_("settings.language_saved"), language=LANGUAGE_NAMES[code]))
    await s.say(s.t(N_("settings.ask_timezone"), timezone=s.person.timezone), _timezone_keyboard())
    return TIMEZONE


async def _save_timezone(s: Step, zone: str) -> State:
    await s.do(users.set_timezone, user=s.person, timezone=zone)
    return await s.reply(N_("settings.timezone_saved"), next=END, timezone=zone)


@step(FLOW)
async def choose_timezone_button(s: Step) -> State:
    query = s.update.callback_query
    assert query is not None and query.data is not None
    zone = parse_timezone(query.data.removeprefix(CB_TZ))
    await answer_button(s.update)
    if zone is None:
        return None
    await query.edit_message_reply_markup(None)
    return await _save_timezone(s, zone)


@step(FLOW)
async def type_timezone(s: Step) -> State:
    zone = parse_timezone(s.text)
    if zone is None:
        return await s.reply(
            N_("settings.timezone_unknown"), next=None, markup=_timezone_keyboard()
        )
    return await _save_timezone(s, zone)


@step(FLOW)
async def use_buttons(s: Step) -> State:
    return await s.reply(N_("settings.use_buttons"), next=LANGUAGE, markup=_language_keyboard())


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("common.cancelled"), next=END)


def conversation() -> ConversationHandler[Context]:
    return ConversationHandler(
        entry_points=[CommandHandler("settings", begin, filters=filters.ChatType.PRIVATE)],
        states={
            LANGUAGE: [
                CallbackQueryHandler(choose_language, pattern=f"^{CB_LANG}"),
                MessageHandler(filters.TEXT & ~filters.COMMAND, use_buttons),
            ],
            TIMEZONE: [
                CallbackQueryHandler(choose_timezone_button, pattern=f"^{CB_TZ}"),
                MessageHandler(filters.TEXT & ~filters.COMMAND, type_timezone),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )
