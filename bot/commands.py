"""The command menu shown by Telegram, per language."""

from __future__ import annotations

from telegram import BotCommand

from bot.i18n import LANGUAGES, N_, t

# (command, key of its one-line description); order is the order in the menu.
MENU: tuple[tuple[str, str], ...] = (
    ("start", N_("cmd.start")),
    ("new", N_("cmd.new")),
    ("mentors", N_("cmd.mentors")),
    ("profile", N_("cmd.profile")),
    ("areas", N_("cmd.areas")),
    ("decide", N_("cmd.decide")),
    ("roles", N_("cmd.roles")),
    ("confidentiality", N_("cmd.confidentiality")),
    ("contract", N_("cmd.contract")),
    ("goal", N_("cmd.goal")),
    ("goals", N_("cmd.goals")),
    ("progress", N_("cmd.progress")),
    ("book", N_("cmd.book")),
    ("meetings", N_("cmd.meetings")),
    ("questions", N_("cmd.questions")),
    ("diary", N_("cmd.diary")),
    ("checkin", N_("cmd.checkin")),
    ("switch", N_("cmd.switch")),
    ("close", N_("cmd.close")),
    ("extend", N_("cmd.extend")),
    ("end", N_("cmd.end")),
    ("support", N_("cmd.support")),
    ("mydata", N_("cmd.mydata")),
    ("deleteme", N_("cmd.deleteme")),
    ("settings", N_("cmd.settings")),
    ("help", N_("cmd.help")),
    ("cancel", N_("cmd.cancel")),
)


def menu(language: str) -> list[BotCommand]:
    return [BotCommand(command, t(language, key)) for command, key in MENU]


# Shown only in the coordinators' own chats (a chat-scoped menu).
COORDINATOR_MENU: tuple[tuple[str, str], ...] = (
    ("programme", N_("cmd.programme")),
    ("stats", N_("cmd.stats")),
    ("announce", N_("cmd.announce")),
)


def coordinator_menu(language: str) -> list[BotCommand]:
    return menu(language) + [BotCommand(c, t(language, key)) for c, key in COORDINATOR_MENU]


def menus() -> dict[str, list[BotCommand]]:
    return {language: menu(language) for language in LANGUAGES}
