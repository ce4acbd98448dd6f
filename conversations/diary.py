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
from conversations.common import Context, KeyRows, answer_button, keyboard, raw_keyboard
from conversations.step import END, State, Step, step
from storage.models import DiaryEntry, User, Visibility

FLOW = "diary"
WRITE = "write"
PURPOSE = "diary"
NONE_TEXT = N_("mentorship.none.diary")
# The partner's notice shows this much; the button under it shows the rest, split.
PREVIEW_CHARS = 3000


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


def _saved_rows(language: str, written: usecase.Written) -> list[list[tuple[str, str]]]:
    rows = [share_button(language, written.entry, written.partner)]
    rows.append([(t(language, "diary.button.mine"), "d:mine:0")])
    return [row for row in rows if row]


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


def _mine_text(user: User, page: usecase.Page) -> str:
    language = user.language
    bounds = page.bounds
    blocks = [t(language, "diary.mine.title", page=bounds.page + 1, pages=bounds.pages)]
    for number, item in enumerate(page.items, start=bounds.offset + 1):
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
    return "\n\n".join(blocks)


def _shared_text(user: User, page: usecase.Page) -> str:
    language = user.language
    bounds = page.bounds
    blocks = [t(language, "diary.shared.title", page=bounds.page + 1, pages=bounds.pages)]
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
    return "\n\n".join(blocks)


def _entry_text(user: User, shown: usecase.Shown) -> str:
    """One whole entry: with who can read it for its author, with its author for a partner."""
    language = user.language
    moment = when(user, shown.entry.created_at)
    if shown.author.id == user.id:
        return t(
            language,
            "diary.single.own",
            when=moment,
            status=status(language, shown.entry, shown.partner),
            text=shown.entry.text,
        )
    return t(
        language,
        "diary.shared.entry",
        name=pairing.display_name(shown.author),
        when=moment,
        text=shown.entry.text,
    )


# -- writing --------------------------------------------------------------------------------


@step(FLOW)
async def menu(s: Step) -> State:
    """/diary: what you can do with it. Also ends a half-started entry."""
    return await s.reply(N_("diary.menu"), next=END, markup=keyboard(s.language, MENU_ROWS))


@step(FLOW)
async def ask_text(s: Step) -> State:
    """✍️: ask for the entry, tied to the current mentorship (asking which, if unclear)."""
    query = s.update.callback_query
    if query is not None and query.data and query.data.startswith("ms:pick:"):
        seen = await choose.mentorship(s.update, s.context, s.person, purpose=PURPOSE)
        if seen is None:
            return END
    else:
        choice = await s.do(pairing.resolve, user=s.person)
        if choice.chosen is None and choice.options:
            # Several mentorships and none chosen: ask which; its button comes back here.
            await answer_button(s.update)
            await choose.mentorship(s.update, s.context, s.person, purpose=PURPOSE)
            return END
        seen = choice.chosen
    if seen is not None and seen.partner is not None:
        tie = s.t(N_("diary.ask_tied"), name=pairing.display_name(seen.partner))
    else:
        tie = s.t(N_("diary.ask_alone"))
    await s.goto(WRITE)
    await s.say(s.t(N_("diary.ask")) + "\n\n" + tie)
    return WRITE


@step(FLOW)
async def save_text(s: Step) -> State:
    written = await s.do(usecase.write_in_current, user=s.person, text=s.text, now=s.now)
    saved = _saved_rows(s.language, written)
    if written.partner is None:
        return await s.reply(N_("diary.saved_alone"), next=END, markup=raw_keyboard(saved))
    name = pairing.display_name(written.partner)
    return await s.reply(N_("diary.saved"), next=END, markup=raw_keyboard(saved), name=name)


@step()
async def continue_entry(s: Step) -> State:
    """A text no flow claimed, right after an entry: the rest of a long message Telegram split.

    Not a conversation state on purpose: registered last before the fallbacks
    (`continuation`), it only sees texts no flow wants, so it can never take an
    answer meant for one.
    """
    written = await s.do(usecase.continue_latest, user=s.person, text=s.text, now=s.now)
    if written is None:
        return await fallback.stray_message(s.update, s.context)
    return await s.reply(
        N_("diary.added"),
        next=None,
        markup=raw_keyboard(_saved_rows(s.language, written)),
        length=len(written.entry.text),
    )


@step(FLOW)
async def text_needed(s: Step) -> State:
    return await s.reply(N_("common.text_please"), next=None)


@step(FLOW)
async def cancel(s: Step) -> State:
    return await s.reply(N_("common.cancelled"), next=END)


# -- reading and sharing --------------------------------------------------------------------


@step()
async def show_mine(s: Step) -> State:
    page = await s.do(usecase.my_page, user=s.person, page=int(s.parts(3)[2]))
    if not page.items:
        write = keyboard(s.language, [[(N_("diary.button.write"), "d:write")]])
        return await s.reply(N_("diary.mine.empty"), next=None, markup=write)
    rows = _page_rows(s.language, page, "mine", own=True)
    await s.say(_mine_text(s.person, page), raw_keyboard(rows) if rows else None)
    return None


@step()
async def show_shared(s: Step) -> State:
    page = await s.do(usecase.shared_page, user=s.person, page=int(s.parts(3)[2]))
    if not page.items:
        return await s.reply(N_("diary.shared.empty"), next=None)
    rows = _page_rows(s.language, page, "shared", own=False)
    await s.say(_shared_text(s.person, page), raw_keyboard(rows) if rows else None)
    return None


@step()
async def share(s: Step) -> State:
    entry_id = int(s.parts(3)[2])
    written = await s.do(usecase.share, user=s.person, entry_id=entry_id, now=s.now)
    assert written.partner is not None
    row = share_button(s.language, written.entry, written.partner)
    name = pairing.display_name(written.partner)
    return await s.reply(N_("diary.shared_done"), next=None, markup=raw_keyboard([row]), name=name)


@step()
async def unshare(s: Step) -> State:
    written = await s.do(usecase.unshare, user=s.person, entry_id=int(s.parts(3)[2]))
    row = share_button(s.language, written.entry, written.partner)
    name = pairing.display_name(written.partner) if written.partner else ""
    markup = raw_keyboard([row]) if row else None
    return await s.reply(N_("diary.unshared_done"), next=None, markup=markup, name=name)


@step()
async def see(s: Step) -> State:
    """One whole entry: the author's own, or one a partner shared."""
    shown = await s.do(usecase.readable, user=s.person, entry_id=int(s.parts(3)[2]))
    own = shown.author.id == s.person.id
    row = share_button(s.language, shown.entry, shown.partner) if own else []
    await s.say(_entry_text(s.person, shown), raw_keyboard([row]) if row else None)
    return None


# -- messages sent through the outbox --------------------------------------------------------


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


# -- wiring ---------------------------------------------------------------------------------


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
        persistent=False,
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
