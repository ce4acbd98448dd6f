"""/settings: choose language, then time zone. Each answer is stored before it is confirmed."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import services
from bot.domain.timezones import COMMON, parse_timezone
from bot.i18n import t
from conversations.common import Context, message_of, remember_step, remember_user
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


async def begin(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, LANGUAGE)
    await message_of(update).reply_text(
        t(
            user.language,
            "settings.current",
            language=LANGUAGE_NAMES.get(user.language, user.language),
            timezone=user.timezone,
        ),
        reply_markup=_language_keyboard(),
    )
    return LANGUAGE


async def choose_language(update: Update, context: Context) -> str | int:
    query = update.callback_query
    assert query is not None and query.data is not None
    code = query.data.removeprefix(CB_LANG)
    if code not in LANGUAGE_NAMES:
        await query.answer()
        return LANGUAGE
    user = await remember_user(update, context)
    async with services.of(context).db.session() as session:
        user = await users.set_language(session, user=user, language=code)
    await remember_step(update, context, FLOW, TIMEZONE)
    await query.answer()
    await query.edit_message_text(t(code, "settings.language_saved", language=LANGUAGE_NAMES[code]))
    await message_of(update).reply_text(
        t(code, "settings.ask_timezone", timezone=user.timezone), reply_markup=_timezone_keyboard()
    )
    return TIMEZONE


async def _save_timezone(update: Update, context: Context, zone: str) -> int:
    user = await remember_user(update, context)
    async with services.of(context).db.session() as session:
        await users.set_timezone(session, user=user, timezone=zone)
    await remember_step(update, context, FLOW, None)
    await message_of(update).reply_text(t(user.language, "settings.timezone_saved", timezone=zone))
    return ConversationHandler.END


async def choose_timezone_button(update: Update, context: Context) -> str | int:
    query = update.callback_query
    assert query is not None and query.data is not None
    zone = parse_timezone(query.data.removeprefix(CB_TZ))
    await query.answer()
    if zone is None:
        return TIMEZONE
    await query.edit_message_reply_markup(None)
    return await _save_timezone(update, context, zone)


async def type_timezone(update: Update, context: Context) -> str | int:
    zone = parse_timezone(message_of(update).text or "")
    if zone is None:
        user = await remember_user(update, context)
        await message_of(update).reply_text(
            t(user.language, "settings.timezone_unknown"), reply_markup=_timezone_keyboard()
        )
        return TIMEZONE
    return await _save_timezone(update, context, zone)


async def use_buttons(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    await message_of(update).reply_text(
        t(user.language, "settings.use_buttons"), reply_markup=_language_keyboard()
    )
    return LANGUAGE


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await message_of(update).reply_text(t(user.language, "common.cancelled"))
    return ConversationHandler.END


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
        persistent=True,
        allow_reentry=True,
    )
