"""The structured meeting and its joint close-out (issue 13): each says what worked and
the agreed next steps, shares it or not, the mentor reflects privately, and the next
agenda starts with the follow-up of what was agreed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from storage.db import Database
from storage.models import DiaryEntry, MeetingEvaluation
from tests.factories import active_pair
from tests.harness import Person
from tests.test_meeting_steps_e2e import confirmed_meeting
from tests.test_meetings_e2e import in_days, travel_to

People = Callable[..., Person]


async def close_out(person: Person, useful: str, next_steps: str, rating: str) -> None:
    prompt = await person.expect("How did your meeting with")
    await person.press("Look back on the meeting", message_id=prompt.message_id)
    await person.expect("1/3 · What worked well for you today")
    question = await person.ask(useful)
    # The adept is spoken to, not about.
    assert "Which next steps did you agree on together" in question.text
    assert "adept" not in question.text
    await person.ask(next_steps)
    await person.press(rating)
    await person.expect("see what you wrote")


async def test_a_joint_close_out_shared_by_choice_becomes_the_next_follow_up_in_english(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    await confirmed_meeting(sam, maria, clock, 3)
    start = in_days(clock, 3, 10)
    sam.mark_read()
    maria.mark_read()
    await travel_to(clock, bot_app, start + timedelta(minutes=61))

    # The adept shares; the mentor sees it at once.
    await close_out(sam, "Saying out loud what I want", "Draft my salary case by Friday", "5")
    await sam.press("👥 Share with Maria")
    await sam.expect("private diary")
    shared = await maria.expect("Sam's close-out of today's meeting")
    assert "Saying out loud what I want" in shared.text
    assert "Draft my salary case by Friday" in shared.text

    # The mentor keeps theirs, then gets the private reflection prompt.
    await close_out(maria, "Sam found his own words", "Send Sam two articles", "4")
    await maria.press("🔒 Keep it to myself")
    reflection = await maria.expect("A moment just for you")
    assert "right person" in reflection.text and "outside view" in reflection.text
    await maria.send("I advised too early; an outside view on pay could help")
    await maria.expect("Saved in your private diary")
    await sam.quiet(0.2)
    assert all("two articles" not in m.text and "advised" not in m.text for m in sam.messages)
    async with db.session() as session:
        shares = {
            e.user_id: e.shared for e in (await session.exec(select(MeetingEvaluation))).all()
        }
        assert shares == {pair.adept.id: True, pair.mentor.id: False}
        entry = (await session.exec(select(DiaryEntry))).one()
        assert (entry.author_id, entry.visibility) == (pair.mentor.id, "private")
        assert entry.meeting_id is not None and entry.text.startswith("I advised too early")

    # The next agenda starts with the follow-up: the adept's own next steps, not the
    # mentor's unshared ones; the mentor's preparation holds both.
    await confirmed_meeting(sam, maria, clock, 10)
    second = in_days(clock, 10, 10)
    sam.mark_read()
    await travel_to(clock, bot_app, second - timedelta(hours=47))
    prompt = await sam.expect("What would you like to discuss")
    assert "Draft my salary case by Friday" in prompt.text
    assert "two articles" not in prompt.text
    await sam.press("✍️ Write the agenda", message_id=prompt.message_id)
    ask = await sam.expect("Follow-up")
    assert "• Draft my salary case by Friday" in ask.text and "today's topics" in ask.text
    assert "two articles" not in ask.text
    await sam.send("Practising the negotiation")
    await sam.expect("Maria has your agenda")
    maria.mark_read()
    await travel_to(clock, bot_app, second - timedelta(hours=24))
    prep = await maria.expect("Preparing for your meeting with Sam")
    assert "Practising the negotiation" in prep.text
    assert "Draft my salary case by Friday" in prep.text and "Send Sam two articles" in prep.text

    # The defect: /meetings shows the date bold, never as literal tags.
    overview = await sam.ask("/meetings")
    assert "10:00" in overview.text and "<b>" not in overview.text
