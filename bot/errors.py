"""The error handler: a kind word to the user, a log line without anything they wrote."""

from __future__ import annotations

import logging
import traceback
from typing import Any

from telegram import Update
from telegram.error import Forbidden, NetworkError
from telegram.ext import CallbackContext

from bot import services, unit_of_work
from bot.i18n import normalise_language, t
from storage import users

log = logging.getLogger("mentorbot.errors")


def describe(error: BaseException) -> str:
    """Class name and code location only: exception messages may quote user text."""
    frames = traceback.extract_tb(error.__traceback__)[-3:]
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in frames)
    return f"{type(error).__module__}.{type(error).__qualname__} at {where or '?'}"


async def on_error(update: object, context: CallbackContext[Any, Any, Any, Any]) -> None:
    error = context.error
    if error is None:
        return
    update_id = update.update_id if isinstance(update, Update) else None
    # Whatever the failed update wrote since its last reply is undone, before the
    # apology below is sent (sending commits the unit of work).
    await unit_of_work.abandon()
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_user:
        # The person blocked the bot: remember it so nothing more is queued for them.
        async with services.of(context).db.session() as session:
            await users.mark_blocked(session, telegram_id=update.effective_user.id)
        log.info("user blocked the bot (update %s)", update_id)
        return
    if isinstance(error, NetworkError) and not isinstance(update, Update):
        log.warning("network trouble talking to Telegram: %s", type(error).__name__)
        return
    log.error("unhandled error in update %s: %s", update_id, describe(error))
    if isinstance(update, Update) and update.effective_chat is not None:
        settings = services.of(context).settings
        user = update.effective_user
        language = normalise_language(
            user.language_code if user else None, settings.default_language
        )
        try:
            await context.bot.send_message(update.effective_chat.id, t(language, "error.generic"))
        except Exception as exc:  # the apology itself failed; nothing more to do
            log.warning("could not send the apology: %s", type(exc).__name__)
