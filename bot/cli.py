"""`mentorbot`: run the bot, serve a webhook, migrate the database, open the sandbox."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bot import __version__
from bot.settings import SettingError, Settings, load_settings

EXIT_BAD_SETTING = 2


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("mentorbot").setLevel(level)
    # httpx logs every request URL at INFO, and Bot API URLs contain the token;
    # PTB logs whole request parameters (message texts) at DEBUG. Neither may
    # reach a log, whatever LOG_LEVEL says.
    for name in ("httpx", "httpcore", "apscheduler", "alembic"):
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
    webhook = commands.add_parser("webhook", help="run the bot behind PTB's webhook server")
    webhook.add_argument("--url", help="public URL Telegram calls (default: WEBHOOK_URL)")
    webhook.add_argument("--listen", help="address to bind (default: WEBHOOK_LISTEN)")
    webhook.add_argument("--port", type=int, help="port to bind (default: WEBHOOK_PORT)")
    webhook.add_argument("--secret-token", help="secret Telegram echoes (default: WEBHOOK_SECRET)")
    sandbox = commands.add_parser(
        "sandbox", help="try the bot in a browser: emulated Telegram, no token, time travel"
    )
    sandbox.add_argument("--port", type=int, default=8080, help="port of the page (default 8080)")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="apply all schema migrations")
    return parser


def _migrate(settings: Settings) -> None:
    from storage.db import upgrade

    upgrade(settings.resolved_database_url)


def _run(settings: Settings, args: argparse.Namespace) -> None:
    from telegram import Update

    from bot.app import build_application

    token = settings.require_token()
    _migrate(settings)
    application = build_application(settings, token=token)
    if args.command == "run":
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    url = args.url or settings.webhook_url
    if not url:
        raise SettingError("WEBHOOK_URL", "is required for `mentorbot webhook` (or pass --url)")
    secret = args.secret_token or (
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    )
    application.run_webhook(
        listen=args.listen or settings.webhook_listen,
        port=args.port or settings.webhook_port,
        url_path=token.split(":", 1)[0],
        webhook_url=url,
        secret_token=secret,
        allowed_updates=Update.ALL_TYPES,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if args.command == "db":
            _migrate(settings)
            where = settings.resolved_database_url.split("@")[-1]  # never print a password
            print(f"database is at the newest schema ({where})")
            return 0
        if args.command == "sandbox":
            from bot.sandbox.server import serve

            # Its own SQLite file and a fake token: never the real DATABASE_URL or BOT_TOKEN.
            serve(settings, host=args.host, port=args.port)
            return 0
        _run(settings, args)
    except SettingError as exc:
        print(f"mentorbot: setting {exc.name} {exc.problem}", file=sys.stderr)
        return EXIT_BAD_SETTING
    except OSError as exc:
        print(
            f"mentorbot: cannot reach the database or network: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
