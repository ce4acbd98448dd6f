"""/announce: a coordinator's message to a programme's mentors, mentees or everyone.

/announce (the latest announcements' counts, then the programme if there are several,
`ann:p:<programme>`) -> the audience (`ann:to:<programme>:<mentor|adept|all>`) -> the
typed text -> a preview exactly as members will see it, with how many it reaches ->
`ann:send:<announcement>` or `ann:drop:<announcement>`. The outbox delivers it
(`announcement` rows) and tells the author how it went (`announcement_report`).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot import scheduler, services
from bot.domain.announcements import Tally
from bot.i18n import N_, t
from bot.usecases import announcements as usecase
from bot.usecases.programmes import name_of
from conversations.common import Context, answer_button, keyboard, raw_keyboard
from conversations.step import END, State, Step, step
from storage.models import Programme

FLOW = "announce"
TYPING = "typing"
AUDIENCE_BUTTONS = (
    ("mentor", N_("announce.button.mentors")),
    ("adept", N_("announce.button.adepts")),
    ("all", N_("announce.button.all")),
)


def _super(s: Step) -> list[int]:
    return services.of(s.context).settings.admin_ids


def _tally_line(language: str, tally: Tally) -> str:
    parts = [t(language, "announce.count.delivered", n=tally.delivered)]
    parts.append(t(language, "announce.count.unreachable", n=tally.unreachable))
    if tally.stopped:
        parts.append(t(language, "announce.count.stopped", n=tally.stopped))
    if tally.waiting:
        parts.append(t(language, "announce.count.waiting", n=tally.waiting))
    return " · ".join(parts)


def _recent(s: Step, found: list[usecase.Summary]) -> str:
    if not found:
        return ""
    zone = ZoneInfo(s.person.timezone)
    lines = [s.t(N_("announce.recent.title"))]
    for summary in found:
        sent = summary.announcement.confirmed_at
        assert sent is not None
        lines.append(
            s.t(
                N_("announce.recent.item"),
                when=sent.astimezone(zone).date(),
                audience=s.t(usecase.AUDIENCE_NAMES[summary.announcement.audience]),
                programme=name_of(summary.programme, s.language),
            )
        )
        lines.append(_tally_line(s.language, summary.tally))
    return "\n".join(lines) + "\n\n"


async def _ask_audience(s: Step, programme: Programme, before: str = "") -> State:
    rows = [[(label, f"ann:to:{programme.id}:{audience}")] for audience, label in AUDIENCE_BUTTONS]
    text = before + s.t(N_("announce.choose_audience"), programme=name_of(programme, s.language))
    await s.goto(END)
    await s.say(text, keyboard(s.language, rows))
    return END


@step(FLOW)
async def announce(s: Step) -> State:
    found = await s.do(usecase.start, user=s.person, super_coordinators=_super(s))
    before = _recent(s, found.recent)
    if len(found.programmes) == 1:
        return await _ask_audience(s, found.programmes[0], before)
    rows = [[(name_of(p, s.language), f"ann:p:{p.id}")] for p in found.programmes]
    await s.goto(END)
    await s.say(before + s.t(N_("announce.choose_programme")), raw_keyboard(rows))
    return END


@step(FLOW)
async def programme_chosen(s: Step) -> State:
    programme_id = int(s.parts(3)[2])
    found = await s.do(
        usecase.programme, user=s.person, programme_id=programme_id, super_coordinators=_super(s)
    )
    return await _ask_audience(s, found)


@step(FLOW)
async def audience_chosen(s: Step) -> State:
    _, _, programme_id, audience = s.parts(4)
    draft = await s.do(
        usecase.begin,
        user=s.person,
        programme_id=int(programme_id),
        audience=audience,
        super_coordinators=_super(s),
        now=s.now,
    )
    return await s.reply(
        N_("announce.ask_text"),
        next=TYPING,
        audience=s.t(usecase.AUDIENCE_NAMES[audience]),
        programme=name_of(draft.programme, s.language),
        limit=draft.room,
    )


@step(FLOW)
async def typed(s: Step) -> State:
    draft = await s.do(usecase.write, user=s.person, text=s.text, super_coordinators=_super(s))
    announcement = draft.announcement
    assert announcement.text is not None
    await s.goto(END)
    # Exactly what the outbox will send (`render_announcement`), in this person's language.
    await s.say(usecase.message(draft.programme, s.language, announcement.text))
    buttons = [
        [(N_("announce.button.send"), f"ann:send:{announcement.id}")],
        [(N_("announce.button.cancel"), f"ann:drop:{announcement.id}")],
    ]
    # The send button says how many it reaches: a plural text, so labelled here.
    markup = raw_keyboard(
        [[(s.t(key, n=draft.reach), data) for key, data in row] for row in buttons]
    )
    await s.say(
        s.t(
            N_("announce.confirm"),
            n=draft.reach,
            audience=s.t(usecase.AUDIENCE_NAMES[announcement.audience]),
            programme=name_of(draft.programme, s.language),
        ),
        markup,
    )
    return END


@step(FLOW)
async def not_text(s: Step) -> State:
    return await s.reply(N_("announce.text_only"), next=None)


@step(FLOW)
async def cancel(s: Step) -> State:
    await s.do(usecase.discard_drafts, user=s.person)
    return await s.reply(N_("announce.discarded"), next=END)


async def _buttons_off(s: Step) -> None:
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update)
    await query.edit_message_reply_markup(None)


@step()
async def send(s: Step) -> State:
    announcement_id = int(s.parts(3)[2])
    sent = await s.do(
        usecase.confirm,
        user=s.person,
        announcement_id=announcement_id,
        super_coordinators=_super(s),
        now=s.now,
        rate=services.of(s.context).settings.outbox_rate,
    )
    await _buttons_off(s)
    # A wrong date or the wrong audience noticed now can still be held back.
    stop = [[(N_("announce.button.stop"), f"ann:stop:{sent.id}")]]
    return await s.reply(
        N_("announce.queued"), next=None, markup=keyboard(s.language, stop), n=sent.recipients
    )


@step()
async def stop(s: Step) -> State:
    kept_back = await s.do(
        usecase.stop,
        user=s.person,
        announcement_id=int(s.parts(3)[2]),
        super_coordinators=_super(s),
        now=s.now,
    )
    await _buttons_off(s)
    return await s.reply(N_("announce.stopped"), next=None, n=kept_back)


@step()
async def drop(s: Step) -> State:
    await s.do(usecase.discard, user=s.person, announcement_id=int(s.parts(3)[2]))
    await _buttons_off(s)
    return await s.reply(N_("announce.discarded"), next=None)


# -- what the outbox sends ------------------------------------------------------------


async def render_announcement(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await usecase.to_deliver(
        ctx.session,
        announcement_id=int(ctx.notification.payload["announcement"]),
        recipient=ctx.recipient,
    )
    if found is None:
        return None
    return scheduler.Outgoing(
        text=usecase.message(found.programme, ctx.recipient.language, found.text)
    )


async def render_report(ctx: scheduler.RenderContext) -> scheduler.Outgoing | None:
    found = await usecase.report(
        ctx.session,
        announcement_id=int(ctx.notification.payload["announcement"]),
        now=ctx.now,
        rate=ctx.settings.outbox_rate,
    )
    if found is None:
        return None
    if not isinstance(found, usecase.Summary):
        raise scheduler.RenderLater(found)  # rows still on the way: look again then
    language = ctx.recipient.language
    sent = found.announcement.confirmed_at
    assert sent is not None
    head = t(
        language,
        "announce.report",
        audience=t(language, usecase.AUDIENCE_NAMES[found.announcement.audience]),
        programme=name_of(found.programme, language),
        when=sent.astimezone(ZoneInfo(ctx.recipient.timezone)).date(),
    )
    return scheduler.Outgoing(text=head + "\n" + _tally_line(language, found.tally))


scheduler.register(usecase.KIND, render_announcement)
scheduler.register(usecase.REPORT_KIND, render_report)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    return ConversationHandler(
        entry_points=[
            CommandHandler("announce", announce, filters=private),
            CallbackQueryHandler(programme_chosen, pattern=r"^ann:p:\d{1,18}$"),
            CallbackQueryHandler(audience_chosen, pattern=r"^ann:to:\d{1,18}:(mentor|adept|all)$"),
        ],
        states={
            TYPING: [
                MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
                MessageHandler(
                    ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL, not_text
                ),
            ]
        },
        fallbacks=[CommandHandler("cancel", cancel)],
        name=FLOW,
        persistent=False,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    return [
        CallbackQueryHandler(send, pattern=r"^ann:send:\d{1,18}$"),
        CallbackQueryHandler(drop, pattern=r"^ann:drop:\d{1,18}$"),
        CallbackQueryHandler(stop, pattern=r"^ann:stop:\d{1,18}$"),
    ]
