"""Goals through the real bot and the emulator: SMART wizard, the mentor's answer,
revisions, progress, closing, the mentor's own goals and a situation-driven pair."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from bot import scheduler
from bot.clock import TravellingClock
from bot.sandbox.emulator import SentMessage
from storage.db import Database
from storage.models import Goal, GoalProgress, GoalRevision, Mentorship, Notification, User
from tests.factories import active_pair
from tests.harness import Person

People = Callable[..., Person]
SV_MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti")
SV_MONTHS += ("september", "oktober", "november", "december")
EN_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")
EN_MONTHS += ("September", "October", "November", "December")
SV_WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def today_of(clock: TravellingClock) -> date:
    return clock.now().astimezone(ZoneInfo("Europe/Stockholm")).date()


def sv_date(day: date) -> str:
    return f"{day.day} {SV_MONTHS[day.month - 1]} {day.year}"


def en_date(day: date) -> str:
    return f"{day.day} {EN_MONTHS[day.month - 1]} {day.year}"


def squeeze(text: str) -> str:
    """Text without whitespace: Telegram trims each piece of a split message."""
    return "".join(text.split())


def data_of(message: SentMessage, starts_with: str) -> str:
    for row in message.buttons:
        for text, data in row:
            if text.startswith(starts_with) and data is not None:
                return data
    raise LookupError(f"no button starting {starts_with!r} in {message.buttons}")


async def goals_snapshot(db: Database) -> dict[str, object]:
    """Everything about goals that a refused action must leave untouched."""
    async with db.session() as session:
        counts = {}
        for model in (Goal, GoalRevision, GoalProgress, Notification):
            counts[model.__tablename__] = (
                await session.exec(select(func.count()).select_from(model))
            ).one()
        goals = (
            await session.exec(
                select(
                    Goal.state, Goal.current_version, Goal.progress_percent, Goal.visibility
                ).order_by(col(Goal.id))
            )
        ).all()
        revisions = (
            await session.exec(
                select(
                    GoalRevision.version,
                    GoalRevision.specific,
                    GoalRevision.target_date,
                    GoalRevision.mentor_response,
                    GoalRevision.mentor_comment,
                ).order_by(col(GoalRevision.id))
            )
        ).all()
    return {"counts": counts, "goals": goals, "revisions": revisions}


async def only_goal(db: Database) -> tuple[Goal, list[GoalRevision]]:
    async with db.session() as session:
        goal = (await session.exec(select(Goal))).one()
        revisions = (
            await session.exec(
                select(GoalRevision)
                .where(GoalRevision.goal_id == goal.id)
                .order_by(col(GoalRevision.version))
            )
        ).all()
    return goal, list(revisions)


async def test_a_swedish_goal_is_challenged_revised_accepted_followed_and_achieved(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    today = today_of(clock)

    first = await anna.ask("/goal")
    assert "Ett nytt mål" in first.text and "1/4 · S – Specifikt" in first.text
    assert "Exempel" in first.text
    # Empty and one-word answers are refused kindly, and the question stays.
    assert "berätta lite mer" in (await anna.ask("   ")).text
    assert "berätta lite mer" in (await anna.ask("Ledarskap")).text
    await anna.send("Leda teamets veckoplanering <b>själv</b> & utan manus")
    measurable = await anna.expect("2/4 · M – Mätbart")
    assert "svårt att mäta" in measurable.text.lower()
    assert "allt går inte att mäta" in (await anna.ask("Svårt att mäta")).text
    await anna.send("Svårt att mäta, men jag märker det när teamet frågar mig först.")
    await anna.expect("3/4 · R – Realistiskt")
    await anna.send("Min chef stöttar det och jag har en timme i veckan att förbereda.")
    await anna.expect("4/4 · T – Tidsatt")

    # Dates: unreadable, past and after the planned end are refused; the next one is confirmed.
    assert "kunde inte tolka" in (await anna.ask("när jag känner mig redo")).text
    past = await anna.ask("15/3/2020")
    assert "15 mars 2020" in past.text and "framför oss" in past.text
    async with db.session() as session:
        planned_end = (await session.exec(select(Mentorship.planned_end))).one()
    assert planned_end is not None
    late = await anna.ask((planned_end + timedelta(days=30)).isoformat())
    assert "planerade slut" in late.text and "/contract" in late.text
    target = today + timedelta(days=60)
    await anna.send(f"{target.day} {SV_MONTHS[target.month - 1]}")
    review = await anna.expect("Mål · Anna · version 1")
    understood = f"{SV_WEEKDAYS[target.weekday()]} {sv_date(target)}"
    assert f"Jag tolkar det som {understood}" in review.text
    assert "Leda teamets veckoplanering <b>själv</b> & utan manus" in review.text
    assert "A – Accepterat" in review.text

    bertil.mark_read()
    await anna.press("📨 Skicka till min mentor", message_id=review.message_id)
    await anna.expect("Skickat till Bertil")
    card = await bertil.expect("Anna har skrivit ett mål")
    assert "Leda teamets veckoplanering <b>själv</b> & utan manus" in card.text
    assert sv_date(target) in card.text

    # The old review card's buttons no longer apply.
    before = await goals_snapshot(db)
    anna.mark_read()
    await anna.press("📨 Skicka till min mentor", message_id=review.message_id)
    await anna.expect("redan skickat eller slängt")
    await anna.press("✏️ S – Specifikt", message_id=review.message_id)
    await anna.expect("redan skickat eller slängt")
    assert await goals_snapshot(db) == before

    # The mentor challenges with a question; the adept sees it.
    anna.mark_read()
    await bertil.press("💬 Ställ en fråga", message_id=card.message_id)
    await bertil.expect("Vad vill du fråga om")
    await bertil.send("Vad betyder <i>själv</i> för dig – utan någon alls?")
    await bertil.expect("Skickat till Anna")
    challenge = await anna.expect("Bertil har en fråga om ditt mål")
    assert "Vad betyder <i>själv</i> för dig – utan någon alls?" in challenge.text
    # The first version's card is answered: accepting it now changes nothing.
    before = await goals_snapshot(db)
    bertil.mark_read()
    await bertil.press("Godkänn ✅", message_id=card.message_id)
    await bertil.expect("redan besvarad")
    assert await goals_snapshot(db) == before

    # The adept revises; version 1 is kept with the question.
    await anna.press("✍️ Revidera målet", message_id=challenge.message_id)
    revised = await anna.expect("Mål · Anna · version 2")
    assert "Fråga från Bertil om version 1" in revised.text
    await anna.press("✏️ S – Specifikt", message_id=revised.message_id)
    asked = await anna.expect("1/4 · S – Specifikt")
    assert "Nu: Leda teamets veckoplanering" in asked.text
    await anna.send("Leda veckoplaneringen själv, med teamet som bollplank.")
    revised = await anna.expect("Mål · Anna · version 2")
    bertil.mark_read()
    await anna.press("📨 Skicka till min mentor", message_id=revised.message_id)
    card2 = await bertil.expect("Anna har reviderat ett mål – version 2")
    assert "Din fråga om version 1" in card2.text and "med teamet som bollplank" in card2.text
    anna.mark_read()
    await bertil.press("Godkänn ✅", message_id=card2.message_id)
    await bertil.expect("Godkänt. Jag har berättat det för Anna")
    await anna.expect("Bertil har godkänt ditt mål")

    goal, revisions = await only_goal(db)
    assert (goal.kind, goal.state, goal.current_version) == ("adept", "accepted", 2)
    assert goal.target_date == target and goal.visibility == "shared"
    assert [r.version for r in revisions] == [1, 2]
    assert revisions[0].mentor_response == "challenged"
    assert revisions[0].mentor_comment == "Vad betyder <i>själv</i> för dig – utan någon alls?"
    assert revisions[0].specific == "Leda teamets veckoplanering <b>själv</b> & utan manus"
    assert revisions[1].mentor_response == "accepted" and revisions[1].mentor_comment is None
    assert revisions[1].specific == "Leda veckoplaneringen själv, med teamet som bollplank."
    assert revisions[1].measurable == revisions[0].measurable
    async with db.session() as session:
        nudges = (
            await session.exec(select(Notification).where(Notification.kind == "goal_deadline"))
        ).all()
    assert [n.idempotency_key for n in nudges] == [f"goal:{goal.id}:v2:deadline"]
    assert nudges[0].due_at.astimezone(ZoneInfo("Europe/Stockholm")).date() == target - timedelta(
        days=7
    )

    # The detail view shows every version with the mentor's answers.
    listing = await anna.ask("/goals")
    assert "Dina mål" in listing.text and "✅ godkänt" in listing.text
    assert f"senast {sv_date(target)}" in listing.text
    await anna.press_data(listing.message_id, data_of(listing, "1."))
    detail = await anna.expect("Versioner")
    assert "Version 1" in detail.text and "Version 2" in detail.text
    assert "Bertil frågade" in detail.text and "Vad betyder <i>själv</i>" in detail.text
    assert "Bertil godkände den" in detail.text
    assert "Leda teamets veckoplanering <b>själv</b>" in detail.text
    mentor_view = await bertil.ask("/goals")
    assert "Mål som Anna har satt" in mentor_view.text

    # Progress: a percentage with a note, then a typed one without.
    percent = await anna.ask("/progress")
    assert "Hur långt har du kommit" in percent.text
    await anna.press("30 %", message_id=percent.message_id)
    await anna.expect("Sparat: ▓▓▓░░░░░░░ 30 %")
    await anna.send("Ledde första mötet själv.")
    await anna.expect("Antecknat")
    await anna.ask("/progress")
    assert "från 0 till 100" in (await anna.ask("hundrafemtio")).text
    await anna.send("55 %")
    saved = await anna.expect("55 %")
    await anna.press("Hoppa över", message_id=saved.message_id)
    await anna.expect("utan anteckning")
    listing = await anna.ask("/goals")
    assert "▓▓▓▓▓▓░░░░ 55 %" in listing.text or "▓▓▓▓▓░░░░░ 55 %" in listing.text

    # Achieved, with a reason; the mentor is told.
    await anna.press_data(listing.message_id, data_of(listing, "1."))
    detail = await anna.expect("Versioner")
    assert "Ledde första mötet själv." in detail.text and "30 %" in detail.text
    await anna.press("🏁 Uppnått", message_id=detail.message_id)
    await anna.expect("Bra jobbat")
    bertil.mark_read()
    await anna.send("Jag leder nu mötena varje vecka – förberedelserna hjälpte mest.")
    await anna.expect("Markerat som uppnått")
    told = await bertil.expect("Anna har nått målet")
    assert "förberedelserna hjälpte mest" in told.text
    async with db.session() as session:
        goal = (await session.exec(select(Goal))).one()
        steps = (await session.exec(select(GoalProgress).order_by(col(GoalProgress.id)))).all()
    assert goal.state == "achieved" and goal.progress_percent == 100
    assert goal.closed_reason == "Jag leder nu mötena varje vecka – förberedelserna hjälpte mest."
    assert [(p.percent, p.note) for p in steps] == [
        (30, "Ledde första mötet själv."),
        (55, None),
        (100, None),
    ]
    # Closed goals take no more progress.
    anna.mark_read()
    await anna.press_data(detail.message_id, data_of(detail, "🏁"))
    await anna.expect("redan avslutat")


async def test_an_english_goal_is_accepted_and_its_deadline_is_nudged(
    people: People, db: Database, clock: TravellingClock, dispatcher: scheduler.Dispatcher
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await active_pair(db, clock, sam, maria)
    today = today_of(clock)

    first = await sam.ask("/goal")
    assert "A new goal" in first.text and "1/4 · S – Specific" in first.text
    await sam.send("Give a technical talk at our company's spring conference.")
    await sam.expect("2/4 · M – Measurable")
    await sam.send("The talk is held and at least ten colleagues ask follow-up questions.")
    await sam.expect("3/4 · R – Realistic")
    # Leaving mid-wizard loses nothing: /goal resumes at the next step.
    await sam.ask("/cancel")
    resumed = await sam.ask("/goal")
    assert "Welcome back" in resumed.text and "3/4 · R – Realistic" in resumed.text
    await sam.send("My manager has booked the slot; preparing takes evenings I do have.")
    await sam.expect("4/4 · T – Time-bound")
    target = today + timedelta(days=45)
    await sam.send(f"{EN_MONTHS[target.month - 1]} {target.day}")
    review = await sam.expect("Goal · Sam · version 1")
    assert f"I read that as {EN_WEEKDAYS[target.weekday()]}, {en_date(target)}" in review.text
    maria.mark_read()
    await sam.press("📨 Send to my mentor")
    card = await maria.expect("Sam has written a goal")
    sam.mark_read()
    await maria.press("Accept ✅", message_id=card.message_id)
    await maria.expect("Accepted. I've told Sam")
    accepted = await sam.expect("Maria has accepted your goal")
    assert "spring conference" in accepted.text
    listing = await maria.ask("/goals")
    assert "Sam's goals" in listing.text and "✅ accepted" in listing.text

    # Insight grows: the adept moves the date, and the mentor accepts version 2.
    await sam.press("📖 Show the goal", message_id=accepted.message_id)
    detail = await sam.expect("Versions")
    await sam.press("✍️ Revise the goal", message_id=detail.message_id)
    revision = await sam.expect("Goal · Sam · version 2")
    await sam.press("✏️ T – Date", message_id=revision.message_id)
    await sam.expect("4/4 · T – Time-bound")
    later = target + timedelta(days=20)
    await sam.send(later.isoformat())
    revision = await sam.expect(f"I read that as {EN_WEEKDAYS[later.weekday()]}, {en_date(later)}")
    maria.mark_read()
    await sam.press("📨 Send to my mentor", message_id=revision.message_id)
    card2 = await maria.expect("Sam has revised a goal – version 2")
    sam.mark_read()
    await maria.press("Accept ✅", message_id=card2.message_id)
    await sam.expect("Maria has accepted your goal")

    # Each accepted version queued its own nudge; only the current version's is sent.
    goal, _revisions = await only_goal(db)
    assert goal.id is not None
    async with db.session() as session:
        keys = (
            await session.exec(
                select(Notification.idempotency_key)
                .where(Notification.kind == "goal_deadline")
                .order_by(col(Notification.id))
            )
        ).all()
    assert keys == [f"goal:{goal.id}:v1:deadline", f"goal:{goal.id}:v2:deadline"]
    stockholm = ZoneInfo("Europe/Stockholm")
    # From 10:00 today to 11:00 a week before the first date: version 1's nudge is stale.
    clock.advance((target - timedelta(days=7) - today) + timedelta(hours=1))
    sam.mark_read()
    report = await dispatcher.run_once()
    assert (report.sent, report.cancelled) == (0, 1)
    assert not [m for m in await sam.quiet(0.2) if "is due on" in m.text]

    # A week before the new date the adept gets a nudge.
    clock.advance(timedelta(days=20))
    assert clock.now().astimezone(stockholm).date() == later - timedelta(days=7)
    report = await dispatcher.run_once()
    assert report.sent == 1
    nudge = await sam.expect("is due on")
    assert en_date(later) in nudge.text and "spring conference" in nudge.text
    assert data_of(nudge, "📈") == f"g:prog:{goal.id}"


async def test_the_mentors_own_goal_stays_private_until_shared(
    people: People, db: Database, clock: TravellingClock
) -> None:
    ella, fred = people("Ella", "en"), people("Fred", "en")
    await active_pair(db, clock, ella, fred)
    target = today_of(clock) + timedelta(days=90)

    intro = await fred.ask("/goal")
    assert "A goal for you as a mentor" in intro.text and "1/4 · S – Specific" in intro.text
    await fred.send("Ask more open questions and hold back my own advice.")
    await fred.expect("2/4")
    await fred.send("After each meeting I count the advice I gave unasked.")
    await fred.expect("3/4")
    await fred.send("Ten minutes after each meeting is enough for the count.")
    await fred.expect("4/4")
    await fred.send(target.isoformat())
    review = await fred.expect("Mentor goal · Fred · version 1")
    assert "nobody needs to accept it" in review.text
    await fred.press("💾 Save the goal")
    await fred.expect("It's private to you")
    async with db.session() as session:
        goal = (await session.exec(select(Goal))).one()
    assert (goal.kind, goal.state, goal.visibility) == ("mentor", "active", "private")

    # The adept sees nothing of it, not even through a forged button.
    ella.mark_read()
    listing = await ella.ask("/goals")
    assert "open questions" not in listing.text and "No goals yet" in listing.text
    await ella.press_data(listing.message_id, f"g:show:{goal.id}")
    refused = await ella.expect("can't find that goal")
    assert "open questions" not in refused.text
    for data in (f"g:shr:{goal.id}", f"g:prog:{goal.id}", f"g:rev:{goal.id}", f"g:ach:{goal.id}"):
        ella.mark_read()
        await ella.press_data(listing.message_id, data)
        await ella.expect("can't find that goal")
    assert not [m for m in await ella.quiet(0.2) if "open questions" in m.text]
    assert all("open questions" not in m.text for m in ella.messages)

    # The mentor shares it; the adept is told and can read it; private again hides it.
    mine = await fred.ask("/goals")
    assert "Your own goals as a mentor" in mine.text and "🔒 private" in mine.text
    await fred.press_data(mine.message_id, data_of(mine, "1."))
    detail = await fred.expect("Only you can see this goal")
    ella.mark_read()
    await fred.press("🔓 Share with my mentee", message_id=detail.message_id)
    await fred.expect("Ella can now see this goal")
    shared = await ella.expect("Fred has shared a goal of their own")
    assert "open questions" in shared.text
    listing = await ella.ask("/goals")
    assert "Fred's goals as a mentor" in listing.text and "open questions" in listing.text
    await fred.press_data(detail.message_id, f"g:prv:{goal.id}")
    await fred.expect("Private again")
    listing = await ella.ask("/goals")
    assert "open questions" not in listing.text


async def test_a_situation_driven_adept_writes_problem_outcome_and_deadline(
    people: People, db: Database, clock: TravellingClock
) -> None:
    sara, olof = people("Sara", "sv"), people("Olof", "sv")
    await active_pair(db, clock, sara, olof, mode="situation")
    first = await sara.ask("/goal")
    assert "Din situation" in first.text and "1/3 · Problemet" in first.text
    await sara.send("Vår avdelning slås ihop med en annan och mitt team är oroligt.")
    await sara.expect("2/3 · Det resultat du vill nå")
    await sara.send("Teamet vet sina nya uppgifter och ingen har slutat.")
    await sara.expect("3/3 · Tidsgräns")
    await sara.send("slutet av " + SV_MONTHS[(today_of(clock) + timedelta(days=62)).month - 1])
    review = await sara.expect("Situation · Sara · version 1")
    assert "Problemet" in review.text and "Önskat resultat" in review.text
    assert "R – Realistiskt" not in review.text
    olof.mark_read()
    await sara.press("📨 Skicka till min mentor")
    card = await olof.expect("Sara har skrivit ett mål")
    assert "Problemet" in card.text and "mitt team är oroligt" in card.text
    goal, revisions = await only_goal(db)
    assert (goal.kind, goal.state) == ("situation", "awaiting")
    assert revisions[0].specific == "Vår avdelning slås ihop med en annan och mitt team är oroligt."
    assert revisions[0].measurable == "Teamet vet sina nya uppgifter och ingen har slutat."
    assert revisions[0].realistic is None and revisions[0].target_date is not None
    assert revisions[0].target_date.day >= 28


async def test_long_answers_are_kept_whole_and_shown_split(
    people: People, db: Database, clock: TravellingClock
) -> None:
    ines, jon = people("Ines", "en"), people("Jon", "en")
    await active_pair(db, clock, ines, jon)
    long_specific = ("Become the person my team <trusts> & asks first. " * 103).strip()
    long_measurable = ("Colleagues bring me their questions before anyone else. " * 90).strip()
    assert len(long_specific) >= 5000 and len(long_measurable) >= 5000

    await ines.ask("/goal")
    await ines.send(long_specific)
    await ines.expect("2/4")
    await ines.send(long_measurable)
    await ines.expect("3/4")
    await ines.send("I have time on Fridays and my manager agrees.")
    asked = await ines.expect("4/4")
    await ines.send((today_of(clock) + timedelta(days=50)).isoformat())
    # The card is longer than one message: its pieces come in order, buttons under the last.
    review = await ines.expect("A – Accepted")
    pieces = [m for m in ines.messages if asked.message_id < m.message_id <= review.message_id]
    assert len(pieces) >= 3 and pieces[-1].buttons and not pieces[0].buttons
    shown = squeeze("".join(m.text for m in pieces))
    assert shown.count(squeeze("Become the person my team <trusts> & asks first.")) == 103
    assert all(len(m.text) <= 4096 for m in ines.messages)

    jon.mark_read()
    await ines.press("📨 Send to my mentor", message_id=review.message_id)
    card = await jon.expect("Ines has written a goal")
    revision_id = data_of(card, "Accept").rsplit(":", 1)[1]
    # The outbox sends one message: the card is shortened and offers the whole goal.
    assert len(card.text) <= 4096 and "shortened" in card.text
    jon.mark_read()
    await jon.press("📖 Show the goal", message_id=card.message_id)
    await jon.expect("Versions")
    await jon.quiet(0.3)
    shown = [m for m in jon.messages if m.message_id > card.message_id]
    assert all(len(m.text) <= 4096 for m in shown) and len(shown) >= 3
    # Only the last piece carries the buttons: the mentor can answer from the full view too.
    assert [data_of(m, "Accept") for m in shown if m.buttons] == [f"g:acc:{revision_id}"]
    whole = squeeze("".join(m.text for m in shown))
    assert whole.count(squeeze("Become the person my team <trusts> & asks first.")) == 103
    assert whole.count(squeeze("Colleagues bring me their questions before anyone else.")) == 90

    _goal, revisions = await only_goal(db)
    assert revisions[0].specific == long_specific
    assert revisions[0].measurable == long_measurable

    # The mentor's long question reaches the adept quoted, and whole in the detail view.
    question = ("Why <this> & not something smaller? " * 160).strip()
    await jon.press("💬 Ask a question", message_id=card.message_id)
    await jon.expect("What would you like to ask")
    ines.mark_read()
    await jon.send(question)
    notice = await ines.expect("Jon has a question about your goal")
    assert len(notice.text) <= 4096 and "Why <this> & not something smaller?" in notice.text
    _goal, revisions = await only_goal(db)
    assert revisions[0].mentor_comment == question


async def test_strangers_and_partners_cannot_answer_or_touch_goals_that_are_not_theirs(
    people: People, db: Database, clock: TravellingClock
) -> None:
    kim, lea, mallory = people("Kim", "en"), people("Lea", "en"), people("Mallory", "en")
    await active_pair(db, clock, kim, lea)
    await kim.ask("/goal")
    await kim.send("Lead the quarterly planning for our product area.")
    await kim.expect("2/4")
    await kim.send("The plan is published and the team signs off on it.")
    await kim.expect("3/4")
    await kim.send("I have done parts of it before with my lead's help.")
    await kim.expect("4/4")
    await kim.send((today_of(clock) + timedelta(days=40)).isoformat())
    review = await kim.expect("Goal · Kim · version 1")
    lea.mark_read()
    await kim.press("📨 Send to my mentor", message_id=review.message_id)
    card = await lea.expect("Kim has written a goal")
    _goal, revisions = await only_goal(db)
    revision_id, goal_id = revisions[0].id, revisions[0].goal_id

    before = await goals_snapshot(db)
    own = await mallory.ask("/help")
    for data in (
        f"g:acc:{revision_id}",
        f"g:chl:{revision_id}",
        f"g:show:{goal_id}",
        f"g:rev:{goal_id}",
        f"g:edit:{revision_id}:s",
    ):
        mallory.mark_read()
        await mallory.press_data(own.message_id, data)
        await mallory.expect("someone else's mentorship")
    # The adept cannot accept their own goal, nor the mentor edit it.
    kim.mark_read()
    await kim.press_data(review.message_id, f"g:acc:{revision_id}")
    await kim.expect("It's the mentor who accepts")
    lea.mark_read()
    await lea.press_data(card.message_id, f"g:rev:{goal_id}")
    await lea.expect("Only the person whose goal it is")
    await lea.press_data(card.message_id, "g:pct:999999:50")
    await lea.expect("can't find that goal")
    assert await goals_snapshot(db) == before
    await mallory.quiet(0.2)
    assert all("quarterly planning" not in m.text for m in mallory.messages)

    # The pair's own buttons still work afterwards.
    kim.mark_read()
    await lea.press("Accept ✅", message_id=card.message_id)
    accepted = await kim.expect("Lea has accepted your goal")

    # Goals may change: the adept drops this one, with a reason, and the mentor is told.
    await kim.press("📖 Show the goal", message_id=accepted.message_id)
    detail = await kim.expect("Versions")
    await kim.press("⏹ Drop the goal", message_id=detail.message_id)
    await kim.expect("Why are you dropping it?")
    assert "Write a few words" in (await kim.ask("  ")).text
    lea.mark_read()
    await kim.send("The planning moved to another team <for now>.")
    await kim.expect("You've dropped the goal")
    told = await lea.expect("Kim has dropped the goal")
    assert "The planning moved to another team <for now>." in told.text
    listing = await lea.ask("/goals")
    assert "⏹ dropped" in listing.text
    goal, _revisions = await only_goal(db)
    assert (goal.state, goal.closed_reason) == (
        "dropped",
        "The planning moved to another team <for now>.",
    )


async def test_a_draft_can_be_discarded_and_goals_wait_for_an_active_mentorship(
    people: People, db: Database, clock: TravellingClock
) -> None:
    nils, pia = people("Nils", "sv"), people("Pia", "sv")
    # Without any mentorship, /new is the way in (issue 13: no longer "after the contract",
    # since the adept may write goals in the intro phase).
    assert "inget mentorskap att skriva mål i" in (await nils.ask("/goal")).text
    assert "inga mål att visa" in (await nils.ask("/goals")).text

    await active_pair(db, clock, nils, pia)
    await nils.ask("/goal")
    await nils.send("Bli bättre på att ge feedback till kollegor.")
    await nils.expect("2/4")
    await nils.send("Jag ger minst en genomtänkt feedback i veckan.")
    await nils.expect("3/4")
    await nils.send("Det finns många tillfällen i mitt jobb.")
    await nils.expect("4/4")
    await nils.send((today_of(clock) + timedelta(days=30)).isoformat())
    review = await nils.expect("Mål · Nils · version 1")
    await nils.press("🗑 Släng utkastet", message_id=review.message_id)
    await nils.expect("Utkastet är slängt")
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Goal))).one() == 0
        assert (await session.exec(select(func.count()).select_from(GoalRevision))).one() == 0
    nils.mark_read()
    await nils.press("📨 Skicka till min mentor", message_id=review.message_id)
    await nils.expect("redan skickat eller slängt")
    fresh = await nils.ask("/goal")
    assert "Ett nytt mål" in fresh.text


async def test_with_two_mentorships_the_adept_chooses_which_one_the_goal_belongs_to(
    people: People, db: Database, clock: TravellingClock
) -> None:
    tove, ulf, vera = people("Tove", "sv"), people("Ulf", "sv"), people("Vera", "sv")
    await active_pair(db, clock, tove, ulf)
    second = await active_pair(db, clock, tove, vera)
    async with db.session() as session:
        user = await session.get(User, second.adept.id)
        assert user is not None
        user.current_mentorship_id = None
        session.add(user)
    which = await tove.ask("/goal")
    assert "fler än ett mentorskap" in which.text
    await tove.press("Vera (mentor)", message_id=which.message_id)
    await tove.expect("1/4 · S – Specifikt")
    await tove.send("Hålla min första presentation för ledningsgruppen.")
    await tove.expect("2/4")
    async with db.session() as session:
        goal = (await session.exec(select(Goal))).one()
    assert goal.mentorship_id == second.mentorship_id
    # /goals now means the chosen mentorship; the draft is only the owner's.
    listing = await tove.ask("/goals")
    assert "du och Vera" in listing.text and "utkast, inte skickat" in listing.text
    assert "Inga mål att visa ännu" in (await vera.ask("/goals")).text


async def test_a_goal_full_of_emoji_still_reaches_the_mentor_as_one_message(
    people: People, db: Database, clock: TravellingClock
) -> None:
    wilma, yusuf = people("Wilma", "en"), people("Yusuf", "en")
    await active_pair(db, clock, wilma, yusuf)
    # Each 🚀 counts twice towards Telegram's limit.
    answer = "a🚀🚀🚀🚀🚀🚀 " * 700
    await wilma.ask("/goal")
    for step in ("2/4", "3/4", "4/4"):
        await wilma.send(answer)
        await wilma.expect(step)
    await wilma.send((today_of(clock) + timedelta(days=20)).isoformat())
    review = await wilma.expect("A – Accepted")
    yusuf.mark_read()
    await wilma.press("📨 Send to my mentor", message_id=review.message_id)
    card = await yusuf.expect("Wilma has written a goal")
    assert "shortened" in card.text and data_of(card, "Accept").startswith("g:acc:")
    _goal, revisions = await only_goal(db)
    assert revisions[0].specific == revisions[0].realistic == answer.strip()
