"""Builds the PTB `Application`: the one place where handlers, storage and settings meet."""

from __future__ import annotations

import logging
import warnings
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults, TypeHandler
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from bot import scheduler, services
from bot.clock import Clock, SystemClock
from bot.commands import menus
from bot.errors import on_error
from bot.settings import Settings
from conversations import choose, contract, fallback, help, intro, pairing, settings, start
from storage.db import Database
from storage.persistence import DatabasePersistence

log = logging.getLogger("mentorbot")

# Our conversations are per user, not per message, on purpose: a person is in one
# step of a flow whichever message's button they press; stale buttons are re-checked.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Runs after every other handler group: see `_flush_conversations`.
FLUSH_GROUP = 100


async def _flush_conversations(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Write changed conversation states right after each update.

    PTB would otherwise flush every `update_interval` seconds, and a crash in
    that window would send a person back to an earlier step although the bot
    had already acknowledged their answer.
    """
    await context.application.update_persistence()


async def _register_menus(application: AnyApplication) -> None:
    settings_: Settings = services.of_app(application).settings
    by_language = menus()
    for language, commands in by_language.items():
        await application.bot.set_my_commands(commands, language_code=language)
    await application.bot.set_my_commands(by_language[settings_.default_language])
    log.info("bot @%s ready; command menus registered", application.bot.username)


async def _close(application: AnyApplication) -> None:
    await scheduler.installed(application).close()
    await services.of_app(application).db.dispose()


def build_application(
    settings_: Settings,
    *,
    token: str,
    database: Database | None = None,
    clock: Clock | None = None,
    rate_limit: bool = True,
) -> AnyApplication:
    db = database or Database(settings_.resolved_database_url)
    builder = (
        Application.builder()
        .token(token)
        .base_url(settings_.telegram_api_url)
        .base_file_url(settings_.telegram_file_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                tzinfo=settings_.zone,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .request(HTTPXRequest(connection_pool_size=32, read_timeout=10, write_timeout=10))
        .get_updates_request(HTTPXRequest(connection_pool_size=2, read_timeout=40))
        .persistence(DatabasePersistence(db))
        .post_init(_register_menus)
        .post_shutdown(_close)
    )
    if rate_limit:
        # A safety net for replies; scheduled messages are paced by the outbox itself.
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    application = builder.build()
    services.attach(
        application, services.Services(settings=settings_, db=db, clock=clock or SystemClock())
    )

    # Conversations first, so a person in the middle of a flow is answered by it.
    application.add_handlers(
        [settings.conversation(), intro.conversation(), contract.conversation()]
    )
    application.add_handlers(
        [
            *start.handlers(),
            *help.handlers(),
            *pairing.handlers(),
            *choose.handlers(),
            *intro.handlers(),
            *contract.handlers(),
        ]
    )
    application.add_handlers(fallback.handlers())
    application.add_handler(TypeHandler(Update, _flush_conversations), group=FLUSH_GROUP)
    application.add_error_handler(on_error)
    scheduler.install(application)
    return application
