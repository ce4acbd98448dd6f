"""/help: what the bot does and where to turn, always with the coordinator and 112;
/roles: what the mentor and the adept each are, do and give (also the `roles` button
under the intro guide); the code of conduct as the programme configures it.

Where to turn and the code of conduct are the person's programme's (that of their current
mentorship, else their current programme, `bot.usecases.programmes.texts_for`), falling back
to the deployment's settings where the programme has none (the default programme)."""

from __future__ import annotations

from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot import services
from bot.commands import coordinator_menu, menu
from bot.i18n import N_, escape, t
from bot.settings import Settings
from bot.usecases import programmes
from bot.usecases.programmes import ProgrammeTexts
from conversations.common import Context
from conversations.step import State, Step, step


def support_text(language: str, coordinator_contact: str) -> str:
    if coordinator_contact.strip():
        coordinator = t(language, "help.coordinator", contact=coordinator_contact.strip())
    else:
        coordinator = t(language, "help.coordinator_unset")
    return "\n\n".join([coordinator, t(language, "help.emergency")])


def conduct_text(language: str, settings: Settings, texts: ProgrammeTexts | None = None) -> str:
    """The code of conduct: the programme's own text or link if set, else the settings',
    else ours."""
    title = t(language, "conduct.title")
    text, url = settings.code_of_conduct_text, settings.code_of_conduct_url
    if texts is not None and (texts.conduct_text or texts.conduct_url):
        text, url = texts.conduct_text or "", texts.conduct_url or ""
    body = escape(text.strip()) if text.strip() else t(language, "conduct.default")
    if url.strip():
        body += "\n\n" + t(language, "conduct.link", url=url.strip())
    return f"{title}\n{body}"


def where_to_turn(language: str, settings: Settings, texts: ProgrammeTexts) -> str:
    """The programme's own word on support (if it has one), its coordinator and 112."""
    contact = texts.contact or settings.coordinator_contact
    parts = [escape(texts.support_text)] if texts.support_text else []
    return "\n\n".join([*parts, support_text(language, contact)])


async def programme_texts(s: Step) -> ProgrammeTexts:
    return await s.do(programmes.texts_for, user=s.person, now=s.now)


async def coordinator_contact(s: Step) -> str:
    """The person's programme's coordinator contact, else the deployment's."""
    texts = await programme_texts(s)
    return texts.contact or services.of(s.context).settings.coordinator_contact


def command_list(language: str, *, coordinator: bool = False) -> str:
    """The same commands and descriptions as Telegram's menu (a coordinator's, with
    /programme and /stats, for coordinators), so the two never disagree."""
    lines = [t(language, "help.commands_title")]
    commands = coordinator_menu(language) if coordinator else menu(language)
    lines += [f"/{command.command} – {escape(command.description)}" for command in commands]
    return "\n".join(lines)


@step()
async def show_help(s: Step) -> State:
    settings = services.of(s.context).settings
    texts = await programme_texts(s)
    coordinates = await s.do(
        programmes.coordinated_by, user=s.person, super_coordinators=settings.admin_ids
    )
    text = "\n\n".join(
        [
            s.t(N_("help.intro")),
            command_list(s.language, coordinator=bool(coordinates)),
            where_to_turn(s.language, settings, texts),
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
