"""/book, /meetings and everything a meeting sends: requests, invitations, reminders,
the agenda prompt, the mentor's preparation and the evaluation afterwards."""

from __future__ import annotations

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
from bot.domain.mentorship import BOOKABLE_STATES
from bot.i18n import N_, Html, escape, short_moment, t
from bot.usecases import meetings as usecase
from bot.usecases import pairing
from conversations import choose
from conversations.common import Context, answer_button, keyboard, raw_keyboard, use_buttons
from conversations.step import END, Callback, State, Step, step
from storage.models import Meeting, User

FLOW = "meetings"
WHEN, LENGTH, PLACE, NEW_TIME, AGENDA = "when", "length", "place", "new_time", "agenda"
USEFUL, NEXT_STEPS, RATING = "eval_useful", "eval_next", "eval_rating"
BOOKABLE = BOOKABLE_STATES
SHARE, REFLECTION = "closeout_share", "reflection"


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


@step(FLOW)
async def book(s: Step) -> State:
    """/book: the adept proposes a meeting; the mentor confirms."""
    seen = await choose.mentorship(s.update, s.context, s.person, purpose="book", states=BOOKABLE)
    if seen is None or seen.mentorship.id is None:
        return END
    await s.do(usecase.draft, mentorship_id=seen.mentorship.id, user=s.person, now=s.now)
    slots = raw_keyboard(_suggested_slots(s.person, s.now))
    return await s.reply(N_("meetings.ask_when"), next=WHEN, markup=slots)


@step(FLOW)
async def book_closing(s: Step) -> State:
    """The closing meeting's button (`m:cl:<mentorship>`): booked like any other meeting."""
    mentorship_id = int(s.parts(3)[2])
    await s.do(usecase.draft_closing, mentorship_id=mentorship_id, user=s.person, now=s.now)
    slots = raw_keyboard(_suggested_slots(s.person, s.now))
    return await s.reply(N_("meetings.ask_when"), next=WHEN, markup=slots)


async def _ask_length(s: Step, meeting: Meeting) -> State:
    rows = [
        [(s.t(N_("meetings.minutes"), n=m), f"m:len:{m}") for m in rules.DURATIONS[:3]],
        [(s.t(N_("meetings.minutes"), n=m), f"m:len:{m}") for m in rules.DURATIONS[3:]],
    ]
    # No contract yet before the intro meeting, so no agreed length to point to.
    key = N_("meetings.intro.ask_length") if meeting.kind == "intro" else N_("meetings.ask_length")
    return await s.reply(
        key,
        next=LENGTH,
        markup=raw_keyboard(rows),
        when=local(s.person, meeting.starts_at),
        n=meeting.duration_minutes,
    )


@step(FLOW)
async def typed_time(s: Step) -> State:
    meeting = await s.do(usecase.set_typed_time, user=s.person, text=s.text, now=s.now)
    return await _ask_length(s, meeting)


@step(FLOW)
async def picked_time(s: Step) -> State:
    stamp = s.parts(3)[2]
    meeting = await s.do(usecase.set_picked_time, user=s.person, stamp=stamp, now=s.now)
    return await _ask_length(s, meeting)


@step(FLOW)
async def picked_length(s: Step) -> State:
    minutes = int(s.parts(3)[2])
    await s.do(usecase.set_length, user=s.person, minutes=minutes, now=s.now)
    places = keyboard(
        s.language,
        [
            [
                (N_("meetings.button.video"), "m:pl:video"),
                (N_("meetings.button.no_place"), "m:pl:none"),
            ]
        ],
    )
    return await s.reply(N_("meetings.ask_place"), next=PLACE, markup=places)


async def _finish_booking(s: Step, place: str | None) -> State:
    found = await s.do(usecase.book, user=s.person, place=place, now=s.now)
    return await s.reply(
        N_("meetings.booked"),
        next=END,
        name=pairing.display_name(found.mentor),
        when=local(s.person, found.meeting.starts_at),
    )


@step(FLOW)
async def typed_place(s: Step) -> State:
    return await _finish_booking(s, s.text)


@step(FLOW)
async def picked_place(s: Step) -> State:
    choice = s.parts(3)[2]
    return await _finish_booking(s, s.t(N_("meetings.video_call")) if choice == "video" else None)


# -- answering a proposed time, moving, cancelling -------------------------------------------


@step()
async def confirm(s: Step) -> State:
    _, _, meeting_id, sequence = s.parts(4)
    offsets = [timedelta(hours=h) for h in services.of(s.context).settings.reminder_hours]
    await s.do(
        usecase.confirm,
        meeting_id=int(meeting_id),
        sequence=int(sequence),
        user=s.person,
        now=s.now,
        reminder_offsets=offsets,
    )
    query = s.update.callback_query
    assert query is not None
    await answer_button(s.update, s.t(N_("meetings.confirmed_toast")))
    await query.edit_message_reply_markup(None)
    return None


@step(FLOW)
async def ask_new_time(s: Step) -> State:
    """ "Propose another time" or "Move": ask for the new time."""
    await s.do(usecase.focus, meeting_id=int(s.parts(3)[2]), user=s.person)
    return await s.reply(N_("meetings.ask_new_time"), next=NEW_TIME)


@step(FLOW)
async def typed_new_time(s: Step) -> State:
    """Show what the typed time was read as; only "send" proposes it (or type another)."""
    found, starts_at = await s.do(usecase.read_new_time, user=s.person, text=s.text, now=s.now)
    assert found.pairing.partner is not None and found.meeting.id is not None
    name = pairing.display_name(found.pairing.partner)
    data = f"m:nt:{found.meeting.id}:{usecase.time_stamp(starts_at)}"
    send = raw_keyboard([[(s.t(N_("meetings.button.send_new_time"), name=name), data)]])
    return await s.reply(
        N_("meetings.new_time_read"),
        next=NEW_TIME,
        markup=send,
        name=name,
        when=local(s.person, starts_at),
    )


@step(FLOW)
async def send_new_time(s: Step) -> State:
    _, meeting_id, stamp = s.parts(4)[1:]
    found = await s.do(
        usecase.propose_stamped_time,
        meeting_id=int(meeting_id),
        user=s.person,
        stamp=stamp,
        now=s.now,
    )
    assert found.pairing.partner is not None
    return await s.reply(
        N_("meetings.proposed"),
        next=END,
        name=pairing.display_name(found.pairing.partner),
        when=local(s.person, found.meeting.starts_at),
    )


@step()
async def cancel_meeting(s: Step) -> State:
    found = await s.do(usecase.cancel, meeting_id=int(s.parts(3)[2]), user=s.person, now=s.now)
    assert found.pairing.partner is not None
    return await s.reply(
        N_("meetings.cancelled_by_you"),
        next=None,
        name=pairing.display_name(found.pairing.partner),
        when=local(s.person, found.meeting.starts_at),
    )


def _overview_text(
    user: User, partner: User, found: usecase.Overview, *, mentor: bool
) -> tuple[str, list[list[tuple[str, str]]]]:
    language = user.language
    lines = [t(language, "meetings.overview_title", name=pairing.display_name(partner))]
    if not found.upcoming:
        lines.append(t(language, "meetings.none_upcoming"))
    rows: list[list[tuple[str, str]]] = []
    for meeting in found.upcoming:
        state_key = (
            N_("meetings.state.confirmed")
            if meeting.state == "confirmed"
            else N_("meetings.state.proposed")
        )
        lines.append(
            t(
                language,
                "meetings.overview_line",
                # Already formatted (and escaped) by `when_text`: not to be escaped again.
                when=Html(when_text(language, user, partner, meeting.starts_at)),
                n=meeting.duration_minutes,
                state=t(language, state_key),
                place=meeting.place or "—",
            )
        )
        label = short_moment(local(user, meeting.starts_at), language)
        # One button a row: with the date in both, two side by side are cut off on a phone.
        rows.append([(t(language, "meetings.button.move", when=label), f"m:mv:{meeting.id}")])
        rows.append([(t(language, "meetings.button.cancel", when=label), f"m:x:{meeting.id}")])
    if mentor:
        budget = found.budget
        lines.append(
            t(
                language,
                "meetings.budget",
                hours=round(float(budget.hours), 1),
                budget=budget.budget if budget.budget is not None else "—",
            )
        )
    return "\n\n".join(lines), rows


@step()
async def overview(s: Step) -> State:
    """/meetings: what is coming, with Move and Cancel, and the mentor's hours this month."""
    seen = await choose.mentorship(
        s.update, s.context, s.person, purpose="meetings", states=BOOKABLE
    )
    if seen is None or seen.mentorship.id is None or seen.partner is None:
        return None
    found = await s.do(
        usecase.overview, mentorship_id=seen.mentorship.id, zone=zone_of(s.person), now=s.now
    )
    text, rows = _overview_text(s.person, seen.partner, found, mentor=seen.me.role == "mentor")
    await s.say(text, raw_keyboard(rows) if rows else None)
    return None


# -- agenda and evaluation -----------------------------------------------------------------


def bullets(texts: list[str]) -> Html:
    return Html("\n".join(f"• {escape(text)}" for text in texts))


@step(FLOW)
async def ask_agenda(s: Step) -> State:
    """The agenda's structure: the intro template for the intro meeting, otherwise the
    follow-up of last time's next steps already on it, and today's topics asked for."""
    start = await s.do(usecase.start_agenda, meeting_id=int(s.parts(3)[2]), user=s.person)
    name = pairing.display_name(start.found.mentor)
    if start.intro:
        return await s.reply(N_("meetings.intro.ask_agenda"), next=AGENDA, name=name)
    if start.follow_up:
        return await s.reply(
            N_("meetings.ask_agenda_follow_up"),
            next=AGENDA,
            follow_up=bullets(start.follow_up),
        )
    return await s.reply(N_("meetings.ask_agenda"), next=AGENDA)


@step(FLOW)
async def typed_agenda(s: Step) -> State:
    found = await s.do(
        usecase.save_agenda,
        meeting_id=s.person.focus_meeting_id or 0,
        user=s.person,
        text=s.text,
        now=s.now,
    )
    return await s.reply(
        N_("meetings.agenda_saved"), next=END, name=pairing.display_name(found.mentor)
    )


@step(FLOW)
async def start_evaluation(s: Step) -> State:
    meeting_id = int(s.parts(3)[2])
    await s.do(usecase.start_evaluation, meeting_id=meeting_id, user=s.person, now=s.now)
    return await s.reply(N_("meetings.eval.useful"), next=USEFUL)


def _evaluation_step(field: str, next_state: str, question: str) -> Callback:
    """One typed answer of the close-out, then the next question."""

    @step(FLOW)
    async def answer(s: Step) -> State:
        await s.do(usecase.answer_evaluation, user=s.person, field=field, value=s.text, now=s.now)
        rating = raw_keyboard([[(str(n), f"m:rate:{n}") for n in range(1, 6)]])
        return await s.reply(
            question, next=next_state, markup=rating if next_state == RATING else None
        )

    return answer


# -- the close-out: shared or kept, then the mentor's private reflection --------------------


@step(FLOW)
async def rated(s: Step) -> State:
    """The last answer of the close-out; then whether the other may see it."""
    value = s.parts(3)[2] if s.update.callback_query else s.text
    await s.do(usecase.answer_evaluation, user=s.person, field="rating", value=value, now=s.now)
    found = await s.do(usecase.focused, user=s.person)
    partner = found.mentor if found.adept.id == s.person.id else found.adept
    name = pairing.display_name(partner)
    rows = [
        [(s.t(N_("meetings.closeout.button.share"), name=name), "m:sh:yes")],
        [(s.t(N_("meetings.closeout.button.keep")), "m:sh:no")],
    ]
    return await s.reply(
        N_("meetings.closeout.ask_share"), next=SHARE, markup=raw_keyboard(rows), name=name
    )


async def _thanks(s: Step) -> State:
    diary = keyboard(s.language, [[(N_("meetings.button.diary"), "d:write")]])
    return await s.reply(N_("meetings.eval.thanks"), next=END, markup=diary)


@step(FLOW)
async def chose_sharing(s: Step) -> State:
    closeout = await s.do(
        usecase.share_closeout, user=s.person, share=s.parts(3)[2] == "yes", now=s.now
    )
    if not closeout.mentor:
        return await _thanks(s)
    skip = keyboard(s.language, [[(N_("meetings.reflection.button.skip"), "m:rf:skip")]])
    return await s.reply(
        N_("meetings.reflection.ask"),
        next=REFLECTION,
        markup=skip,
        name=pairing.display_name(closeout.partner),
    )


@step(FLOW)
async def typed_reflection(s: Step) -> State:
    await s.do(usecase.save_reflection, user=s.person, text=s.text, now=s.now)
    return await s.reply(N_("meetings.reflection.saved"), next=END)


@step(FLOW)
async def skipped_reflection(s: Step) -> State:
    return await s.reply(N_("meetings.reflection.skipped"), next=END)


@step(FLOW)
async def cancel_flow(s: Step) -> State:
    return await s.reply(N_("meetings.paused"), next=END)


def conversation() -> ConversationHandler[Context]:
    private = filters.ChatType.PRIVATE
    text = filters.TEXT & ~filters.COMMAND
    useful = _evaluation_step("useful", NEXT_STEPS, N_("meetings.eval.next_steps"))
    next_steps = _evaluation_step("next_steps", RATING, N_("meetings.eval.rating"))
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
        NEW_TIME: [
            MessageHandler(text, typed_new_time),
            CallbackQueryHandler(send_new_time, pattern=r"^m:nt:\d{1,18}:\d{12}$"),
        ],
        AGENDA: [MessageHandler(text, typed_agenda)],
        USEFUL: [MessageHandler(text, useful)],
        NEXT_STEPS: [MessageHandler(text, next_steps)],
        RATING: [
            CallbackQueryHandler(rated, pattern=r"^m:rate:[1-5]$"),
            # A typed digit is as good as the button; anything else is refused kindly.
            MessageHandler(text, rated),
        ],
        SHARE: [
            CallbackQueryHandler(chose_sharing, pattern=r"^m:sh:(yes|no)$"),
            MessageHandler(text, use_buttons),
        ],
        REFLECTION: [
            MessageHandler(text, typed_reflection),
            CallbackQueryHandler(skipped_reflection, pattern=r"^m:rf:skip$"),
        ],
    }
    return ConversationHandler(
        entry_points=[
            CommandHandler("book", book, filters=private),
            CallbackQueryHandler(book, pattern=choose.pick_pattern("book")),
            CallbackQueryHandler(book_closing, pattern=r"^m:cl:\d+$"),
            CallbackQueryHandler(ask_new_time, pattern=r"^m:(new|mv):\d+$"),
            CallbackQueryHandler(ask_agenda, pattern=r"^m:ag:\d+$"),
            CallbackQueryHandler(start_evaluation, pattern=r"^m:ev:\d+$"),
        ],
        states=states,
        fallbacks=[CommandHandler("cancel", cancel_flow)],
        name=FLOW,
        persistent=False,
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
