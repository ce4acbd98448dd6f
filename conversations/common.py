"""Small helpers shared by the handlers: who is talking, running an action, answering."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import CallbackContext

from bot import scheduler, services
from bot.i18n import normalise_language, t
from bot.textsplit import split_html
from bot.usecases import Refused
from storage import users
from storage.models import User

Context = CallbackContext[Any, Any, Any, Any]
T = TypeVar("T")
KeyRows = Sequence[Sequence[tuple[str, str]]]


async def remember_user(update: Update, context: Context) -> User:
    """The stored user behind this update, created or refreshed and committed."""
    tg_user = update.effective_user
    assert tg_user is not None, "handlers are registered for private chats with a sender"
    svc = services.of(context)
    async with svc.db.session() as session:
        return await users.upsert_from_telegram(
            session,
            telegram_id=tg_user.id,
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            username=tg_user.username,
            language=normalise_language(tg_user.language_code, svc.settings.default_language),
            timezone=svc.settings.timezone,
        )


def now(context: Context) -> datetime:
    return services.of(context).clock.now()


def today_for(user: User, context: Context) -> date:
    return now(context).astimezone(ZoneInfo(user.timezone)).date()


def local_date(user: User, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(user.timezone)).date()


async def run(context: Context, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one action in one committed transaction, then send what it queued right away.

    A `Refused` from the action rolls everything back and propagates.
    """
    async with services.of(context).db.session() as session:
        result = await action(session)
    # What the action queued (the partner's notice) goes out now, not at the next tick.
    scheduler.kick(context.application)
    return result


async def remember_step(update: Update, context: Context, flow: str, state: object) -> None:
    """Store where this person stands in `flow` before the bot says so.

    PTB records a conversation's new state only after the callback returns,
    which is after the reply went out; a crash in between would send the
    person back a step although the bot had moved on. Writing the step first
    closes that window. `state=None` records that the flow ended.
    """
    chat, user = update.effective_chat, update.effective_user
    persistence = context.application.persistence
    if chat is None or user is None or persistence is None:
        return
    # ConversationHandler's key with per_chat and per_user (its defaults).
    await persistence.update_conversation(flow, (chat.id, user.id), state)


def message_of(update: Update) -> Message:
    message = update.effective_message
    assert message is not None
    return message


def keyboard(language: str, rows: KeyRows) -> InlineKeyboardMarkup:
    """Inline buttons from (translation key, callback data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(t(language, key), callback_data=data) for key, data in row]
         for row in rows]
    )  # fmt: skip


def raw_keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline buttons whose labels are not translation keys (names, dates)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
    """Send `text` (HTML) to the chat, split if long; buttons go under the last piece."""
    chat = update.effective_chat
    assert chat is not None
    pieces = split_html(text)
    sent: Message | None = None
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        sent = await chat.send_message(piece, reply_markup=markup if last else None)
    assert sent is not None
    return sent


_ANSWERED: OrderedDict[str, None] = OrderedDict()


async def answer_button(update: Update) -> None:
    """Acknowledge a pressed button so the app stops its spinner, once per press.

    Telegram refuses a second answer to the same press, and a press may pass
    through two helpers (choosing the mentorship, then the action itself).
    """
    query = update.callback_query
    if query is None or query.id in _ANSWERED:
        return
    _ANSWERED[query.id] = None
    while len(_ANSWERED) > 1000:
        _ANSWERED.popitem(last=False)
    await query.answer()


async def explain(update: Update, user: User, refusal: Refused) -> None:
    """Tell the person kindly why that did not work; nothing was changed."""
    await answer_button(update)
    await say(update, t(user.language, refusal.key, **refusal.values))


def callback_parts(update: Update, expected: int) -> list[str]:
    """The ':'-separated fields of the pressed button's data (already matched by pattern)."""
    query = update.callback_query
    assert query is not None and query.data is not None
    parts = query.data.split(":")
    assert len(parts) == expected
    return parts


async def use_buttons(update: Update, context: Context) -> None:
    """Text typed where the question has buttons: point at them; nothing is lost."""
    user = await remember_user(update, context)
    await say(update, t(user.language, "common.use_buttons"))
