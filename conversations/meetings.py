"""/book, /meetings and everything a meeting sends: requests, invitations, reminders,
the agenda prompt, the mentor's preparation and the evaluation afterwards."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
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

from bot import services
from bot.domain import meetings as rules
from bot.domain.when import WhenError, parse_when
from bot.i18n import N_, short_moment, t
from bot.usecases import Refused, pairing
from bot.usecases import meetings as usecase
from conversations import choose
from conversations.common import (
    Context,
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
    use_buttons,
)
from storage import meetings as store
from storage.models import MentorshipState, User

FLOW = "meetings"
WHEN, LENGTH, PLACE, NEW_TIME, AGENDA = "when", "length", "place", "new_time", "agenda"
USEFUL, NEXT_STEPS, RATING = "eval_useful", "eval_next", "eval_rating"
END = ConversationHandler.END
BOOKABLE = frozenset({MentorshipState.ACTIVE, MentorshipState.CLOSING})

WHEN_PROBLEMS = (
    N_("meetings.when.empty"),
    N_("meetings.when.no_date"),
    N_("meetings.when.no_time"),
    N_("meetings.when.bad_date"),
    N_("meetings.when.bad_time"),
    N_("meetings.when.in_past"),
)


def zone_of(user: User) -> ZoneInfo:
    return ZoneInfo(user.timezone)


def local(user: User, moment: datetime) -> datetime:
    return moment.astimezone(zone_of(user))


def when_text(language: str, viewer: User, partner: User, moment: datetime) -> str:
    """The time in the viewer's zone, plus the partner's when their clock differs."""
    shown = t(language, "meetings.when_line", when=local(viewer, moment))
    if local(viewer, moment).utcoffset() != local(partner, moment).utcoffset():
        shown += " " + t(
            language,
            "meetings.partner_local",
            name=pairing.display_name(partner),
            when=local(partner, moment),
        )
    return shown


def _suggested_slots(user: User, moment: datetime) -> list[list[tuple[str, str]]]:
    """A few ready-made times: the next weekdays at 09:00 and 14:00."""
    today = local(user, moment).date()
    rows: list[list[tuple[str, str]]] = []
    day = today
    while len(rows) < 3:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        row = []
        for hour in (9, 14):
            slot = datetime(day.year, day.month, day.day, hour, 0, tzinfo=zone_of(user))
            label = short_moment(slot, user.language)
            row.append((label, f"m:at:{slot.strftime('%Y%m%d%H%M')}"))
        rows.append(row)
    return rows


# -- booking ------------------------------------------------------------------------------


async def book(update: Update, context: Context) -> str | int:
    """/book: the adept proposes a meeting; the mentor confirms."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="book", states=BOOKABLE)
    if seen is None or seen.mentorship.id is None:
        return END
    mentorship_id = seen.mentorship.id
    try:
        await run(
            context,
            lambda s: usecase.draft(s, mentorship_id=mentorship_id, user=user, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, WHEN)
    await say(
        update,
        t(user.language, "meetings.ask_when"),
        raw_keyboard(_suggested_slots(user, now(context))),
    )
    return WHEN


async def _after_time(update: Update, context: Context, user: User, starts_at: datetime) -> str:
    try:
        meeting = await run(
            context,
            lambda s: usecase.set_time(s, user=user, starts_at=starts_at, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return WHEN
    await remember_step(update, context, FLOW, LENGTH)
    rows = [
        [(t(user.language, "meetings.minutes", n=m), f"m:len:{m}") for m in rules.DURATIONS[:3]],
        [(t(user.language, "meetings.minutes", n=m), f"m:len:{m}") for m in rules.DURATIONS[3:]],
    ]
    await say(
        update,
        t(
            user.language,
            "meetings.ask_length",
            when=local(user, meeting.starts_at),
            n=meeting.duration_minutes,
        ),
        raw_keyboard(rows),
    )
    return LENGTH


async def typed_time(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    try:
        starts_at = parse_when(message_of(update).text or "", now=now(context), zone=zone_of(user))
    except WhenError as problem:
        await say(update, t(user.language, f"meetings.when.{problem.reason}"))
        return WHEN
    return await _after_time(update, context, user, starts_at)


async def picked_time(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    stamp = callback_parts(update, 3)[2]
    await answer_button(update)
    try:
        starts_at = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=zone_of(user))
    except ValueError:
        await explain(update, user, Refused("common.stale_button"))
        return WHEN
    return await _after_time(update, context, user, starts_at)


async def picked_length(update: Update, context: Context) -> str:
    user = await remember_user(update, context)
    minutes = int(callback_parts(update, 3)[2])
    try:
        await run(
            context,
            lambda s: usecase.set_length(s, user=user, minutes=minutes, now=now(context)),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return LENGTH
    await answer_button(update)
    await remember_step(update, context, FLOW, PLACE)
    await say(
        update,
        t(user.language, "meetings.ask_place"),
        keyboard(
            user.language,
            [
                [
                    (N_("meetings.button.video"), "m:pl:video"),
                    (N_("meetings.button.no_place"), "m:pl:none"),
                ]
            ],
        ),
    )
    return PLACE


async def _finish_booking(
    update: Update, context: Context, user: User, place: str | None
) -> str | int:
    try:
        found = await run(
            context, lambda s: usecase.book(s, user=user, place=place, now=now(context))
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return PLACE if refusal.key == "meetings.place_too_long" else END
    await answer_button(update)
    await remember_step(update, context, FLOW, None)
    await say(
        update,
        t(
            user.language,
            "meetings.booked",
            name=pairing.display_name(found.mentor),
            when=local(user, found.meeting.starts_at),
        ),
    )
    return END


async def typed_place(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    return await _finish_booking(update, context, user, message_of(update).text or "")


async def picked_place(update: Update, context: Context) -> str | int:
    choice = callback_parts(update, 3)[2]
    user = await remember_user(update, context)
    place = t(user.language, "meetings.video_call") if choice == "video" else None
    return await _finish_booking(update, context, user, place)


# -- answering a proposed time, moving, cancelling -------------------------------------------


async def confirm(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    _, _, meeting_id, sequence = callback_parts(update, 4)
    offsets = [timedelta(hours=h) for h in services.of(context).settings.reminder_hours]
    try:
        await run(
            context,
            lambda s: usecase.confirm(
                s,
                meeting_id=int(meeting_id),
                sequence=int(sequence),
                user=user,
                now=now(context),
                reminder_offsets=offsets,
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    query = update.callback_query
    assert query is not None
    await query.answer(t(user.language, "meetings.confirmed_toast"))
    await query.edit_message_reply_markup(None)


async def ask_new_time(update: Update, context: Context) -> str | int:
    """ "Propose another time" or "Move": ask for the new time."""
    user = await remember_user(update, context)
    meeting_id = int(callback_parts(update, 3)[2])
    try:
        await run(context, lambda s: usecase.focus(s, meeting_id=meeting_id, user=user))
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, NEW_TIME)
    await say(update, t(user.language, "meetings.ask_new_time"))
    return NEW_TIME


async def typed_new_time(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    try:
        starts_at = parse_when(message_of(update).text or "", now=now(context), zone=zone_of(user))
    except WhenError as problem:
        await say(update, t(user.language, f"meetings.when.{problem.reason}"))
        return NEW_TIME
    meeting_id = user.focus_meeting_id or 0
    try:
        found = await run(
            context,
            lambda s: usecase.propose_time(
                s, meeting_id=meeting_id, user=user, starts_at=starts_at, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return NEW_TIME if refusal.key in {"meetings.overlap", "meetings.when.in_past"} else END
    await remember_step(update, context, FLOW, None)
    assert found.pairing.partner is not None
    await say(
        update,
        t(
            user.language,
            "meetings.proposed",
            name=pairing.display_name(found.pairing.partner),
            when=local(user, starts_at),
        ),
    )
    return END


async def cancel_meeting(update: Update, context: Context) -> None:
    user = await remember_user(update, context)
    meeting_id = int(callback_parts(update, 3)[2])
    try:
        found = await run(
            context, lambda s: usecase.cancel(s, meeting_id=meeting_id, user=user, now=now(context))
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return
    await answer_button(update)
    assert found.pairing.partner is not None
    await say(
        update,
        t(
            user.language,
            "meetings.cancelled_by_you",
            name=pairing.display_name(found.pairing.partner),
            when=local(user, found.meeting.starts_at),
        ),
    )


async def overview(update: Update, context: Context) -> None:
    """/meetings: what is coming, with Move and Cancel, and the mentor's hours this month."""
    user = await remember_user(update, context)
    seen = await choose.mentorship(update, context, user, purpose="meetings", states=BOOKABLE)
    if seen is None or seen.mentorship.id is None or seen.partner is None:
        return
    mentorship_id, partner = seen.mentorship.id, seen.partner
    moment = now(context)
    upcoming = await run(
        context, lambda s: store.upcoming(s, mentorship_id=mentorship_id, now=moment)
    )
    budget = await run(
        context,
        lambda s: usecase.time_budget(
            s, mentorship_id=mentorship_id, zone=zone_of(user), now=moment
        ),
    )
    lines = [t(user.language, "meetings.overview_title", name=pairing.display_name(partner))]
    if not upcoming:
        lines.append(t(user.language, "meetings.none_upcoming"))
    rows: list[list[tuple[str, str]]] = []
    for meeting in upcoming:
        state_key = (
            N_("meetings.state.confirmed")
            if meeting.state == "confirmed"
            else N_("meetings.state.proposed")
        )
        lines.append(
            t(
                user.language,
                "meetings.overview_line",
                when=when_text(user.language, user, partner, meeting.starts_at),
                n=meeting.duration_minutes,
                state=t(user.language, state_key),
                place=meeting.place or "—",
            )
        )
        label = short_moment(local(user, meeting.starts_at), user.language)
        rows.append(
            [
                (t(user.language, "meetings.button.move", when=label), f"m:mv:{meeting.id}"),
                (t(user.language, "meetings.button.cancel", when=label), f"m:x:{meeting.id}"),
            ]
        )
    if seen.me.role == "mentor":
        lines.append(
            t(
                user.language,
                "meetings.budget",
                hours=f"{budget.hours:.1f}",
                budget=budget.budget if budget.budget is not None else "—",
            )
        )
    await say(update, "\n\n".join(lines), raw_keyboard(rows) if rows else None)


# -- agenda and evaluation -----------------------------------------------------------------


async def ask_agenda(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    meeting_id = int(callback_parts(update, 3)[2])
    try:
        await run(context, lambda s: usecase.start_agenda(s, meeting_id=meeting_id, user=user))
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, AGENDA)
    await say(update, t(user.language, "meetings.ask_agenda"))
    return AGENDA


async def typed_agenda(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    text = message_of(update).text or ""
    meeting_id = user.focus_meeting_id or 0
    try:
        found = await run(
            context,
            lambda s: usecase.save_agenda(
                s, meeting_id=meeting_id, user=user, text=text, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return AGENDA if refusal.key in {"meetings.agenda_empty", "meetings.too_long"} else END
    await remember_step(update, context, FLOW, None)
    await say(
        update, t(user.language, "meetings.agenda_saved", name=pairing.display_name(found.mentor))
    )
    return END


async def start_evaluation(update: Update, context: Context) -> str | int:
    user = await remember_user(update, context)
    meeting_id = int(callback_parts(update, 3)[2])
    try:
        await run(
            context,
            lambda s: usecase.start_evaluation(
                s, meeting_id=meeting_id, user=user, now=now(context)
            ),
        )
    except Refused as refusal:
        await explain(update, user, refusal)
        return END
    await answer_button(update)
    await remember_step(update, context, FLOW, USEFUL)
    await say(update, t(user.language, "meetings.eval.useful"))
    return USEFUL


def _evaluation_step(
    field: str, next_state: str | None, question: str | None
) -> Callable[[Update, Context], Coroutine[Any, Any, str | int]]:
    async def step(update: Update, context: Context) -> str | int:
        user = await remember_user(update, context)
        query = update.callback_query
        value = callback_parts(update, 3)[2] if query else (message_of(update).text or "")
        current = RATING if field == "rating" else USEFUL if field == "useful" else NEXT_STEPS
        try:
            await run(
                context,
                lambda s: usecase.answer_evaluation(
                    s, user=user, field=field, value=value, now=now(context)
                ),
            )
        except Refused as refusal:
            await explain(update, user, refusal)
            return current if refusal.key != "common.stale_button" else END
        await answer_button(update)
        await remember_step(update, context, FLOW, next_state)
        if next_state is None:
            await say(
                update,
                t(user.language, "meetings.eval.thanks"),
                keyboard(user.language, [[(N_("meetings.button.diary"), "d:write")]]),
            )
            return END
        markup = (
            raw_keyboard([[(str(n), f"m:rate:{n}") for n in range(1, 6)]])
            if next_state == RATING
            else None
        )
        assert question is not None
        await say(update, t(user.language, question), markup)
        return next_state

    return step


async def cancel_flow(update: Update, context: Context) -> int:
    user = await remember_user(update, context)
    await remember_step(update, context, FLOW, None)
    await say(update, t(user.language, "meetings.paused"))
    return END


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    useful = _evaluation_step("useful", NEXT_STEPS, N_("meetings.eval.next_steps"))
    next_steps = _evaluation_step("next_steps", RATING, N_("meetings.eval.rating"))
    rating = _evaluation_step("rating", None, None)
    states: dict[object, list[BaseHandler[Update, Context, Any]]] = {
        WHEN: [
            CallbackQueryHandler(picked_time, pattern=r"^m:at:\d{12}$"),
            MessageHandler(text, typed_time),
        ],
        LENGTH: [
            CallbackQueryHandler(picked_length, pattern=r"^m:len:\d+$"),
            MessageHandler(text, use_buttons),
        ],
        PLACE: [
            CallbackQueryHandler(picked_place, pattern=r"^m:pl:(video|none)$"),
            MessageHandler(text, typed_place),
        ],
        NEW_TIME: [MessageHandler(text, typed_new_time)],
        AGENDA: [MessageHandler(text, typed_agenda)],
        USEFUL: [MessageHandler(text, useful)],
        NEXT_STEPS: [MessageHandler(text, next_steps)],
        RATING: [
            CallbackQueryHandler(rating, pattern=r"^m:rate:[1-5]$"),
            MessageHandler(text, use_buttons),
        ],
    }
    return ConversationHandler(
        entry_points=[
            CommandHandler("book", book, filters=private),
            CallbackQueryHandler(book, pattern=choose.pick_pattern("book")),
            CallbackQueryHandler(ask_new_time, pattern=r"^m:(new|mv):\d+$"),
            CallbackQueryHandler(ask_agenda, pattern=r"^m:ag:\d+$"),
            CallbackQueryHandler(start_evaluation, pattern=r"^m:ev:\d+$"),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel_flow)],
        name=FLOW,
        persistent=True,
        allow_reentry=True,
    )


def handlers() -> list[BaseHandler[Update, Context, Any]]:
    private = filters.ChatType.PRIVATE
    return [
        CallbackQueryHandler(confirm, pattern=r"^m:ok:\d+:\d+$"),
        CallbackQueryHandler(cancel_meeting, pattern=r"^m:x:\d+$"),
        CommandHandler("meetings", overview, filters=private),
        CallbackQueryHandler(overview, pattern=choose.pick_pattern("meetings")),
    ]
