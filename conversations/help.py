"""/help: what the bot does and where to turn, always with the coordinator and 112;
/roles: what the mentor and the adept each are, do and give (also the `roles` button
under the intro guide); the code of conduct as the programme configures it."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import services
from bot.commands import menu
from bot.i18n import N_, escape, t
from bot.settings import Settings
from conversations.common import Context
from conversations.step import State, Step, step


def support_text(language: str, coordinator_contact: str) -> str:
    if coordinator_contact.strip():
        coordinator = t(language, "help.coordinator", contact=coordinator_contact.strip())
    else:
        coordinator = t(language, "help.coordinator_unset")
    return "\n\n".join([coordinator, t(language, "help.emergency")])


def conduct_text(language: str, settings: Settings) -> str:
    """The code of conduct: the programme's own text or link if set, else ours."""
    title = t(language, "conduct.title")
    body: str
    if settings.code_of_conduct_text.strip():
        body = escape(settings.code_of_conduct_text.strip())
    else:
        body = t(language, "conduct.default")
    if settings.code_of_conduct_url.strip():
        body += "\n\n" + t(language, "conduct.link", url=settings.code_of_conduct_url.strip())
    return f"{title}\n{body}"


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


@step()
async def show_roles(s: Step) -> State:
    """/roles or the guide's button: both roles, so each sees what to expect of the other."""
    await s.say(s.t(N_("roles.text")))
    return None


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("help", show_help, filters=private),
        CommandHandler("roles", show_roles, filters=private),
        CallbackQueryHandler(show_roles, pattern=r"^roles$"),
    ]
