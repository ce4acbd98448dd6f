"""/diary: private notes of insights and thoughts, each shareable with the partner.

Buttons: `d:write`, `d:mine:<page>`, `d:shared:<page>`, `d:share:<entry>`,
`d:unshare:<entry>`, `d:see:<entry>`. Entry ids in buttons are re-authorized
in the use case on every press.

Writing is the persistent conversation "diary" (one state: waiting for the
text). A text arriving right after an entry, which no flow claims, is added to
it (`continue_entry`): Telegram apps send a long pasted text as several messages.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler
from bot.i18n import N_, Html, t
from bot.textsplit import split_text
from bot.usecases import Refused, pairing
from bot.usecases import diary as usecase
from conversations import choose, fallback
from conversations.common import (
    Context,
    KeyRows,
    answer_button,
    callback_parts,
    explain,
    keyboard,
    message_of,
    now,
    raw_keyboard,
    remember_step,
    remember_user,
    run,
    say,
)
from storage.models import DiaryEntry, User, Visibility

FLOW = "diary"
WRITE = "write"
END = ConversationHandler.END
PURPOSE = "diary"
NONE_TEXT = N_("mentorship.none.diary")
# The partner's notice shows this much; the button under it shows the rest, split.
PREVIEW_CHARS = 3000
STAYS_IN_WRITE = frozenset({"diary.empty", "diary.too_long"})


def when(user: User, moment: datetime) -> str:
    return moment.astimezone(ZoneInfo(user.timezone)).strftime("%Y-%m-%d %H:%M")


MENU_ROWS: KeyRows = (
    ((N_("diary.button.write"), "d:write"),),
    ((N_("diary.button.mine"), "d:mine:0"),),
    ((N_("diary.button.shared"), "d:shared:0"),),
)


def share_button(language: str, entry: DiaryEntry, partner: User | None) -> list[tuple[str, str]]:
    """The one button that changes who sees `entry` (none when there is nobody to share with)."""
    if partner is None:
        return []
    name = pairing.display_name(partner)
    if entry.visibility == Visibility.SHARED:
        return [(t(language, "diary.button.unshare", name=name), f"d:unshare:{entry.id}")]
    return [(t(language, "diary.button.share", name=name), f"d:share:{entry.id}")]


def status(language: str, entry: DiaryEntry, partner: User | None) -> Html:
    if entry.visibility == Visibility.SHARED and partner is not None:
        return Html(t(language, "diary.status.shared", name=pairing.display_name(partner)))
    return Html(t(language, "diary.status.private"))


async def menu(update: Update, context: Context) -> int:
    """/diary: what you can do with it. Also ends a half-started entry."""
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "diary.menu"), keyboard(user.language, MENU_ROWS))
    return END


async def ask_text(update: Update, context: Context) -> str | int:
    """✍️: ask for the entry, tied to the current mentorship (asking which, if unclear)."""
    user = await remember_user(update, context)
    query = update.callback_query
    if query is not None and query.data and query.data.startswith("ms:pick:"):
        seen = await choose.mentorship(update, context, user, purpose=PURPOSE)
        if seen is None:
            return END
    else:
        await answer_button(update)
        choice = await run(context, lambda s: pairing.resolve(s, user=user))
        if choice.chosen is None and choice.options:
            await choose.mentorship(update, context, user, purpose=PURPOSE)
            return END
        seen = choice.chosen
    await remember_step(update, context, FLOW, WRITE)
    if seen is not None and seen.partner is not None:
        tie = t(user.language, "diary.ask_tied", name=pairing.display_name(seen.partner))
    else:
        tie = t(user.language, "diary.ask_alone")
    await say(update, t(user.language, "diary.ask") + "\n\n" + tie)
    return WRITE


def _saved_rows(language: str, written: usecase.Written) -> list[list[tuple[str, str]]]:
    rows = [share_button(language, written.entry, written.partner)]
    rows.append([(t(language, "diary.button.mine"), "d:mine:0")])
    return [row for row in rows if row]


async def save_text(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        written = await run(
            context,
            lambda s: usecase.write_in_current(s, user=user, text=text, now=now(context)),
        )
    except Refused as refusal:
        if refusal.key not in STAYS_IN_WRITE:
            await remember_step(update, context, FLOW, None)
        await explain(update, user, refusal)
        return WRITE if refusal.key in STAYS_IN_WRITE else END
    await remember_step(update, context, FLOW, None)
    if written.partner is not None:
        saved = t(user.language, "diary.saved", name=pairing.display_name(written.partner))
    else:
        saved = t(user.language, "diary.saved_alone")
    await say(update, saved, raw_keyboard(_saved_rows(user.language, written)))
    return END


async def continue_entry(update: Update, context: Context) -> None:
    """A text no flow claimed, right after an entry: the rest of a long message Telegram split.

    Not a conversation state on purpose: registered last before the fallbacks
    (`continuation`), it only sees texts no flow wants, so it can never take an
    answer meant for one.
    """
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    try:
        written = await run(
            context,
            lambda s: usecase.continue_latest(s, user=user, text=text, now=now(context)),
        )
    except Refused as refusal:
        if refusal.key == "diary.continue_too_late":
            await fallback.stray_message(update, context)
        else:
            await explain(update, user, refusal)
        return
    await say(
        update,
        t(user.language, "diary.added", length=len(written.entry.text)),
        raw_keyboard(_saved_rows(user.language, written)),
    )


async def text_needed(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    await say(update, t(user.language, "common.text_please"))


async def cancel(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "common.cancelled"))
    return END


def _page_rows(
    language: str, page: usecase.Page, prefix: str, own: bool
) -> list[list[tuple[str, str]]]:
    rows: list[list[tuple[str, str]]] = []
    if own:
        for number, item in enumerate(page.items, start=page.bounds.offset + 1):
            if item.partner is None:
                continue
            key = (
                N_("diary.button.unshare_n")
                if item.entry.visibility == Visibility.SHARED
                else N_("diary.button.share_n")
            )
            action = "unshare" if item.entry.visibility == Visibility.SHARED else "share"
            rows.append([(t(language, key, n=number), f"d:{action}:{item.entry.id}")])
    nav = []
    if page.bounds.has_newer:
        nav.append((t(language, "diary.button.newer"), f"d:{prefix}:{page.bounds.page - 1}"))
    if page.bounds.has_older:
        nav.append((t(language, "diary.button.older"), f"d:{prefix}:{page.bounds.page + 1}"))
    if nav:
        rows.append(nav)
    return rows


async def show_mine(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    wanted = int(callback_parts(update, 3)[2])
    page = await run(context, lambda s: usecase.my_page(s, user=user, page=wanted))
    await answer_button(update)
    language = user.language
    if not page.items:
        await say(
            update,
            t(language, "diary.mine.empty"),
            keyboard(language, [[(N_("diary.button.write"), "d:write")]]),
        )
        return
    blocks = [t(language, "diary.mine.title", page=page.bounds.page + 1, pages=page.bounds.pages)]
    for number, item in enumerate(page.items, start=page.bounds.offset + 1):
        blocks.append(
            t(
                language,
                "diary.mine.entry",
                n=number,
                when=when(user, item.entry.created_at),
                status=status(language, item.entry, item.partner),
                text=item.entry.text,
            )
        )
    rows = _page_rows(language, page, "mine", own=True)
    await say(update, "\n\n".join(blocks), raw_keyboard(rows) if rows else None)


async def show_shared(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    wanted = int(callback_parts(update, 3)[2])
    page = await run(context, lambda s: usecase.shared_page(s, user=user, page=wanted))
    await answer_button(update)
    language = user.language
    if not page.items:
        await say(update, t(language, "diary.shared.empty"))
        return
    blocks = [t(language, "diary.shared.title", page=page.bounds.page + 1, pages=page.bounds.pages)]
    for item in page.items:
        blocks.append(
            t(
                language,
                "diary.shared.entry",
                name=pairing.display_name(item.author),
                when=when(user, item.entry.created_at),
                text=item.entry.text,
            )
        )
    rows = _page_rows(language, page, "shared", own=False)
    await say(update, "\n\n".join(blocks), raw_keyboard(rows) if rows else None)


async def share(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    entry_id = int(callback_parts(update, 3)[2])
    try:
        written = await run(
            context,
            lambda s: usecase.share(s, user=user, entry_id=entry_id, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    assert written.partner is not None
    await say(
        update,
        t(user.language, "diary.shared_done", name=pairing.display_name(written.partner)),
        raw_keyboard([share_button(user.language, written.entry, written.partner)]),
    )


async def unshare(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    entry_id = int(callback_parts(update, 3)[2])
    try:
        written = await run(context, lambda s: usecase.unshare(s, user=user, entry_id=entry_id))
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    row = share_button(user.language, written.entry, written.partner)
    name = pairing.display_name(written.partner) if written.partner else ""
    await say(
        update,
        t(user.language, "diary.unshared_done", name=name),
        raw_keyboard([row]) if row else None,
    )


async def see(update: Update, context: Context) -> None:
    """One whole entry: the author's own, or one a partner shared."""
    user = await remember_user(update, context)
    entry_id = int(callback_parts(update, 3)[2])
    try:
        shown = await run(context, lambda s: usecase.readable(s, user=user, entry_id=entry_id))
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    language = user.language
    moment = when(user, shown.entry.created_at)
    if shown.author.id == user.id:
        text = t(
            language,
            "diary.single.own",
            when=moment,
            status=status(language, shown.entry, shown.partner),
            text=shown.entry.text,
        )
        row = share_button(language, shown.entry, shown.partner)
        await say(update, text, raw_keyboard([row]) if row else None)
        return
    text = t(
        language,
        "diary.shared.entry",
        name=pairing.display_name(shown.author),
        when=moment,
        text=shown.entry.text,
    )
    await say(update, text)


async def render_shared(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    """The partner's notice of a shared entry; nothing if it was made private meanwhile."""
    entry_id = int(ctx.notification.payload["entry_id"])
    try:
        shown = await usecase.readable(ctx.session, user=ctx.recipient, entry_id=entry_id)
    except Refused:
        return None
    if shown.author.id == ctx.recipient.id or shown.entry.visibility != Visibility.SHARED:
        return None
    language = ctx.recipient.language
    whole = shown.entry.text
    cut = len(whole) > PREVIEW_CHARS
    header = t(
        language,
        "diary.shared_with_you",
        name=pairing.display_name(shown.author),
        when=when(ctx.recipient, shown.entry.created_at),
        text=split_text(whole, PREVIEW_CHARS)[0] if cut else whole,
    )
    if cut:
        return scheduler.Outgoing(
            text=header + "\n\n" + t(language, "diary.preview_cut"),
            buttons=[[(t(language, "diary.button.read_all"), f"d:see:{entry_id}")]],
        )
    return scheduler.Outgoing(
        text=header, buttons=[[(t(language, "diary.button.shared"), "d:shared:0")]]
    )


scheduler.register(usecase.SHARED_KIND, render_shared)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[
            CommandHandler("diary", menu, filters=private),
            CallbackQueryHandler(ask_text, pattern=r"^d:write$"),
            CallbackQueryHandler(ask_text, pattern=choose.pick_pattern(PURPOSE)),
        ],
        states={
            WRITE: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, save_text),
                MessageHandler(~filters.COMMAND & ~filters.TEXT, text_needed),
            ],
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def continuation() -> MessageHandler[Context, None]:
    """Registered just before the fallbacks, so that every other handler sees a text first."""
    return MessageHandler(
        filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, continue_entry
    )


def handlers() -> list[CallbackQueryHandler[Context, None]]:
    return [
        CallbackQueryHandler(show_mine, pattern=r"^d:mine:\d{1,6}$"),
        CallbackQueryHandler(show_shared, pattern=r"^d:shared:\d{1,6}$"),
        CallbackQueryHandler(share, pattern=r"^d:share:\d{1,18}$"),
        CallbackQueryHandler(unshare, pattern=r"^d:unshare:\d{1,18}$"),
        CallbackQueryHandler(see, pattern=r"^d:see:\d{1,18}$"),
    ]
