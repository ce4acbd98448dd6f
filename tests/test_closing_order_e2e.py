"""Issue 13: ending early in the handbook's order (talking first, cancellations for the
calendars, a closing meeting, feedback after it, the look-back), and the closing defects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import icalendar
import pytest
from sqlmodel import select

from bot import lookback
from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.usecases.closing import plan_closing
from storage.db import Database
from storage.models import (
    ClosingFeedback,
    Goal,
    GoalRevision,
    Meeting,
    MeetingEvaluation,
    Mentorship,
)
from tests.factories import active_pair
from tests.harness import Person
from tests.test_meetings_e2e import STOCKHOLM, book, in_days, travel_to

People = Callable[..., Person]

TEXTS = {
    "en": {
        "talked?": "have you talked with Sam",
        "not yet": "Not yet",
        "talk first": "try talking to Sam first",
        "end anyway": "End anyway",
        "reasons": "What is the main reason",
        "reason": "We're not a good fit",
        "sure?": "Do you want to end the mentorship with Sam now",
        "yes end": "Yes, end it",
        "ended": "has ended",
        "told": "Maria has chosen to end",
        "place": "📹 Video call",
        "request": "proposes a meeting",
        "confirm": "Confirm ✅",
        "cancelled": "Cancelled: meeting with",
        "confirmed": "Meeting confirmed",
        "book closing": "📅 Book the closing meeting",
        "when?": "Book a meeting",
        "where?": "Where?",
        "asked": "Thank you for the closing meeting",
        "feedback": "📝 Give closing feedback",
        "valuable": "most valuable",
        "better": "could have been better",
        "rating": "rate the whole mentorship",
        "touch": "stay in touch",
        "share": "Last question",
        "yes": "Yes",
        "no": "No",
        "done": "Your closing feedback is complete",
        "lookback": "Looking back on your mentorship with",
        "held": "Meetings held: 1 ",
    },
    "sv": {
        "talked?": "har du pratat med Sam",
        "not yet": "Inte än",
        "talk first": "prata med Sam först",
        "end anyway": "Avsluta ändå",
        "reasons": "Vad är det främsta skälet",
        "reason": "Vi passar inte ihop",
        "sure?": "Vill du avsluta mentorskapet med Sam nu",
        "yes end": "Ja, avsluta",
        "ended": "är avslutat",
        "told": "Maria har valt att avsluta",
        "place": "📹 Videosamtal",
        "request": "föreslår ett möte",
        "confirm": "Bekräfta ✅",
        "cancelled": "Inställt: möte med",
        "confirmed": "Möte bekräftat",
        "book closing": "📅 Boka avslutningsmötet",
        "when?": "Boka ett möte",
        "where?": "Var?",
        "asked": "Tack för avslutningsmötet",
        "feedback": "📝 Ge avslutande återkoppling",
        "valuable": "mest värdefulla",
        "better": "kunnat bli bättre",
        "rating": "betygsätta hela mentorskapet",
        "touch": "hålla kontakten",
        "share": "Sista frågan",
        "yes": "Ja",
        "no": "Nej",
        "done": "Din avslutande återkoppling är klar",
        "lookback": "Tillbakablick på ditt mentorskap med",
        "held": "Genomförda möten: 1 ",
    },
}


async def _feedback(person: Person, said: dict[str, str], *, share: bool) -> None:
    await person.expect(said["valuable"])
    await person.send("Samtalen")
    await person.expect(said["better"])
    await person.send("Mer tid")
    await person.expect(said["rating"])
    await person.send("4")
    await person.expect(said["touch"])
    await person.press(said["yes"])
    await person.expect(said["share"])
    await person.press(said["yes"] if share else said["no"])


@pytest.mark.parametrize("language", ["en", "sv"])
async def test_an_early_end_talks_first_cancels_the_meetings_and_still_has_a_closing_meeting(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication, language: str
) -> None:
    said = TEXTS[language]
    sam, maria = people("Sam", language), people("Maria", language)
    pair = await active_pair(db, clock, sam, maria)
    booked_at = in_days(clock, 5, 14)
    await book(sam, maria, booked_at, said["place"])
    request = await maria.expect(said["request"])
    await maria.press(said["confirm"], message_id=request.message_id)
    await sam.expect(said["confirmed"])
    await maria.expect(said["confirmed"])

    # The mentor ends: first the talk step; not talked yet, they are pointed to it and
    # to /support, and may still end.
    assert said["talked?"] in (await maria.ask("/end")).text
    await maria.press(said["not yet"])
    talk = await maria.expect(said["talk first"])
    assert "/support" in talk.text
    await maria.press(said["end anyway"])
    await maria.expect(said["reasons"])
    await maria.press(said["reason"])
    await maria.expect(said["sure?"])
    sam.mark_read()
    maria.mark_read()
    await maria.press(said["yes end"])
    await maria.expect(said["ended"])
    notice = await sam.expect(said["told"])
    assert "/support" in notice.text and said["reason"] not in notice.text

    # The booked meeting leaves both calendars: METHOD:CANCEL, the same UID, a higher SEQUENCE.
    for person in (sam, maria):
        cancelled = await person.expect(said["cancelled"])
        assert cancelled.document is not None
        calendar = icalendar.Calendar.from_ical(cancelled.document.data)
        assert calendar["METHOD"] == "CANCEL"
        event = calendar.walk("VEVENT")[0]
        assert event["STATUS"] == "CANCELLED" and int(event["SEQUENCE"]) == 2
        assert event.decoded("dtstart") == booked_at
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        assert meeting.state == "cancelled"
        ended = await session.get(Mentorship, pair.mentorship_id)
        assert ended is not None and ended.state == "ended_early"

    # The adept books the closing meeting from the notice; the mentor confirms it.
    closing_at = in_days(clock, 3, 9)
    await sam.press(said["book closing"], message_id=notice.message_id)
    await sam.expect(said["when?"])
    await sam.send(closing_at.strftime("%Y-%m-%d %H:%M"))
    await sam.expect("min")
    await sam.press("60 min")
    await sam.expect(said["where?"])
    maria.mark_read()
    await sam.press(said["place"])
    request = await maria.expect(said["request"])
    await maria.press(said["confirm"], message_id=request.message_id)
    await sam.expect(said["confirmed"])

    # Nothing wraps up while the closing meeting is ahead, however long.
    await travel_to(clock, bot_app, closing_at - timedelta(hours=2))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
    # After it: both asked for written feedback; once both gave it, the look-back.
    sam.mark_read()
    maria.mark_read()
    await travel_to(clock, bot_app, closing_at + timedelta(minutes=70))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
        still = await session.get(Mentorship, pair.mentorship_id)
        assert still is not None and still.lookback_sent_at is None
    await travel_to(clock, bot_app, clock.now())
    for person, share in ((sam, True), (maria, False)):
        asked = await person.expect(said["asked"])
        await person.press(said["feedback"], message_id=asked.message_id)
        await _feedback(person, said, share=share)
        await person.expect(said["done"])
    for person in (sam, maria):
        summary = await person.expect(said["lookback"], timeout=20)
        assert said["held"] in summary.text, summary.text


async def test_the_second_to_finish_after_closing_closed_by_itself_is_thanked(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    """Defect: the second person finishing after the mentorship had closed was told
    "Closing feedback opens when..." instead of the confirmation."""
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    said = TEXTS["en"]
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await sam.press(said["feedback"])
    await _feedback(sam, said, share=True)
    await sam.expect(said["done"])
    await maria.ask("/close")
    await maria.press(said["feedback"])
    await maria.expect(said["valuable"])
    await maria.send("The talks")
    await maria.expect(said["better"])

    # Two weeks on, the mentorship closes by itself while Maria is still answering.
    await travel_to(clock, bot_app, clock.now() + timedelta(days=15))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
        closed = await session.get(Mentorship, pair.mentorship_id)
        assert closed is not None and closed.state == "closed"
    await travel_to(clock, bot_app, clock.now())
    await maria.send("More time")
    await maria.expect(said["rating"])
    await maria.press("5")
    await maria.expect(said["touch"])
    await maria.press("No")
    await maria.expect(said["share"])
    await maria.press("Yes")
    await maria.expect(said["done"])
    assert not [m for m in maria.messages if "Closing feedback opens" in m.text]
    shared = await sam.expect("Closing feedback from Maria")
    assert "The talks" in shared.text
    async with db.session() as session:
        feedback = (
            await session.exec(
                select(ClosingFeedback).where(ClosingFeedback.user_id == pair.mentor.id)
            )
        ).one()
    assert feedback.submitted_at is not None and feedback.rating == 5


async def test_the_look_back_counts_evaluated_meetings_and_reads_a_reached_goal_as_reached(
    people: People, db: Database, clock: TravellingClock
) -> None:
    """Defect: a meeting never evaluated counted as held, and a goal marked reached at
    closing read "0 % · achieved"."""
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    now = clock.now()
    async with db.session() as session:
        held, skipped = (
            Meeting(
                mentorship_id=pair.mentorship_id,
                starts_at=now - timedelta(days=days),
                duration_minutes=90,
                state="confirmed",
                booked_by_id=pair.adept.id or 0,
            )
            for days in (20, 10)
        )
        session.add_all([held, skipped])
        goal = Goal(
            mentorship_id=pair.mentorship_id,
            owner_id=pair.adept.id or 0,
            state="accepted",
            current_version=1,
            progress_percent=0,
        )
        session.add(goal)
        await session.flush()
        session.add(
            MeetingEvaluation(meeting_id=held.id or 0, user_id=pair.adept.id or 0, rating=4)
        )
        # Started but left empty: no evaluation yet.
        session.add(MeetingEvaluation(meeting_id=skipped.id or 0, user_id=pair.mentor.id or 0))
        session.add(
            GoalRevision(
                goal_id=goal.id or 0, version=1, specific="Ship it", author_id=pair.adept.id or 0
            )
        )
        session.add(
            ClosingFeedback(
                mentorship_id=pair.mentorship_id,
                user_id=pair.adept.id or 0,
                goal_outcomes={str(goal.id): "reached"},
            )
        )
    async with db.session() as session:
        summary = await lookback.gather(
            session, mentorship_id=pair.mentorship_id, user=pair.adept, now=clock.now()
        )
    assert summary is not None
    assert (summary.meetings_held, summary.hours) == (1, 1.5)
    text = lookback.message(summary, "en")
    assert "Ship it – 100 % · Reached" in text, text


async def test_feedback_given_before_the_closing_meeting_keeps_its_reminders(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    """Both submitting feedback used to close at once and cancel the closing meeting's
    reminders; now closing waits for the meeting, then the look-back follows."""
    said = TEXTS["en"]
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    step = await sam.expect("book the closing meeting")
    closing_at = in_days(clock, 4, 10)
    await sam.press(said["book closing"], message_id=step.message_id)
    await sam.expect(said["when?"])
    await sam.send(closing_at.strftime("%Y-%m-%d %H:%M"))
    await sam.expect("min")
    await sam.press("60 min")
    await sam.expect(said["where?"])
    await sam.press(said["place"])
    request = await maria.expect(said["request"])
    await maria.press(said["confirm"], message_id=request.message_id)
    await sam.expect(said["confirmed"])

    for person in (sam, maria):
        await person.ask("/close")
        await person.press(said["feedback"])
        await _feedback(person, said, share=False)
        await person.expect(said["done"])
    async with db.session() as session:
        still = await session.get(Mentorship, pair.mentorship_id)
        assert still is not None and still.state == "closing"

    sam.mark_read()
    await travel_to(clock, bot_app, closing_at - timedelta(hours=24))
    await sam.expect("Tomorrow: your meeting with Maria")
    await travel_to(clock, bot_app, closing_at + timedelta(minutes=61))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
        closed = await session.get(Mentorship, pair.mentorship_id)
        assert closed is not None and closed.state == "closed"
    await travel_to(clock, bot_app, clock.now())
    await sam.expect(said["lookback"], timeout=20)
    # Already answered: no second request for feedback after the meeting.
    assert not [m for m in sam.messages if said["asked"] in m.text]
