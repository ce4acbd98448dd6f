"""The intro meeting as a meeting (issue 13): booked as soon as the pair exists, with
reminders, a calendar invitation and the intro agenda; the decision to continue comes
after it was held; "not continue" is confirmed and both may leave a few words."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import icalendar
from sqlmodel import select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.domain.question_bank import BANK
from storage.db import Database
from storage.models import Meeting, Membership, Mentorship
from tests.harness import Person
from tests.test_meetings_e2e import in_days, travel_to
from tests.test_pairing_e2e import pair

People = Callable[..., Person]


async def test_the_intro_meeting_is_booked_held_and_then_decided_in_swedish(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await pair(anna, bertil, "Jag är adept – bjud in min mentor", "Tacka ja ✅")
    guide = await anna.expect("Före mötet")
    await bertil.expect("introduktionsmöte med Anna")

    # Before the intro meeting the decision waits; the adept is offered to book it.
    await anna.press("✅ Jag fortsätter", message_id=guide.message_id)
    await anna.expect("Först har ni ert introduktionsmöte")
    await anna.press("📅 Boka introduktionsmötet")
    await anna.expect("När vill du ses")
    start = in_days(clock, 4, 14)
    await anna.send(start.strftime("%Y-%m-%d %H:%M"))
    await anna.expect("lära känna varandra räcker")
    await anna.press("60 min")
    await anna.expect("Var?")
    await anna.press("📹 Videosamtal")
    request = await bertil.expect("Anna föreslår ett möte")
    await bertil.press("Bekräfta ✅", message_id=request.message_id)
    for person in (anna, bertil):
        invite = await person.expect("Möte bekräftat")
        assert invite.document is not None
        event = icalendar.Calendar.from_ical(invite.document.data).walk("VEVENT")[0]
        assert event.decoded("dtstart") == start
        assert str(event.get("summary")).startswith("Introduktionsmöte med")
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        assert (meeting.kind, meeting.state) == ("intro", "confirmed")

    # /meetings lists it during the intro phase too, the date shown bold, not as tags.
    overview = await anna.ask("/meetings")
    assert "14:00" in overview.text and "<b>" not in overview.text

    # 48 hours before: the intro agenda template, to which the adept adds a point.
    anna.mark_read()
    bertil.mark_read()
    await travel_to(clock, bot_app, start - timedelta(hours=48))
    prompt = await anna.expect("Ert introduktionsmöte med Bertil är")
    for part in ("Lär känna varandra", "Förhoppningar och förväntningar", "Dina områden"):
        assert part in prompt.text
    assert "hur ni når varandra" in prompt.text
    await anna.press("✍️ Skriv agendan", message_id=prompt.message_id)
    await anna.expect("Introduktionsmötets agenda finns redan")
    await anna.send("Hur vi hittar tid varannan vecka")
    await anna.expect("Bertil har fått din agenda")
    assert "Hur vi hittar tid" in (await bertil.expect("Hur vi hittar tid")).text

    # 24 hours before: reminders to both and the mentor's intro preparation.
    anna.mark_read()
    bertil.mark_read()
    await travel_to(clock, bot_app, start - timedelta(hours=24))
    await anna.expect("I morgon: ert möte med Bertil")
    await bertil.expect("I morgon: ert möte med Anna")
    prep = await bertil.expect("Inför introduktionsmötet med Anna")
    assert "Annas områden och mål" in prep.text and "Hur vi hittar tid" in prep.text
    # The questions suggested for it are the intro meeting's own.
    intro_questions = [q.sv for q in BANK if "intro" in q.themes]
    assert any(question in prep.text for question in intro_questions), prep.text

    # Not yet held: the mentor's decision still waits.
    assert "Först har ni ert introduktionsmöte" in (await bertil.ask("/decide")).text

    # Held: both are asked, with a note offered, and decide.
    anna.mark_read()
    bertil.mark_read()
    await travel_to(clock, bot_app, start + timedelta(minutes=61))
    after = await anna.expect("Hur var introduktionsmötet med Bertil")
    assert "✍️ Reflektera i min dagbok" in [text for row in after.buttons for text, _ in row]
    await bertil.expect("Hur var introduktionsmötet med Anna")
    await anna.press("✅ Jag fortsätter", message_id=after.message_id)
    await bertil.expect("Anna har bestämt sig för att fortsätta")
    anna.mark_read()
    await bertil.press("✅ Jag fortsätter")
    await anna.expect("vill båda fortsätta")

    # The defect: the old button, pressed after both decided, no longer says "waiting".
    anna.mark_read()
    await anna.press("✅ Jag fortsätter", message_id=after.message_id)
    answer = await anna.expect("redan båda bestämt er för att fortsätta")
    assert "Bertil" in answer.text and "sekretess" in answer.text


async def test_not_continuing_after_the_intro_meeting_is_confirmed_and_words_are_shared_by_choice(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await pair(sam, maria, "I'm the mentee – invite my mentor", "Accept ✅")
    await sam.expect("Before the meeting")
    await maria.expect("intro meeting with Sam")
    start = in_days(clock, 3, 10)
    await sam.ask("/book")
    await sam.send(start.strftime("%Y-%m-%d %H:%M"))
    await sam.expect("getting to know each other")
    await sam.press("45 min")
    await sam.expect("Where?")
    await sam.press("Decide later")
    request = await maria.expect("Sam proposes a meeting")
    await maria.press("Confirm ✅", message_id=request.message_id)
    invite = await sam.expect("Meeting confirmed")
    assert invite.document is not None and b"Intro meeting with Maria" in invite.document.data
    # A second meeting already booked for later is withdrawn when the mentorship ends.
    later = in_days(clock, 10, 10)
    await sam.ask("/book")
    await sam.send(later.strftime("%Y-%m-%d %H:%M"))
    await sam.press("60 min")
    await sam.press("Decide later")
    again = await maria.expect("Sam proposes a meeting")
    await maria.press("Confirm ✅", message_id=again.message_id)
    await sam.expect("Meeting confirmed")

    sam.mark_read()
    maria.mark_read()
    await travel_to(clock, bot_app, start + timedelta(minutes=46))
    after = await maria.expect("How was the intro meeting with Sam")
    await sam.expect("How was the intro meeting with Maria")

    # "I'd rather not" is asked once more; going back changes nothing.
    await maria.press("I'd rather not", message_id=after.message_id)
    await maria.expect("Are you sure")
    await maria.press("No, let me think again")
    await maria.expect("Nothing has changed")
    async with db.session() as session:
        assert (await session.exec(select(Mentorship.state))).one() == "intro"

    await maria.press("I'd rather not")
    await maria.press("Yes, end the mentorship")
    await maria.expect("Would you like to write a few words")
    told = await sam.expect("Maria has decided not to continue")
    cancelled = await sam.expect("Cancelled: meeting with Maria")
    assert cancelled.document is not None and b"METHOD:CANCEL" in cancelled.document.data
    await maria.send("We want different things – and that's fine")
    await maria.expect("Would you like the other person to read your words")
    await maria.press("Share my words")
    await maria.expect("on their way to Sam")
    words = await sam.expect("A few words from Maria")
    assert "We want different things – and that's fine" in words.text

    # The adept may leave a few words too, and keep them private.
    await sam.press("💬 Write a few words", message_id=told.message_id)
    await sam.expect("how the intro felt for you")
    await sam.send("Private thought: I expected more structure")
    await sam.expect("Would you like the other person to read your words")
    await sam.press("Keep them to myself")
    await sam.expect("Saved privately")
    await maria.quiet(0.2)
    assert all("Private thought" not in m.text for m in maria.messages)
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert (mentorship.state, mentorship.end_reason) == ("ended_early", "intro_not_continue")
        reasons = set((await session.exec(select(Membership.intro_private_reason))).all())
        assert "Private thought: I expected more structure" in reasons
        states = {m.kind: m.state for m in (await session.exec(select(Meeting))).all()}
        assert states == {"intro": "confirmed", "regular": "cancelled"}
