"""Issue 13: goals from day one. The adept jots goals down in the intro phase; they go to
the mentor once the contract makes the mentorship active, whose message offers the next
steps; a pair may agree to set goals later. And a mentor's /goal before the contract."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import select

from bot import scheduler
from bot.clock import TravellingClock
from storage.db import Database
from storage.models import Goal, Mentorship, Notification
from tests.factories import intro_pair_awaiting_contract
from tests.harness import Person

People = Callable[..., Person]


intro_pair = intro_pair_awaiting_contract


async def test_goals_written_in_the_intro_phase_go_to_the_mentor_once_the_contract_is_agreed(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await intro_pair(db, clock, anna, bertil)

    # Defect: the mentor was told to "start one with /new" as if to begin a new mentorship.
    early = await bertil.ask("/goal")
    assert "när kontraktet är klart" in early.text and "kan Anna redan" in early.text
    assert "/new" not in early.text

    first = await anna.ask("/goal")
    assert "1/4 · S – Specifikt" in first.text
    await anna.send("Leda teamets veckoplanering själv")
    await anna.expect("2/4 · M – Mätbart")
    await anna.send("Teamet frågar mig först när planen ändras")
    await anna.expect("3/4 · R – Realistiskt")
    await anna.send("Min chef stöttar det och jag har tid varje vecka")
    await anna.expect("4/4 · T – Tidsatt")
    target = clock.now().date() + timedelta(days=90)
    await anna.send(target.isoformat())
    review = await anna.expect("Mål · Anna · version 1")
    assert "introduktionsfasen" in review.text
    bertil.mark_read()
    await anna.press("🗂 Spara till starten", message_id=review.message_id)
    await anna.expect("Sparat. Det går till Bertil")
    # Kept for the start: not sent, and not shown to the mentor yet.
    assert not [m for m in await bertil.quiet(0.3) if "Anna har skrivit ett mål" in m.text]
    assert "Leda teamets veckoplanering" not in (await bertil.ask("/goals")).text
    listed = await anna.ask("/goals")
    assert "Leda teamets veckoplanering" in listed.text and "skickas när" in listed.text

    # The mentor accepts the contract: active, the kept goal goes for acceptance, and the
    # adept's message offers the next steps.
    await bertil.ask("/contract")
    anna.mark_read()
    await bertil.press("Godkänn ✅")
    active = await anna.expect("är nu igång")
    labels = [text for row in active.buttons for text, _ in row]
    assert labels[:2] == ["➕ Nytt mål", "📅 Boka ett möte"], labels
    await anna.expect("Målen du skrev under introduktionsfasen ligger nu hos Bertil")
    card = await bertil.expect("Anna har skrivit ett mål")
    assert "Leda teamets veckoplanering själv" in card.text
    mentor_active = await bertil.expect("är nu igång")
    assert [text for row in mentor_active.buttons for text, _ in row] == ["⬅️ Alla mål"]
    await bertil.press("Godkänn ✅", message_id=card.message_id)
    await anna.expect("Bertil har godkänt")
    async with db.session() as session:
        goal = (await session.exec(select(Goal))).one()
    assert (goal.state, goal.current_version) == ("accepted", 1)
    # And the next step works from the activation message.
    await anna.press("📅 Boka ett möte", message_id=active.message_id)
    await anna.expect("Boka ett möte")


async def test_a_pair_agrees_to_set_goals_later_from_the_activation_message(
    people: People, db: Database, clock: TravellingClock
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    mentorship_id = await intro_pair(db, clock, sam, maria)
    await maria.ask("/contract")
    sam.mark_read()
    await maria.press("Accept ✅")
    active = await sam.expect("is now active")
    assert [text for row in active.buttons for text, _ in row] == [
        "➕ New goal",
        "📅 Book a meeting",
        "🕓 We'll set goals later",
    ]
    maria.mark_read()
    await sam.press("🕓 We'll set goals later", message_id=active.message_id)
    await sam.expect("I've asked Maria")
    asked = await maria.expect("Sam would like to set the goals a little later")
    sam.mark_read()
    await maria.press("Fine, later ✅", message_id=asked.message_id)
    await sam.expect("Agreed with Maria: goals come later")
    await maria.expect("Agreed with Sam: goals come later")
    assert "you agreed to set them later" in (await sam.ask("/goals")).text
    async with db.session() as session:
        mentorship = await session.get(Mentorship, mentorship_id)
    assert mentorship is not None and mentorship.goals_later_at is not None


async def _agree_on_later(sam: Person, maria: Person) -> None:
    await maria.ask("/contract")
    sam.mark_read()
    await maria.press("Accept ✅")
    active = await sam.expect("is now active")
    maria.mark_read()
    await sam.press("🕓 We'll set goals later", message_id=active.message_id)
    asked = await maria.expect("Sam would like to set the goals a little later")
    sam.mark_read()
    await maria.press("Fine, later ✅", message_id=asked.message_id)
    await sam.expect("Agreed with Maria: goals come later")


async def test_goals_agreed_for_later_come_back_to_the_mentee_after_six_weeks(
    people: People, db: Database, clock: TravellingClock, dispatcher: scheduler.Dispatcher
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await intro_pair(db, clock, sam, maria)
    await _agree_on_later(sam, maria)
    await dispatcher.run_once()
    sam.mark_read()
    maria.mark_read()

    clock.advance(timedelta(weeks=5))
    await dispatcher.run_once()
    assert not [m for m in await sam.quiet(0.3) if "time to write a first goal" in m.text]

    clock.advance(timedelta(weeks=1, hours=1))
    await dispatcher.run_once()
    reminder = await sam.expect("maybe it is time to write a first goal")
    assert "You and Maria agreed" in reminder.text
    # Only the mentee is reminded: goals are theirs.
    assert not [m for m in await maria.quiet(0.3) if "first goal" in m.text]
    await sam.press("➕ New goal", message_id=reminder.message_id)
    await sam.expect("1/4 · S – Specific")


async def test_no_reminder_when_the_mentee_began_a_goal_meanwhile(
    people: People, db: Database, clock: TravellingClock, dispatcher: scheduler.Dispatcher
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await intro_pair(db, clock, sam, maria)
    await _agree_on_later(sam, maria)
    clock.advance(timedelta(weeks=3))
    await sam.ask("/goal")
    await sam.send("Lead the weekly planning myself")
    await sam.expect("2/4")
    await dispatcher.run_once()
    sam.mark_read()

    clock.advance(timedelta(weeks=4))
    report = await dispatcher.run_once()
    assert not [m for m in await sam.quiet(0.3) if "first goal" in m.text]
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Notification).where(Notification.kind == "goals_later_reminder")
            )
        ).all()
    assert [r.state for r in rows] == ["cancelled"], report
