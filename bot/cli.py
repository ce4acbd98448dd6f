"""`mentorbot`: run the bot, serve a webhook, migrate the database, open the sandbox."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import gc
import logging
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from bot import __version__
from bot.settings import SettingError, Settings, load_settings

EXIT_BAD_SETTING = 2
EXIT_UNREACHABLE = 1
# Another process already serves this bot: another poller of the token (Telegram's
# 409 Conflict), or another process on the same SQLite file.
EXIT_CONFLICT = 3
# Updates are a few kilobytes; a bigger body is not from Telegram and is refused
# before it is read into memory.
MAX_WEBHOOK_BODY = 1024 * 1024
# What Telegram accepts as a webhook secret (setWebhook's secret_token).
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


class StartupFailed(Exception):
    """The bot cannot start; `str()` is the one line shown, never containing the token."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.exit_code = exit_code


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("mentorbot").setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token;
    # PTB logs whole request parameters (message texts) at DEBUG. Neither may
    # reach a log, whatever LOG_LEVEL says.
    # The database drivers and SQLAlchemy log statements with their parameters
    # (names, texts) at DEBUG/INFO.
    capped = ("httpx", "httpcore", "apscheduler", "alembic", "asyncpg", "sqlalchemy")
    for name in capped:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("telegram").setLevel(logging.INFO)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorbot",
        description="A Telegram companion for a mentor and an adept, from intro to closing.",
    )
    parser.add_argument("--version", action="version", version=f"mentorbot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot with long polling (migrates the database first)")
    webhook = commands.add_parser(
        "webhook", help="run the bot behind a webhook (answers Telegram once an update is handled)"
    )
    webhook.add_argument("--url", help="public URL Telegram calls (default: WEBHOOK_URL)")
    webhook.add_argument("--listen", help="address to bind (default: WEBHOOK_LISTEN)")
    webhook.add_argument("--port", type=int, help="port to bind (default: WEBHOOK_PORT)")
    webhook.add_argument("--secret-token", help="secret Telegram echoes (default: WEBHOOK_SECRET)")
    webhook.add_argument(
        "--insecure-no-secret",
        action="store_true",
        help="start without a secret: anyone who reaches the port can forge updates",
    )
    sandbox = commands.add_parser(
        "sandbox", help="try the bot in a browser: emulated Telegram, no token, time travel"
    )
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (default 8080)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply all schema migrations")
    keys = commands.add_parser("keys", help="encryption keys of the stored texts")
    keys_commands = keys.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    keys_commands.add_parser("generate", help="print a new random key for ENCRYPTION_KEY")
    rotate = keys_commands.add_parser(
        "rotate", help="re-encrypt every row under ENCRYPTION_KEY (resumable)"
    )
    rotate.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    return parser


def _migrate(settings: Settings) -> None:
    from bot.keys import prepare_database

    prepare_database(settings)


def _webhook_options(settings: Settings, args: argparse.Namespace, token: str) -> dict[str, Any]:
    """What `bot.webhook.serve` needs, checked before anything connects anywhere.

    The URL path is the bot's public numeric id, so the secret Telegram echoes in
    `X-Telegram-Bot-Api-Secret-Token` is what keeps forged updates out; the webhook
    server answers a request without the right one with 403.
    """
    url = args.url or settings.webhook_url
    if not url:
        raise SettingError("WEBHOOK_URL", "is required for `mentorbot webhook` (or pass --url)")
    secret = args.secret_token or (
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    )
    if secret is None and not args.insecure_no_secret:
        raise SettingError(
            "WEBHOOK_SECRET",
            "is required for `mentorbot webhook` (or pass --secret-token); "
            "--insecure-no-secret starts without one",
        )
    if secret is not None and not WEBHOOK_SECRET_RE.fullmatch(secret):
        raise SettingError("WEBHOOK_SECRET", "must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    return {
        "listen": args.listen or settings.webhook_listen,
        "port": args.port or settings.webhook_port,
        "url_path": token.split(":", 1)[0],
        "webhook_url": url,
        "secret_token": secret,
    }


def _connect(application: Any, settings: Settings) -> None:
    """Meet Telegram (getMe) before PTB's run loop does, to fail in one line.

    PTB would log the failure with a traceback and re-raise it. Initialising on the
    event loop that `run_polling`/`bot.webhook.serve` then pick up makes their own
    initialisation a no-op, so nothing is done twice.
    """
    from telegram.error import InvalidToken, NetworkError, TelegramError

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    host = urlsplit(settings.telegram_api_url).netloc or settings.telegram_api_url
    try:
        loop.run_until_complete(application.initialize())
    except InvalidToken:
        raise SettingError(
            "BOT_TOKEN", "was rejected by Telegram; check it with @BotFather"
        ) from None
    except NetworkError as exc:
        raise StartupFailed(
            f"mentorbot: cannot reach Telegram at {host} ({type(exc).__name__}); "
            "check the network and TELEGRAM_API_URL",
            EXIT_UNREACHABLE,
        ) from None
    except TelegramError as exc:
        raise StartupFailed(
            f"mentorbot: Telegram refused to start the bot ({type(exc).__name__})",
            EXIT_UNREACHABLE,
        ) from None


def _only_process_on_sqlite(settings: Settings) -> IO[bytes] | None:
    """Hold an exclusive lock next to a SQLite database for as long as the bot runs.

    SQLite is one process: a second worker on the same file would wait on its
    write lock and run its own dispatcher beside the first. The kernel drops the
    lock when the process ends, however it ends. Returns the open lock file.
    """
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    if not url.get_backend_name().startswith("sqlite") or not url.database:
        return None
    database = Path(url.database)
    holder = database.with_name(database.name + ".lock").open("ab")
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder.close()
        raise StartupFailed(
            f"mentorbot: another mentorbot process already uses the SQLite database {database}; "
            "SQLite serves one process, several workers need PostgreSQL (DATABASE_URL)",
            EXIT_CONFLICT,
        ) from None
    return holder


def _stop_on_conflict(application: Any) -> list[object]:
    """Stop polling at Telegram's first 409 Conflict instead of retrying it for ever.

    PTB hands errors of getUpdates to the error handlers; ours goes first and keeps
    the others (which would log an error each time) from seeing this one.
    """
    from telegram.error import Conflict
    from telegram.ext import ApplicationHandlerStop

    conflicts: list[object] = []

    async def on_conflict(update: object, context: Any) -> None:
        if update is None and isinstance(context.error, Conflict):
            if not conflicts:
                conflicts.append(context.error)
                application.stop_running()
            raise ApplicationHandlerStop

    application.error_handlers = {on_conflict: True, **application.error_handlers}
    return conflicts


@contextlib.contextmanager
def _lasting() -> Iterator[None]:
    """For a block whose objects live as long as the process (imports, the application).

    Importing and building the bot makes well over a hundred thousand such objects;
    the cyclic garbage collector would walk all of them again and again while they
    are made (about a twentieth of the instructions of the imports) and find almost
    nothing. So it is paused for the block, and what the block made is then moved
    to the collector's permanent generation (`gc.freeze`): the collections while
    serving walk only what serving makes. Freezing before re-enabling matters:
    otherwise the first collection after the block would walk it all at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _run(settings: Settings, args: argparse.Namespace) -> None:
    with _lasting():
        from telegram import Update

        from bot.app import build_application

    token = settings.require_token()
    webhook = _webhook_options(settings, args, token) if args.command == "webhook" else None
    lock = _only_process_on_sqlite(settings)
    try:
        # Migrations run with the collector on: a migration may walk many rows.
        _migrate(settings)
        with _lasting():
            application = build_application(settings, token=token)
            _connect(application, settings)
        if webhook is None:
            conflicts = _stop_on_conflict(application)
            application.run_polling(allowed_updates=Update.ALL_TYPES)
            if conflicts:
                raise StartupFailed(
                    "mentorbot: another process already polls this bot (Telegram answered "
                    "409 Conflict); run one `mentorbot run`, or several `mentorbot webhook` "
                    "workers on PostgreSQL",
                    EXIT_CONFLICT,
                )
            return
        _serve_webhook(application, webhook)
    finally:
        if lock is not None:
            lock.close()


def _serve_webhook(application: Any, webhook: dict[str, Any]) -> None:
    from bot import webhook as server

    asyncio.get_event_loop().run_until_complete(
        server.serve(application, **webhook, max_body=MAX_WEBHOOK_BODY)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command == "keys" and args.keys_command == "generate":
        from storage.crypto import KeyRing

        print(KeyRing.generate_key())
        return 0
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "db":
            _migrate(settings)
            where = settings.resolved_database_url.split("@")[-1]  # never print a password
            print(f"database is at the newest schema ({where})")
            return 0
        if args.command == "keys":
            from bot.keys import rotate

            return rotate(settings, batch_size=max(1, args.batch_size))
        if args.command == "sandbox":
            from bot.sandbox.server import serve

            # Its own SQLite file and a fake token: never the real DATABASE_URL or BOT_TOKEN.
            serve(settings, host=args.host, port=args.port)
            return 0
        _run(settings, args)
    except SettingError as exc:
        print(f"mentorbot: setting {exc.name} {exc.problem}", file=sys.stderr)
        return EXIT_BAD_SETTING
    except StartupFailed as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(
            f"mentorbot: cannot reach the database or network: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
