"""Invitations: /new makes a deep link, /start <code> answers it, its author may withdraw it.

Someone in several open programmes is first asked which one the invitation belongs to
(`pair:prog:<programme>`)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters
from telegram.helpers import create_deep_linked_url

from bot import services
from bot.i18n import N_
from bot.usecases import pairing
from bot.usecases import programmes as programmes_uc
from conversations.common import Context, answer_button, keyboard, local_date, raw_keyboard
from conversations.step import Callback, State, Step, step

CB_NEW = "pair:new:"
CB_PROGRAMME = "pair:prog:"
CB_ACCEPT = "pair:acc:"
CB_DECLINE = "pair:dec:"
CB_REVOKE = "pair:rev:"

# Keys built from a role name below.
ROLE_TEXTS = (
    N_("pairing.invite_ready.mentor"),
    N_("pairing.invite_ready.adept"),
    N_("pairing.forward_text.mentor"),
    N_("pairing.forward_text.adept"),
    N_("pairing.invitation.mentor"),
    N_("pairing.invitation.adept"),
    N_("intro.guide.mentor"),
    N_("intro.guide.adept"),
)


async def _edit(s: Step, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replace the message whose button was pressed (the answered question)."""
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_text(text, reply_markup=markup)


@step()
async def new(s: Step) -> State:
    options = await s.do(programmes_uc.open_programmes_of, user=s.person)
    if len(options) > 1:
        rows = [
            [(programmes_uc.name_of(programme, s.language), f"{CB_PROGRAMME}{programme.id}")]
            for programme in options
        ]
        return await s.reply(N_("pairing.which_programme"), next=None, markup=raw_keyboard(rows))
    return await _which_role(s)


@step()
async def programme_chosen(s: Step) -> State:
    programme = await s.do(
        programmes_uc.choose_for_new_pair, user=s.person, programme_id=int(s.parts(3)[2])
    )
    name = programmes_uc.name_of(programme, s.language)
    await _edit(s, s.t(N_("pairing.programme_chosen"), programme=name))
    return await _which_role(s)


async def _which_role(s: Step) -> State:
    roles = [
        [(N_("pairing.button.i_am_adept"), CB_NEW + "adept")],
        [(N_("pairing.button.i_am_mentor"), CB_NEW + "mentor")],
    ]
    return await s.reply(N_("pairing.which_role"), next=None, markup=keyboard(s.language, roles))


@step()
async def create(s: Step) -> State:
    role = s.parts(3)[2]
    ttl = services.of(s.context).settings.invite_ttl_days
    invite = await s.do(
        pairing.create_invitation, creator=s.person, role=role, now=s.now, ttl_days=ttl
    )
    link = create_deep_linked_url(s.context.bot.username, invite.code)
    wanted = "mentor" if role == "adept" else "adept"
    revoke = [[(N_("pairing.button.revoke"), f"{CB_REVOKE}{invite.id}")]]
    await _edit(
        s,
        s.t(
            f"pairing.invite_ready.{wanted}",
            date=local_date(s.person, invite.expires_at).isoformat(),
        ),
        keyboard(s.language, revoke),
    )
    name = pairing.display_name(s.person)
    return await s.reply(f"pairing.forward_text.{wanted}", next=None, name=name, link=link)


async def show_invitation(update: Update, context: Context, code: str) -> None:
    """/start <code>: who invites, in which role, with Accept and Decline."""
    await _invitation(code)(update, context)


def _invitation(code: str) -> Callback:
    @step()
    async def show(s: Step) -> State:
        view = await s.do(pairing.view_invitation, code=code, user=s.person, now=s.now)
        answers = [
            [
                (N_("pairing.button.accept"), CB_ACCEPT + code),
                (N_("pairing.button.decline"), CB_DECLINE + code),
            ]
        ]
        return await s.reply(
            f"pairing.invitation.{view.role_for_me.value}",
            next=None,
            markup=keyboard(s.language, answers),
            name=pairing.display_name(view.inviter),
        )

    return show


@step()
async def accept(s: Step) -> State:
    seen = await s.do(pairing.accept_invitation, code=s.parts(3)[2], user=s.person, now=s.now)
    assert seen.partner is not None and seen.mentorship.id is not None
    partner = pairing.display_name(seen.partner)
    await _edit(s, s.t(N_("pairing.accepted"), name=partner))
    guide = keyboard(s.language, pairing.intro_buttons(seen.mentorship.id, seen.me.role))
    return await s.reply(f"intro.guide.{seen.me.role}", next=None, markup=guide, name=partner)


@step()
async def decline(s: Step) -> State:
    inviter = await s.do(pairing.decline_invitation, code=s.parts(3)[2], user=s.person, now=s.now)
    await _edit(s, s.t(N_("pairing.declined"), name=pairing.display_name(inviter)))
    return None


@step()
async def revoke(s: Step) -> State:
    invite_id = int(s.parts(3)[2])
    await s.do(pairing.revoke_invitation, invite_id=invite_id, user=s.person, now=s.now)
    await _edit(s, s.t(N_("pairing.revoked")))
    return None


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("new", new, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(programme_chosen, pattern=r"^pair:prog:\d+$"),
        CallbackQueryHandler(create, pattern=r"^pair:new:(adept|mentor)$"),
        CallbackQueryHandler(accept, pattern=r"^pair:acc:[A-Za-z0-9_-]{1,64}$"),
        CallbackQueryHandler(decline, pattern=r"^pair:dec:[A-Za-z0-9_-]{1,64}$"),
        CallbackQueryHandler(revoke, pattern=r"^pair:rev:\d+$"),
    ]
