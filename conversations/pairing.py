"""Invitations: /new makes a deep link, /start <code> answers it, its author may withdraw it."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters
from telegram.helpers import create_deep_linked_url

from bot import services
from bot.i18n import N_, t
from bot.usecases import Refused, pairing
from conversations.common import (
    Context,
    answer_button,
    callback_parts,
    explain,
    keyboard,
    local_date,
    now,
    remember_user,
    run,
    say,
)

CB_NEW = "pair:new:"
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


async def new(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await say(
        update,
        t(user.language, "pairing.which_role"),
        keyboard(
            user.language,
            [
                [(N_("pairing.button.i_am_adept"), CB_NEW + "adept")],
                [(N_("pairing.button.i_am_mentor"), CB_NEW + "mentor")],
            ],
        ),
    )


async def create(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    role = callback_parts(update, 3)[2]
    ttl = services.of(context).settings.invite_ttl_days
    try:
        invite = await run(
            context,
            lambda s: pairing.create_invitation(
                s, creator=user, role=role, now=now(context), ttl_days=ttl
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    link = create_deep_linked_url(context.bot.username, invite.code)
    wanted = "mentor" if role == "adept" else "adept"
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(
        t(
            user.language,
            f"pairing.invite_ready.{wanted}",
            date=local_date(user, invite.expires_at).isoformat(),
        ),
        reply_markup=keyboard(
            user.language, [[(N_("pairing.button.revoke"), f"{CB_REVOKE}{invite.id}")]]
        ),
    )
    await say(
        update,
        t(
            user.language,
            f"pairing.forward_text.{wanted}",
            name=pairing.display_name(user),
            link=link,
        ),
    )


async def show_invitation(update: Update, context: Context, code: str) -> None:
    """/start <code>: who invites, in which role, with Accept and Decline."""
    user = await remember_user(update, context)
    try:
        view = await run(
            context, lambda s: pairing.view_invitation(s, code=code, user=user, now=now(context))
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await say(
        update,
        t(
            user.language,
            f"pairing.invitation.{view.role_for_me.value}",
            name=pairing.display_name(view.inviter),
        ),
        keyboard(
            user.language,
            [
                [
                    (N_("pairing.button.accept"), CB_ACCEPT + code),
                    (N_("pairing.button.decline"), CB_DECLINE + code),
                ]
            ],
        ),
    )


async def accept(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    code = callback_parts(update, 3)[2]
    try:
        seen = await run(
            context, lambda s: pairing.accept_invitation(s, code=code, user=user, now=now(context))
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    assert seen.partner is not None and seen.mentorship.id is not None
    partner = pairing.display_name(seen.partner)
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(t(user.language, "pairing.accepted", name=partner))
    await say(
        update,
        t(user.language, f"intro.guide.{seen.me.role}", name=partner),
        keyboard(user.language, pairing.intro_buttons(seen.mentorship.id, seen.me.role)),
    )


async def decline(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    code = callback_parts(update, 3)[2]
    try:
        inviter = await run(
            context,
            lambda s: pairing.decline_invitation(s, code=code, user=user, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(
        t(user.language, "pairing.declined", name=pairing.display_name(inviter))
    )


async def revoke(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    invite_id = int(callback_parts(update, 3)[2])
    try:
        await run(
            context,
            lambda s: pairing.revoke_invitation(
                s, invite_id=invite_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    query = update.callback_query
    assert query is not None
    await query.edit_message_text(t(user.language, "pairing.revoked"))


def handlers() -> list[CommandHandler[Context, None] | CallbackQueryHandler[Context, None]]:
    return [
        CommandHandler("new", new, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(create, pattern=r"^pair:new:(adept|mentor)$"),
        CallbackQueryHandler(accept, pattern=r"^pair:acc:[A-Za-z0-9_-]{1,64}$"),
        CallbackQueryHandler(decline, pattern=r"^pair:dec:[A-Za-z0-9_-]{1,64}$"),
        CallbackQueryHandler(revoke, pattern=r"^pair:rev:\d+$"),
    ]
