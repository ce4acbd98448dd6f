"""Which refused answers keep a person at a meeting step and which end the flow.

The use cases decide this (`Refused(..., stay=True)`): a typed answer that can be
corrected is asked again; an answer about something that is gone ends the flow,
so the next message is not taken as an answer to a question no longer asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from storage.db import Database
from storage.models import AgendaItem, Meeting, MeetingEvaluation
from tests.factories import active_pair
from tests.harness import Person
from tests.test_meetings_e2e import book, in_days, travel_to

People = Callable[..., Person]
STRAY = "not sure what to do with that message"


async def confirmed_meeting(
    adept: Person, mentor: Person, clock: TravellingClock, days: int
) -> None:
    start = in_days(clock, days, 10)
    await book(adept, mentor, start, "📹 Video call")
    request = await mentor.expect(f"{adept.first_name} proposes a meeting")
    await mentor.press("Confirm ✅", message_id=request.message_id)
    await adept.expect("Meeting confirmed")


async def test_a_past_time_and_a_too_long_place_are_asked_again_while_booking(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    await ada.ask("/book")
    assert "already passed" in (await ada.ask("2020-01-01 10:00")).text
    assert "How long" in (await ada.ask(in_days(clock, 3, 15).strftime("%Y-%m-%d %H:%M"))).text
    await ada.press("60 min")
    await ada.expect("Where?")
    assert "under 300 characters" in (await ada.ask("Room " * 70)).text
    assert "Sent to Max to confirm" in (await ada.ask("Café Linnea")).text
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
    assert (meeting.state, meeting.place) == ("proposed", "Café Linnea")


async def test_a_booking_whose_slot_was_taken_meanwhile_ends_at_the_place_question(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    await confirmed_meeting(ada, max_, clock, 3)
    wanted = in_days(clock, 5, 15)
    await ada.ask("/book")
    await ada.ask(wanted.strftime("%Y-%m-%d %H:%M"))
    await ada.press("60 min")
    await ada.expect("Where?")
    async with db.session() as session:  # the confirmed meeting is moved onto that slot meanwhile
        taken = (await session.exec(select(Meeting).where(Meeting.state == "confirmed"))).one()
        taken.starts_at = wanted
        session.add(taken)

    assert "overlaps" in (await ada.ask("Café Linnea")).text
    assert STRAY in (await ada.ask("Café Linnea")).text, "the booking has ended"
    async with db.session() as session:
        states = sorted(m.state for m in (await session.exec(select(Meeting))).all())
    assert states == ["confirmed", "draft"]


async def test_a_new_time_that_is_past_or_taken_is_asked_again(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    await confirmed_meeting(ada, max_, clock, 3)
    await book(ada, max_, in_days(clock, 6, 10), "Decide later")
    request = await max_.expect("Ada proposes a meeting")
    await max_.press("Propose another time", message_id=request.message_id)
    await max_.expect("Which time would suit you instead")
    assert "already passed" in (await max_.ask("2020-01-01 10:00")).text
    taken = in_days(clock, 3, 10, 30).strftime("%Y-%m-%d %H:%M")
    assert "overlaps" in (await max_.ask(taken)).text
    free = in_days(clock, 7, 13)
    read = await max_.ask(free.strftime("%Y-%m-%d %H:%M"))
    # Shown back in full before anything is proposed (issue 14).
    assert "Got it" in read.text and free.strftime("%-d %B %Y, 13:00") in read.text
    async with db.session() as session:
        assert [m.starts_at for m in (await session.exec(select(Meeting))).all()].count(
            free
        ) == 0, "nothing is stored before send"
    await max_.press("📨 Send to Ada", message_id=read.message_id)
    await max_.expect("I've asked Ada")


async def test_a_new_time_for_a_meeting_cancelled_meanwhile_ends_the_move(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    await book(ada, max_, in_days(clock, 6, 10), "Decide later")
    request = await max_.expect("Ada proposes a meeting")
    await max_.press("Propose another time", message_id=request.message_id)
    await max_.expect("Which time would suit you instead")
    overview = await ada.ask("/meetings")
    cancel = next(text for row in overview.buttons for text, _ in row if text.startswith("✖"))
    await ada.press(cancel)
    await ada.expect("is cancelled")

    later = in_days(clock, 7, 13).strftime("%Y-%m-%d %H:%M")
    assert "already been cancelled" in (await max_.ask(later)).text
    assert STRAY in (await max_.ask(later)).text, "the move has ended"


async def test_an_agenda_too_short_or_an_evaluation_answer_too_long_is_asked_again(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    start = in_days(clock, 5, 10)
    await confirmed_meeting(ada, max_, clock, 5)
    await travel_to(clock, bot_app, start - timedelta(hours=47))
    prompt = await ada.expect("What would you like to discuss")
    await ada.press("✍️ Write the agenda", message_id=prompt.message_id)
    await ada.expect("What would you like to talk about")
    assert "at least a word or two" in (await ada.ask("x")).text
    assert "Max has your agenda" in (await ada.ask("Salary talks")).text

    await travel_to(clock, bot_app, start + timedelta(minutes=61))
    evaluation = await ada.expect("How did your meeting with Max go")
    await ada.press("Look back on the meeting", message_id=evaluation.message_id)
    await ada.expect("1/3")
    assert "please keep it under 4000" in (await ada.ask("y" * 4001)).text
    assert "2/3" in (await ada.ask("Naming what I want")).text
    assert "3/3" in (await ada.ask("Prepare the talk")).text
    assert "buttons" in (await ada.ask("five")).text
    await ada.press("5")
    # The close-out asks whether to share it before the thanks (issue 13).
    await ada.expect("see what you wrote")
    await ada.press("🔒 Keep it to myself")
    await ada.expect("private diary")
    async with db.session() as session:
        assert (await session.exec(select(AgendaItem))).one().text == "Salary talks"
        answers = (await session.exec(select(MeetingEvaluation))).one()
    assert (answers.useful, answers.rating) == ("Naming what I want", 5)


async def test_a_new_time_is_sent_only_as_shown_and_a_stale_or_forged_send_changes_nothing(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ada, max_ = people("Ada", "en"), people("Max", "en")
    await active_pair(db, clock, ada, max_)
    await book(ada, max_, in_days(clock, 6, 10), "Decide later")
    request = await max_.expect("Ada proposes a meeting")
    await max_.press("Propose another time", message_id=request.message_id)
    await max_.expect("Which time would suit you instead")
    read = await max_.ask(in_days(clock, 7, 13).strftime("%Y-%m-%d %H:%M"))
    assert "Got it" in read.text
    [[(_label, data)]] = read.buttons
    meeting_id = data.split(":")[2]
    # A forged moment is refused; the meeting keeps its time.
    await max_.press_data(read.message_id, f"m:nt:{meeting_id}:999999999999")
    await max_.expect("no longer applies")
    async with db.session() as session:
        (meeting,) = (await session.exec(select(Meeting))).all()
    assert meeting.starts_at == in_days(clock, 6, 10)
    # Cancelled meanwhile: the shown time's send button changes nothing.
    overview = await ada.ask("/meetings")
    cancel = next(text for row in overview.buttons for text, _ in row if text.startswith("✖"))
    await ada.press(cancel)
    await ada.expect("is cancelled")
    await max_.press_data(read.message_id, data)
    await max_.expect("already been cancelled")
    async with db.session() as session:
        (meeting,) = (await session.exec(select(Meeting))).all()
    assert (meeting.state, meeting.starts_at) == ("cancelled", in_days(clock, 6, 10))
