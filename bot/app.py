"""Builds the PTB `Application`: the one place where handlers, storage and settings meet."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

from telegram import BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ContextTypes,
    ConversationHandler,
    Defaults,
    TypeHandler,
)
from telegram.warnings import PTBUserWarning

from bot import planning, scheduler, services, tls
from bot.clock import Clock, SystemClock
from bot.commands import coordinator_menu, menus
from bot.errors import on_error
from bot.keys import load_keyring
from bot.settings import Settings
from bot.telegram_http import AiohttpRequest
from bot.unit_of_work import CommittingRequest, StoredSteps, UnitOfWorkProcessor
from conversations import (
    announcements,
    chat_member,
    checkins,
    choose,
    closing,
    contract,
    diary,
    directory,
    fallback,
    goals,
    help,
    intro,
    meeting_notices,  # noqa: F401 (registers what meetings send)
    meetings,
    pairing,
    privacy,
    profile,
    programmes,
    questions,
    settings,
    start,
    stats,
    support,
)
from storage import crypto
from storage import programmes as programme_store
from storage.crypto import KeyRing
from storage.db import Database

log = logging.getLogger("mentorbot")

# Our conversations are per user, not per message, on purpose: a person is in one
# step of a flow whichever message's button they press; stale buttons are re-checked.
warnings.filterwarnings("ignore", message="If 'per_message=False'", category=PTBUserWarning)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Runs before the flows: see `_one_flow_at_a_time`.
FLOW_SWITCH_GROUP = -10


async def _one_flow_at_a_time(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Starting a flow leaves any other flow the person was in.

    Otherwise the earlier flow, registered first, would go on taking their typed
    answers (a goal's text landing in a half-finished contract). The steps are
    the unit of work's (see `StoredSteps`), so ending a flow here is written in
    the update's own transaction.
    """
    if not isinstance(update, Update) or not update.effective_chat or not update.effective_user:
        return
    key = (update.effective_chat.id, update.effective_user.id)
    flows = [
        h for h in context.application.handlers.get(0, []) if isinstance(h, ConversationHandler)
    ]
    # Only a flow the person is in can be left; asking every flow's entry points
    # whether this update starts it (some 60 checks) is for people in one.
    inside = [flow for flow in flows if key in flow._conversations]
    if not inside:
        return
    starting = [f for f in flows if any(e.check_update(update) for e in f.entry_points)]
    if not starting:
        return
    for flow in inside:
        if flow not in starting:
            del flow._conversations[key]


def _steps_from_the_database(flow: ConversationHandler[Any]) -> ConversationHandler[Any]:
    """PTB keeps conversation states in a per-process dict loaded at start; ours are read
    from the database for the person of each update (see `bot.unit_of_work`)."""
    assert flow.name is not None, "every flow is named: its steps are stored under the name"
    flow._conversations = StoredSteps(flow.name)  # type: ignore[assignment]
    return flow


async def _register_menus(application: AnyApplication) -> None:
    """Set every command menu before polling starts, all at once.

    They are independent requests (one per language, the default one and one per
    coordinator): sent together they cost polling one round trip to Telegram
    instead of one each.
    """
    settings_: Settings = services.of_app(application).settings
    by_language = menus()
    # Programme coordinators (who joined by a coordinator link) in their own language,
    # the deployment's super-coordinators (ADMIN_IDS) in the default one.
    async with services.of_app(application).db.session() as session:
        coordinators = dict(await programme_store.coordinator_chats(session))
    for admin in settings_.admin_ids:
        coordinators.setdefault(admin, settings_.default_language)
    bot = application.bot
    await asyncio.gather(
        *(
            bot.set_my_commands(commands, language_code=language)
            for language, commands in by_language.items()
        ),
        bot.set_my_commands(by_language[settings_.default_language]),
        *(
            _coordinator_menu(application, chat_id, language)
            for chat_id, language in coordinators.items()
        ),
    )
    log.info("bot @%s ready; command menus registered", application.bot.username)


async def _coordinator_menu(application: AnyApplication, chat_id: int, language: str) -> None:
    # A chat-scoped menu adds the coordinators' commands for them only. It needs a chat
    # that exists, so a coordinator who never opened the bot is skipped.
    try:
        await application.bot.set_my_commands(
            coordinator_menu(language), scope=BotCommandScopeChat(chat_id)
        )
    except TelegramError as error:
        log.info("no coordinator menu for one coordinator yet: %s", type(error).__name__)


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
    keyring: KeyRing | None = None,
) -> AnyApplication:
    # Every encrypted column reads and writes through this ring from now on.
    crypto.configure(
        keyring or load_keyring(settings_, database_url=database.url if database else None)
    )
    db = database or Database(settings_.resolved_database_url)
    processor = UnitOfWorkProcessor()
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
        .request(
            CommittingRequest(
                connection_pool_size=32,
                read_timeout=10,
                write_timeout=10,
                ssl_context=tls.context(),
            )
        )
        .get_updates_request(
            AiohttpRequest(connection_pool_size=2, read_timeout=40, ssl_context=tls.context())
        )
        .concurrent_updates(processor)
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
    processor.database = db
    # What an update queued (the partner's notice) goes out now, not at the next tick.
    processor.on_queued = lambda: scheduler.kick(application)

    # Conversations first, so a person in the middle of a flow is answered by it.
    application.add_handlers(
        [
            _steps_from_the_database(flow)
            for flow in (
                settings.conversation(),
                intro.conversation(),
                contract.conversation(),
                meetings.conversation(),
                diary.conversation(),
                goals.conversation(),
                checkins.conversation(),
                closing.conversation(),
                support.conversation(),
                privacy.conversation(),
                announcements.conversation(),
                profile.conversation(),
                directory.conversation(),
                programmes.conversation(),
            )
        ]
    )
    application.add_handlers(
        [
            *start.handlers(),
            *help.handlers(),
            *pairing.handlers(),
            *choose.handlers(),
            *intro.handlers(),
            *contract.handlers(),
            *meetings.handlers(),
            *diary.handlers(),
            *questions.handlers(),
            *goals.handlers(),
            *closing.handlers(),
            *support.handlers(),
            *stats.handlers(),
            *privacy.handlers(),
            *announcements.handlers(),
            *profile.handlers(),
            *directory.handlers(),
            *programmes.handlers(),
        ]
    )
    application.add_handlers([diary.continuation(), *fallback.handlers()])
    application.add_handler(TypeHandler(Update, _one_flow_at_a_time), group=FLOW_SWITCH_GROUP)
    # Blocking, unblocking and edits are settled before any flow sees the update.
    application.add_handlers(chat_member.handlers(), group=chat_member.GROUP)
    application.add_error_handler(on_error)
    scheduler.install(application)
    assert application.job_queue is not None
    # The planners do not run right after a start (a deploy or a crash loop would add
    # a pass each time, while start-up is busiest), nor all at once: check-ins come
    # PLANNING_DELAY_SECONDS after it, the others ten minutes apart, each hourly after.
    # Planning is idempotent and catches up with everything due, so a run delayed by
    # anything short of the next one still happens (a grace of the whole interval),
    # runs missed while the process stood still coalesce into one, and one pass never
    # overlaps the next in this process.
    first = settings_.planning_delay_seconds
    application.job_queue.run_repeating(
        planning.job(planning.NUDGES),
        interval=3600,
        first=first + 600,
        name=planning.NUDGES,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    application.job_queue.run_repeating(
        planning.job(planning.CHECKINS),
        interval=3600,
        first=first,
        name=planning.CHECKINS,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    application.job_queue.run_repeating(
        planning.job(planning.CLOSING),
        interval=3600,
        first=first + 1200,
        name=planning.CLOSING,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    application.job_queue.run_repeating(
        planning.job(planning.CHEMISTRY),
        interval=3600,
        first=first + 2400,
        name=planning.CHEMISTRY,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    # The purge can wait an hour, never run twice at once, and works in short batches.
    application.job_queue.run_repeating(
        planning.job(planning.RETENTION),
        interval=3600,
        first=first + 1800,
        name=planning.RETENTION,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    return application
