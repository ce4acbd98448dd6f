"""The command menu shown by Telegram, per language."""

from __future__ import annotations

from telegram import BotCommand

from bot.i18n import LANGUAGES, N_, t

# (command, key of its one-line description); order is the order in the menu.
MENU: tuple[tuple[str, str], ...] = (
    ("start", N_("cmd.start")),
    ("new", N_("cmd.new")),
    ("areas", N_("cmd.areas")),
    ("decide", N_("cmd.decide")),
    ("confidentiality", N_("cmd.confidentiality")),
    ("contract", N_("cmd.contract")),
    ("switch", N_("cmd.switch")),
    ("settings", N_("cmd.settings")),
    ("help", N_("cmd.help")),
    ("cancel", N_("cmd.cancel")),
)


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(command, t(language, key)) for command, key in MENU]


def menus() -> dict[str, list[BotCommand]]:
    return {language: menu(language) for language in LANGUAGES}
