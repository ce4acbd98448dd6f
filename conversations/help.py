"""/help: what the bot does and where to turn, always with the coordinator and 112."""

from __future__ import annotations

from telegram.ext import CommandHandler, filters

from bot import services
from bot.commands import menu
from bot.i18n import N_, escape, t
from conversations.common import Context
from conversations.step import State, Step, step


def support_text(language: str, coordinator_contact: str) -> str:
    if coordinator_contact.strip():
        coordinator = t(language, "help.coordinator", contact=coordinator_contact.strip())
    else:
        coordinator = t(language, "help.coordinator_unset")
    return "\n\n".join([coordinator, t(language, "help.emergency")])


def command_list(language: str) -> str:
    """The same commands and descriptions as Telegram's menu, so the two never disagree."""
    lines = [t(language, "help.commands_title")]
    lines += [f"/{command.command} – {escape(command.description)}" for command in menu(language)]
    return "\n".join(lines)


@step()
async def show_help(s: Step) -> State:
    settings = services.of(s.context).settings
    text = "\n\n".join(
        [
            s.t(N_("help.intro")),
            command_list(s.language),
            support_text(s.language, settings.coordinator_contact),
        ]
    )
    await s.say(text)
    return None


def handlers() -> list[CommandHandler[Context, None]]:
    return [CommandHandler("help", show_help, filters=filters.ChatType.PRIVATE)]
