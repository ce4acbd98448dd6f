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

from bot import scheduler, services, unit_of_work
from bot.i18n import normalise_language, t
from bot.textsplit import split_html
from bot.usecases import Refused
from storage import users
from storage.models import User

Context = CallbackContext[Any, Any, Any, Any]
T = TypeVar("T")
KeyRows = Sequence[Sequence[tuple[str, str]]]


async def remember_user(update: Update, context: Context) -> User:
    """The person behind this update: loaded (or created) once per update.

    Inside an update this is the unit of work's person; a new person is
    committed at once so that a refusal later in the update cannot undo them.
    """
    tg_user = update.effective_user
    assert tg_user is not None, "handlers are registered for private chats with a sender"
    work = unit_of_work.current()
    if work is not None and work.person is not None and work.refreshed:
        person: User = work.person
        return person
    svc = services.of(context)
    language = normalise_language(tg_user.language_code, svc.settings.default_language)
    if work is None:
        async with svc.db.session() as session:
            return await users.upsert_from_telegram(
                session,
                telegram_id=tg_user.id,
                first_name=tg_user.first_name,
                last_name=tg_user.last_name,
                username=tg_user.username,
                language=language,
                timezone=svc.settings.timezone,
            )
    session = work.session
    found = (
        work.person
        if work.person_loaded
        else await users.get_by_telegram_id(session, telegram_id=tg_user.id)
    )
    if found is None:
        found = await users.create_from_telegram(
            session,
            telegram_id=tg_user.id,
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            username=tg_user.username,
            language=language,
            timezone=svc.settings.timezone,
        )
        await work.commit()
    else:
        users.refresh_from_telegram(
            session,
            user=found,
            first_name=tg_user.first_name,
            last_name=tg_user.last_name,
            username=tg_user.username,
            language=language,
        )
    work.person = found
    work.refreshed = True
    return found


def now(context: Context) -> datetime:
    return services.of(context).clock.now()


def today_for(user: User, context: Context) -> date:
    return now(context).astimezone(ZoneInfo(user.timezone)).date()


def local_date(user: User, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(user.timezone)).date()


async def run(context: Context, action: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run one use case in the update's unit of work (committed before the reply goes out).

    A `Refused` from the action leaves nothing of it behind and propagates.
    Outside an update (a scheduled job) the action gets its own transaction.
    """
    work = unit_of_work.current()
    if work is not None:
        return await work.act(action)
    async with services.of(context).db.session() as session:
        result = await action(session)
        queued = bool(session.info.get(unit_of_work.QUEUED))
    if queued:
        scheduler.kick(context.application)
    return result


async def remember_step(update: Update, context: Context, flow: str, state: object) -> None:
    """Record where this person stands in `flow` before the bot says so.

    The step is written in the update's own transaction, which commits before
    the reply leaves (PTB alone would record it only after the reply went
    out). `state=None` records that the flow ended.
    """
    work = unit_of_work.current()
    if work is not None and work.step_key is not None:
        work.set_step(flow, state)


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


async def answer_button(update: Update, toast: str | None = None) -> None:
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
    await query.answer(toast)


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
