"""Booking, confirming, moving and cancelling meetings; agendas and evaluations;
nudges to book. Every message a meeting sets in motion is an outbox row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import closing as closing_rules
from bot.domain import meetings as rules
from bot.domain.mentorship import BOOKABLE_STATES, booking_kind
from bot.domain.when import WhenError, parse_when
from bot.i18n import N_
from bot.usecases import Refused, misread, notify, signals
from bot.usecases.pairing import display_name, member_view
from storage import contracts, mentorships, outbox, planning
from storage import meetings as store
from storage.mentorships import Pairing
from storage.models import (
    AgendaItem,
    DiaryEntry,
    Meeting,
    MeetingEvaluation,
    MentorshipState,
    Role,
    User,
    Visibility,
)

BOOKABLE = BOOKABLE_STATES
# What a meeting's time sets in motion, cancelled when it moves or is cancelled. An
# agenda item sent to the mentor stays: it was written, whatever the time.
PLANNED_KINDS = (
    "meeting_request",
    "meeting_invite",
    "meeting_cancelled",
    "meeting_reminder",
    "agenda_prompt",
    "mentor_prep",
    "meeting_evaluation",
)
NUDGE_KIND = "book_nudge"
AGENDA_MAX_CHARS = 4000
ANSWER_MAX_CHARS = 4000
# Keys reached through `Refused(f"meetings.when.{reason}", stay=True)`: a typed time that
# can be corrected, so the person stays at the question.
WHEN_PROBLEMS = (
    N_("meetings.when.empty"),
    N_("meetings.when.no_date"),
    N_("meetings.when.no_time"),
    N_("meetings.when.bad_date"),
    N_("meetings.when.bad_time"),
    N_("meetings.when.in_past"),
)


@dataclass(frozen=True, slots=True)
class MeetingView:
    meeting: Meeting
    pairing: Pairing
    adept: User
    mentor: User


def _people(seen: Pairing, user: User) -> tuple[User, User]:
    """(adept, mentor) for a pairing seen by `user`."""
    assert seen.partner is not None
    return (user, seen.partner) if seen.me.role == Role.ADEPT else (seen.partner, user)


def _may_book(state: str, kind: str) -> bool:
    return state in BOOKABLE or closing_rules.may_book(state, kind)


async def _bookable(
    session: AsyncSession, *, mentorship_id: int, user: User, kind: str = "regular"
) -> Pairing:
    seen = await member_view(session, mentorship_id=mentorship_id, user=user)
    if not _may_book(seen.mentorship.state, kind) or seen.partner is None:
        raise Refused("meetings.not_active")
    return seen


async def view(
    session: AsyncSession, *, meeting_id: int, user: User, stay: bool = False
) -> MeetingView:
    """A meeting as one of its pair sees it; refused for anyone else.

    A meeting that is gone always ends the step; `stay` keeps the person at
    their step when they are not one of the pair (an evaluation answer).
    """
    meeting = await store.get(session, meeting_id=meeting_id)
    if meeting is None:
        raise Refused("common.stale_button")
    try:
        seen = await member_view(session, mentorship_id=meeting.mentorship_id, user=user)
    except Refused as refused:
        raise Refused(refused.key, stay=stay, **refused.values) from None
    adept, mentor = _people(seen, user)
    return MeetingView(meeting, seen, adept, mentor)


def _typed_moment(user: User, text: str, now: datetime) -> datetime:
    """The moment a typed answer means, in the person's zone; a typo can be corrected."""
    try:
        return parse_when(text, now=now, zone=ZoneInfo(user.timezone))
    except WhenError as problem:
        if problem.reason == "weekday_mismatch":
            raise misread.weekday_mismatch(problem, language=user.language) from None
        if problem.moment is not None:  # passed: say how it was read, as a deadline does
            raise Refused("meetings.when.passed", stay=True, when=problem.moment) from None
        raise Refused(f"meetings.when.{problem.reason}", stay=True) from None


async def _check_free(
    session: AsyncSession,
    *,
    meeting: Meeting,
    starts_at: datetime,
    minutes: int,
    now: datetime,
    stay: bool,
) -> None:
    """Refused when the slot is past or overlaps another meeting of the pair.

    `stay`: whether the person may correct it at the step they are at.
    """
    if starts_at <= now:
        raise Refused("meetings.when.in_past", stay=stay)
    others = await store.of_mentorship(
        session, mentorship_id=meeting.mentorship_id, states=store.LIVE_STATES
    )
    clash = rules.overlaps(
        rules.Slot(meeting.id, starts_at, minutes),
        [rules.Slot(m.id, m.starts_at, m.duration_minutes) for m in others],
    )
    if clash is not None:
        raise Refused("meetings.overlap", stay=stay, when=clash.starts_at)


async def draft(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime, kind: str = "regular"
) -> Meeting:
    """The adept's booking in progress (resumed if one exists), not yet seen by the mentor."""
    seen = await _bookable(session, mentorship_id=mentorship_id, user=user, kind=kind)
    if seen.me.role != Role.ADEPT:
        assert seen.partner is not None
        raise Refused("meetings.adept_books", name=display_name(seen.partner))
    for meeting in await store.of_mentorship(
        session, mentorship_id=mentorship_id, states=("draft",)
    ):
        if meeting.booked_by_id == user.id:
            if kind != "regular":  # asked for a closing meeting: the draft becomes one
                meeting.kind = kind
            user.focus_meeting_id = meeting.id
            await mentorships.save(session, meeting, user)
            return meeting
    contract = await contracts.in_force(session, mentorship_id=mentorship_id)
    assert user.id is not None
    intro_booked = seen.mentorship.state == MentorshipState.INTRO and any(
        m.kind == "intro"
        for m in await store.of_mentorship(
            session, mentorship_id=mentorship_id, states=store.LIVE_STATES
        )
    )
    meeting = await store.add(
        session,
        meeting=Meeting(
            mentorship_id=mentorship_id,
            # A closing meeting when asked for one; otherwise the first in the intro phase
            # is the intro meeting.
            kind=kind
            if kind != "regular"
            else booking_kind(seen.mentorship.state, intro_booked=intro_booked),
            starts_at=now,
            duration_minutes=(contract.meeting_minutes if contract else None)
            or rules.DEFAULT_MINUTES,
            state="draft",
            booked_by_id=user.id,
        ),
    )
    user.focus_meeting_id = meeting.id
    await mentorships.save(session, user)
    return meeting


async def _my_draft(session: AsyncSession, *, user: User, stay: bool) -> Meeting:
    meeting = (
        await store.get(session, meeting_id=user.focus_meeting_id)
        if user.focus_meeting_id
        else None
    )
    if meeting is None or meeting.state != "draft" or meeting.booked_by_id != user.id:
        raise Refused("meetings.no_draft", stay=stay)
    return meeting


async def set_time(
    session: AsyncSession, *, user: User, starts_at: datetime, now: datetime
) -> Meeting:
    """The booking's time; any refusal keeps the adept at the question (as for the length)."""
    meeting = await _my_draft(session, user=user, stay=True)
    await _check_free(
        session,
        meeting=meeting,
        starts_at=starts_at,
        minutes=meeting.duration_minutes,
        now=now,
        stay=True,
    )
    meeting.starts_at = starts_at
    await mentorships.save(session, meeting)
    return meeting


async def set_typed_time(session: AsyncSession, *, user: User, text: str, now: datetime) -> Meeting:
    """The booking's time as the adept typed it ("tis 14:00")."""
    return await set_time(session, user=user, starts_at=_typed_moment(user, text, now), now=now)


async def set_picked_time(
    session: AsyncSession, *, user: User, stamp: str, now: datetime
) -> Meeting:
    """The booking's time from a suggested-slot button (`YYYYmmddHHMM` in the adept's zone)."""
    try:
        starts_at = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=ZoneInfo(user.timezone))
    except ValueError:
        raise Refused("common.stale_button", stay=True) from None
    return await set_time(session, user=user, starts_at=starts_at, now=now)


async def set_length(session: AsyncSession, *, user: User, minutes: int, now: datetime) -> Meeting:
    meeting = await _my_draft(session, user=user, stay=True)
    if minutes not in rules.DURATIONS:
        raise Refused("common.stale_button", stay=True)
    await _check_free(
        session, meeting=meeting, starts_at=meeting.starts_at, minutes=minutes, now=now, stay=True
    )
    meeting.duration_minutes = minutes
    await mentorships.save(session, meeting)
    return meeting


async def book(
    session: AsyncSession, *, user: User, place: str | None, now: datetime
) -> MeetingView:
    """Send the adept's booking to the mentor to confirm.

    Only a place too long to keep can be corrected at the step; anything else
    (the draft gone, the slot taken meanwhile) ends the booking.
    """
    meeting = await _my_draft(session, user=user, stay=False)
    seen = await _bookable(
        session, mentorship_id=meeting.mentorship_id, user=user, kind=meeting.kind
    )
    await _check_free(
        session,
        meeting=meeting,
        starts_at=meeting.starts_at,
        minutes=meeting.duration_minutes,
        now=now,
        stay=False,
    )
    if place is not None and len(place.strip()) > rules.PLACE_MAX_CHARS:
        raise Refused("meetings.place_too_long", stay=True, limit=rules.PLACE_MAX_CHARS)
    adept, mentor = _people(seen, user)
    meeting.place = place.strip() if place and place.strip() else None
    meeting.state = "proposed"
    meeting.awaiting_id = mentor.id
    meeting.updated_at = now
    await mentorships.save(session, meeting)
    await _ask_to_confirm(session, meeting=meeting, recipient=mentor, now=now)
    return MeetingView(meeting, seen, adept, mentor)


async def _ask_to_confirm(
    session: AsyncSession, *, meeting: Meeting, recipient: User, now: datetime
) -> None:
    await notify.queue(
        session,
        recipient=recipient,
        kind="meeting_request",
        dedupe=f"meeting:{meeting.id}:request:{meeting.ics_sequence}:{now.isoformat()}",
        due_at=now,
        expires_at=meeting.starts_at,
        payload={"meeting_id": meeting.id, "sequence": meeting.ics_sequence},
        mentorship_id=meeting.mentorship_id,
        meeting_id=meeting.id,
    )


async def _plan(
    session: AsyncSession, *, found: MeetingView, offsets: list[timedelta], now: datetime
) -> None:
    meeting = found.meeting
    assert meeting.id is not None and found.adept.id and found.mentor.id
    for planned in rules.planned_messages(
        meeting_id=meeting.id,
        starts_at=meeting.starts_at,
        minutes=meeting.duration_minutes,
        adept_id=found.adept.id,
        mentor_id=found.mentor.id,
        reminder_offsets=offsets,
        now=now,
    ):
        recipient = found.adept if planned.recipient_id == found.adept.id else found.mentor
        await notify.queue(
            session,
            recipient=recipient,
            kind=planned.kind,
            dedupe=planned.key,
            due_at=planned.due_at,
            expires_at=planned.expires_at,
            payload={"meeting_id": meeting.id, "starts_at": meeting.starts_at.isoformat()},
            mentorship_id=meeting.mentorship_id,
            meeting_id=meeting.id,
        )


async def _send_invites(session: AsyncSession, *, found: MeetingView, now: datetime) -> None:
    meeting = found.meeting
    for person in (found.adept, found.mentor):
        await notify.queue(
            session,
            recipient=person,
            kind="meeting_invite",
            dedupe=f"meeting:{meeting.id}:ics:{meeting.ics_sequence}:{person.id}",
            due_at=now,
            payload={"meeting_id": meeting.id, "sequence": meeting.ics_sequence},
            mentorship_id=meeting.mentorship_id,
            meeting_id=meeting.id,
        )


async def confirm(
    session: AsyncSession,
    *,
    meeting_id: int,
    sequence: int,
    user: User,
    now: datetime,
    reminder_offsets: list[timedelta],
) -> MeetingView:
    found = await view(session, meeting_id=meeting_id, user=user)
    meeting = found.meeting
    if (
        meeting.state != "proposed"
        or meeting.awaiting_id != user.id
        or meeting.ics_sequence != sequence
    ):
        raise Refused("meetings.nothing_to_confirm")
    if not _may_book(found.pairing.mentorship.state, meeting.kind):
        raise Refused("meetings.not_active")
    await _check_free(
        session,
        meeting=meeting,
        starts_at=meeting.starts_at,
        minutes=meeting.duration_minutes,
        now=now,
        stay=False,
    )
    meeting.state = "confirmed"
    meeting.awaiting_id = None
    meeting.ics_sequence += 1
    meeting.updated_at = now
    await mentorships.save(session, meeting)
    await _plan(session, found=found, offsets=reminder_offsets, now=now)
    await _send_invites(session, found=found, now=now)
    return found


async def propose_time(
    session: AsyncSession, *, meeting_id: int, user: User, starts_at: datetime, now: datetime
) -> MeetingView:
    """Another time for a proposed meeting, or a move of a confirmed one; the partner confirms.

    A time that is past or taken can be corrected at the step; a meeting that
    can no longer be moved ends it.
    """
    found = await _movable_to(
        session, meeting_id=meeting_id, user=user, starts_at=starts_at, now=now
    )
    meeting = found.meeting
    await signals.mind_the_notice(session, meeting=meeting, user=user, now=now)
    await outbox.cancel(session, meeting_id=meeting.id, kinds=PLANNED_KINDS)
    partner = found.pairing.partner
    assert partner is not None
    meeting.starts_at = starts_at
    meeting.state = "proposed"
    meeting.awaiting_id = partner.id
    meeting.ics_sequence += 1
    meeting.updated_at = now
    await mentorships.save(session, meeting)
    await _ask_to_confirm(session, meeting=meeting, recipient=partner, now=now)
    return found


async def read_new_time(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> tuple[MeetingView, datetime]:
    """What a typed new time for the focused meeting means, checked as a proposal would be.

    Nothing is stored: the time is shown back in full, and only the person's
    "send" proposes it (`propose_stamped_time`).
    """
    starts_at = _typed_moment(user, text, now)
    found = await _movable_to(
        session, meeting_id=user.focus_meeting_id or 0, user=user, starts_at=starts_at, now=now
    )
    return found, starts_at


async def _movable_to(
    session: AsyncSession, *, meeting_id: int, user: User, starts_at: datetime, now: datetime
) -> MeetingView:
    """The meeting, if this person may give it `starts_at` now; a taken or past time can
    be corrected at the step, a meeting that can no longer move ends it."""
    found = await view(session, meeting_id=meeting_id, user=user)
    meeting = found.meeting
    if meeting.state not in store.LIVE_STATES:
        raise Refused("meetings.not_live")
    if meeting.state == "proposed" and meeting.awaiting_id != user.id:
        raise Refused("meetings.wait_for_answer")
    await _check_free(
        session,
        meeting=meeting,
        starts_at=starts_at,
        minutes=meeting.duration_minutes,
        now=now,
        stay=True,
    )
    return found


def time_stamp(moment: datetime) -> str:
    """A moment for a button's data: minutes in UTC, unambiguous across a clock change."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M")


async def propose_stamped_time(
    session: AsyncSession, *, meeting_id: int, user: User, stamp: str, now: datetime
) -> MeetingView:
    """The new time the person saw and chose to send (`time_stamp`); re-checked as it is sent."""
    try:
        starts_at = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
    except ValueError:
        # A forged button: the person may still type the time they meant.
        raise Refused("common.stale_button", stay=True) from None
    return await propose_time(
        session, meeting_id=meeting_id, user=user, starts_at=starts_at, now=now
    )


async def cancel(
    session: AsyncSession, *, meeting_id: int, user: User, now: datetime
) -> MeetingView:
    found = await view(session, meeting_id=meeting_id, user=user)
    meeting = found.meeting
    if meeting.state not in store.LIVE_STATES:
        raise Refused("meetings.not_live")
    was_confirmed = meeting.state == "confirmed"
    await signals.mind_the_notice(session, meeting=meeting, user=user, now=now)
    await outbox.cancel(session, meeting_id=meeting.id, kinds=PLANNED_KINDS)
    meeting.state = "cancelled"
    meeting.awaiting_id = None
    meeting.ics_sequence += 1
    meeting.updated_at = now
    await mentorships.save(session, meeting)
    partner = found.pairing.partner
    assert partner is not None
    await notify.queue(
        session,
        recipient=partner,
        kind="meeting_cancelled",
        dedupe=f"meeting:{meeting.id}:cancelled:{partner.id}",
        due_at=now,
        payload={"meeting_id": meeting.id, "by": user.id},
        mentorship_id=meeting.mentorship_id,
        meeting_id=meeting.id,
    )
    if was_confirmed:
        await _send_invites(session, found=found, now=now)
    return found


async def draft_closing(
    session: AsyncSession, *, mentorship_id: int, user: User, now: datetime
) -> Meeting:
    """The adept books the closing meeting: also while closing and after an early end."""
    return await draft(
        session, mentorship_id=mentorship_id, user=user, now=now, kind=closing_rules.CLOSING_MEETING
    )


async def cancel_ahead(session: AsyncSession, *, seen: Pairing, user: User, now: datetime) -> int:
    """Every meeting still ahead is cancelled, and both get a calendar cancellation
    (`METHOD:CANCEL`, the sequence bumped) so it leaves their calendars; after an early end."""
    assert seen.mentorship.id is not None
    adept, mentor = _people(seen, user)
    cancelled = 0
    for meeting in await store.of_mentorship(
        session, mentorship_id=seen.mentorship.id, states=store.LIVE_STATES
    ):
        if meeting.starts_at <= now:
            continue
        was_confirmed = meeting.state == "confirmed"
        await outbox.cancel(session, meeting_id=meeting.id, kinds=PLANNED_KINDS)
        meeting.state = "cancelled"
        meeting.awaiting_id = None
        meeting.ics_sequence += 1
        meeting.updated_at = now
        await mentorships.save(session, meeting)
        if was_confirmed:  # only a confirmed meeting had a calendar entry to withdraw
            await _send_invites(session, found=MeetingView(meeting, seen, adept, mentor), now=now)
        cancelled += 1
    return cancelled


async def focus(session: AsyncSession, *, meeting_id: int, user: User) -> MeetingView:
    """Make `meeting_id` the one this person's next typed answer is about."""
    found = await view(session, meeting_id=meeting_id, user=user)
    user.focus_meeting_id = meeting_id
    await mentorships.save(session, user)
    return found


async def focused(session: AsyncSession, *, user: User) -> MeetingView:
    if user.focus_meeting_id is None:
        raise Refused("common.stale_button")
    return await view(session, meeting_id=user.focus_meeting_id, user=user)


@dataclass(frozen=True, slots=True)
class AgendaStart:
    """What the agenda already holds before the adept adds today's topics."""

    found: MeetingView
    follow_up: list[str]

    @property
    def intro(self) -> bool:
        return self.found.meeting.kind == "intro"


async def start_agenda(session: AsyncSession, *, meeting_id: int, user: User) -> AgendaStart:
    """The adept writes the agenda of a meeting still ahead; the follow-up of what was
    agreed last time is on it already, so the adept adds only today's topics."""
    found = await focus(session, meeting_id=meeting_id, user=user)
    if found.pairing.me.role != Role.ADEPT:
        raise Refused("meetings.agenda_adept_only")
    follow_up = await agreed_tasks(
        session,
        mentorship_id=found.meeting.mentorship_id,
        before=found.meeting.starts_at,
        viewer_id=user.id,
    )
    return AgendaStart(found, follow_up)


async def save_agenda(
    session: AsyncSession, *, meeting_id: int, user: User, text: str, now: datetime
) -> MeetingView:
    found = await view(session, meeting_id=meeting_id, user=user)
    meeting = found.meeting
    if found.pairing.me.role != Role.ADEPT:
        raise Refused("meetings.agenda_adept_only")
    if meeting.state not in store.LIVE_STATES or meeting.starts_at <= now:
        raise Refused("meetings.agenda_too_late")
    cleaned = text.strip()
    if len(cleaned) < 2:
        raise Refused("meetings.agenda_empty", stay=True)
    if len(cleaned) > AGENDA_MAX_CHARS:
        raise Refused("meetings.too_long", stay=True, limit=AGENDA_MAX_CHARS, length=len(cleaned))
    assert meeting.id is not None and user.id is not None
    position = len(await store.agenda(session, meeting_id=meeting.id))
    item = await store.add_agenda_item(
        session,
        item=AgendaItem(
            meeting_id=meeting.id,
            author_id=user.id,
            position=position,
            text=cleaned,
            created_at=now,
        ),
    )
    await notify.queue(
        session,
        recipient=found.mentor,
        kind="agenda_to_mentor",
        dedupe=f"agenda:{item.id}",
        due_at=now,
        payload={"meeting_id": meeting.id, "item_id": item.id},
        mentorship_id=meeting.mentorship_id,
        meeting_id=meeting.id,
    )
    return found


async def _evaluation(
    session: AsyncSession, *, meeting_id: int, user: User, now: datetime, stay: bool
) -> MeetingEvaluation:
    found = await view(session, meeting_id=meeting_id, user=user, stay=stay)
    if found.meeting.state != "confirmed" or found.meeting.starts_at > now:
        raise Refused("meetings.evaluate_after", stay=stay)
    assert user.id is not None
    existing = await store.evaluation_of(session, meeting_id=meeting_id, user_id=user.id)
    if existing is not None:
        return existing
    evaluation = MeetingEvaluation(meeting_id=meeting_id, user_id=user.id, created_at=now)
    await mentorships.save(session, evaluation)
    return evaluation


async def start_evaluation(
    session: AsyncSession, *, meeting_id: int, user: User, now: datetime
) -> MeetingEvaluation:
    evaluation = await _evaluation(session, meeting_id=meeting_id, user=user, now=now, stay=False)
    user.focus_meeting_id = meeting_id
    await mentorships.save(session, user)
    return evaluation


async def answer_evaluation(
    session: AsyncSession, *, user: User, field: str, value: str, now: datetime
) -> MeetingEvaluation:
    """Store one answer of the evaluation of the focused meeting.

    The person stays at the question after any refusal except a meeting that is
    gone (or a button that no longer applies), which ends the evaluation.
    """
    if user.focus_meeting_id is None:
        raise Refused("common.stale_button")
    evaluation = await _evaluation(
        session, meeting_id=user.focus_meeting_id, user=user, now=now, stay=True
    )
    if field == "rating":
        if value.strip() not in {"1", "2", "3", "4", "5"}:
            raise Refused("meetings.rating_buttons", stay=True)
        evaluation.rating = int(value)
    elif field in ("useful", "next_steps"):
        cleaned = value.strip()
        if not cleaned:
            raise Refused("common.text_please", stay=True)
        if len(cleaned) > ANSWER_MAX_CHARS:
            raise Refused(
                "meetings.too_long", stay=True, limit=ANSWER_MAX_CHARS, length=len(cleaned)
            )
        setattr(evaluation, field, cleaned)
    else:
        raise Refused("common.stale_button")
    await mentorships.save(session, evaluation)
    return evaluation


# -- the joint close-out: sharing it, and the mentor's private reflection ---------------------

REFLECTION_MAX_CHARS = 4000


@dataclass(frozen=True, slots=True)
class CloseOut:
    evaluation: MeetingEvaluation
    found: MeetingView

    @property
    def partner(self) -> User:
        partner = self.found.pairing.partner
        assert partner is not None
        return partner

    @property
    def mentor(self) -> bool:
        return self.found.pairing.me.role == Role.MENTOR


async def _my_closeout(session: AsyncSession, *, user: User, now: datetime) -> CloseOut:
    """The close-out of the focused meeting, once its questions are answered."""
    if user.focus_meeting_id is None:
        raise Refused("common.stale_button")
    found = await view(session, meeting_id=user.focus_meeting_id, user=user)
    assert user.id is not None
    evaluation = await store.evaluation_of(
        session, meeting_id=user.focus_meeting_id, user_id=user.id
    )
    if evaluation is None or evaluation.rating is None:
        raise Refused("common.stale_button")
    return CloseOut(evaluation, found)


async def share_closeout(
    session: AsyncSession, *, user: User, share: bool, now: datetime
) -> CloseOut:
    """Whether the other sees this close-out; the choice is made once. Shared, it reaches
    the other now and its next steps join the follow-up on the other's next agenda."""
    closeout = await _my_closeout(session, user=user, now=now)
    evaluation = closeout.evaluation
    if evaluation.shared is not None:
        raise Refused("meetings.closeout.already_chosen")
    evaluation.shared = share
    await mentorships.save(session, evaluation)
    if share:
        meeting = closeout.found.meeting
        await notify.tell(
            session,
            recipient=closeout.partner,
            key=N_("meetings.closeout.partner_shared"),
            values={
                "name": notify.name_of(user),
                "useful": notify.text_of(MeetingEvaluation, evaluation.id, "useful"),
                "next_steps": notify.text_of(MeetingEvaluation, evaluation.id, "next_steps"),
            },
            dedupe=f"closeout:{evaluation.id}:shared",
            now=now,
            mentorship_id=meeting.mentorship_id,
            meeting_id=meeting.id,
        )
    return closeout


async def save_reflection(
    session: AsyncSession, *, user: User, text: str, now: datetime
) -> DiaryEntry:
    """The mentor's own reflection after a meeting: a private diary entry of the meeting,
    readable by the mentor only."""
    closeout = await _my_closeout(session, user=user, now=now)
    if not closeout.mentor:
        raise Refused("common.stale_button")
    cleaned = text.strip()
    if len(cleaned) < 2:
        raise Refused("common.text_please", stay=True)
    if len(cleaned) > REFLECTION_MAX_CHARS:
        raise Refused(
            "meetings.too_long", stay=True, limit=REFLECTION_MAX_CHARS, length=len(cleaned)
        )
    assert user.id is not None
    entry = DiaryEntry(
        author_id=user.id,
        mentorship_id=closeout.found.meeting.mentorship_id,
        meeting_id=closeout.found.meeting.id,
        visibility=Visibility.PRIVATE,
        text=cleaned,
        created_at=now,
    )
    await mentorships.save(session, entry)
    return entry


async def agreed_tasks(
    session: AsyncSession, *, mentorship_id: int, before: datetime, viewer_id: int | None
) -> list[str]:
    """What was agreed at the last meeting before `before`, as `viewer_id` may see it: their
    own close-out's next steps and the other's when shared (the next agenda's follow-up)."""
    last = await store.last_held(session, mentorship_id=mentorship_id, now=before, before=before)
    if last is None or last.id is None:
        return []
    return [
        e.next_steps
        for e in await store.evaluations(session, meeting_id=last.id)
        if e.next_steps and (e.user_id == viewer_id or e.shared)
    ]


async def shared_notes_of_last(
    session: AsyncSession, *, mentorship_id: int, before: datetime
) -> list[str]:
    """Diary entries either of the pair shared about the last meeting before `before`."""
    last = await store.last_held(session, mentorship_id=mentorship_id, now=before, before=before)
    if last is None:
        return []
    rows = await session.exec(
        select(DiaryEntry)
        .where(DiaryEntry.meeting_id == last.id, DiaryEntry.visibility == Visibility.SHARED)
        .order_by(col(DiaryEntry.created_at))
    )
    return [entry.text for entry in rows]


@dataclass(frozen=True, slots=True)
class Budget:
    hours: float
    budget: int | None


@dataclass(frozen=True, slots=True)
class Overview:
    upcoming: list[Meeting]
    budget: Budget


async def overview(
    session: AsyncSession, *, mentorship_id: int, zone: ZoneInfo, now: datetime
) -> Overview:
    """/meetings: what is coming, and the hours met this month against the contract's budget.

    The caller has chosen the mentorship for this person (`choose.mentorship`).
    One read of the pair's live meetings serves both.
    """
    live = await store.of_mentorship(session, mentorship_id=mentorship_id, states=store.LIVE_STATES)
    hours = rules.hours_in_month(
        [rules.Slot(m.id, m.starts_at, m.duration_minutes) for m in live if m.state == "confirmed"],
        month_of=now.astimezone(zone).date(),
        zone=zone,
    )
    contract = await contracts.in_force(session, mentorship_id=mentorship_id)
    budget = Budget(hours, contract.time_budget_hours if contract else None)
    return Overview([m for m in live if m.starts_at > now], budget)


async def plan_nudges(session: AsyncSession, *, now: datetime, batch: int = planning.BATCH) -> int:
    """Queue a nudge to book for every active pair that has drifted; returns how many
    messages were queued. Safe to run any number of times, and from two processes at once.

    A pair is nudged when nothing is booked and its last meeting (or its start) lies
    further back than its rhythm plus a week; again a week after each nudge, three
    times, and then both are told the reminders stop. The count starts afresh after
    the next meeting held. The pairs are read `batch` at a time, each batch in a
    handful of statements and committed on its own (the job owns this session).
    Each nudge's key names its anchor and number, so a second planner's copy is
    dropped as a duplicate.
    """
    queued = 0
    async for pairs in planning.walk(session, states=[MentorshipState.ACTIVE], size=batch):
        busy = await planning.with_upcoming(
            session, mentorship_ids=[p.id for p in pairs], states=store.LIVE_STATES, now=now
        )
        idle = [p for p in pairs if p.id not in busy]
        if not idle:
            await session.commit()
            continue
        idle_ids = [p.id for p in idle]
        held = await planning.last_held(session, mentorship_ids=idle_ids, now=now)
        rhythm = await planning.cadences(session, mentorship_ids=idle_ids)
        drifting = [
            p
            for p in idle
            if rules.nudge_due(
                last_meeting_end=_end_of(held.get(p.id)),
                active_since=p.started_at or p.created_at,
                has_upcoming=False,
                cadence=rhythm.get(p.id),
                now=now,
            )
        ]
        if drifting:
            queued += await _nudge(session, pairs=drifting, held=held, now=now)
        await session.commit()
    return queued


def _end_of(held: planning.Held | None) -> datetime | None:
    return held.starts_at + timedelta(minutes=held.minutes) if held is not None else None


async def _nudge(
    session: AsyncSession,
    *,
    pairs: list[planning.Pair],
    held: dict[int, planning.Held],
    now: datetime,
) -> int:
    """The next nudge (or the word that they stop) for pairs found drifting."""
    ids = [p.id for p in pairs]
    earlier = await planning.counted(session, mentorship_ids=ids, kind=NUDGE_KIND)
    people: dict[int, dict[str, planning.Member]] = {}
    for member in await planning.members(session, mentorship_ids=ids):
        people.setdefault(member.mentorship_id, {})[member.role] = member
    rows: list[outbox.Queued] = []
    stopping: list[tuple[int, int | None, str, planning.Member, planning.Member]] = []
    for pair in pairs:
        last = held.get(pair.id)
        anchor_id = last.meeting_id if last is not None else None
        anchor = f"nudge:{pair.id}:{anchor_id if anchor_id is not None else 'start'}:"
        sent = earlier.get((pair.id, anchor_id))
        if sent is not None and now - sent.last_due < rules.NUDGE_GRACE:
            continue
        roles = people.get(pair.id, {})
        adept, mentor = roles.get(Role.ADEPT), roles.get(Role.MENTOR)
        if adept is None or mentor is None:
            continue
        number = (sent.count if sent is not None else 0) + 1
        if number > rules.MAX_NUDGES:
            stopping.append((pair.id, anchor_id, anchor, adept, mentor))
        elif not adept.erased:  # as in notify.queue: nothing reaches someone who erased their data
            rows.append(
                outbox.Queued(
                    key=f"{anchor}{number}",
                    recipient_id=adept.user_id,
                    kind=NUDGE_KIND,
                    due_at=now,
                    payload={"mentorship_id": pair.id, "number": number},
                    mentorship_id=pair.id,
                    meeting_id=anchor_id,
                )
            )
    if stopping:
        # Exact keys, so the unique index answers: told once, for both or neither.
        told = await planning.existing_keys(
            session,
            keys=[
                f"{a}stop:{p.user_id}"
                for _, _, a, adept, mentor in stopping
                for p in (adept, mentor)
            ],
        )
        for mentorship_id, anchor_id, anchor, adept, mentor in stopping:
            if told & {f"{anchor}stop:{adept.user_id}", f"{anchor}stop:{mentor.user_id}"}:
                continue
            for person, other in ((adept, mentor), (mentor, adept)):
                if person.erased:
                    continue
                rows.append(
                    outbox.Queued(
                        key=f"{anchor}stop:{person.user_id}",
                        recipient_id=person.user_id,
                        kind="message",
                        due_at=now,
                        payload=notify.message_payload(
                            N_("meetings.nudges_stopped"), {"name": notify.NameOf(other.user_id)}
                        ),
                        mentorship_id=mentorship_id,
                        meeting_id=anchor_id,
                    )
                )
    return await outbox.enqueue_many(session, rows)
