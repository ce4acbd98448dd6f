"""From invitation to an active mentorship, through the real bot and the emulator."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import func
from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.domain.contract import add_months
from storage.db import Database
from storage.models import (
    Contract,
    Invite,
    Membership,
    Mentorship,
    MentorshipTransition,
    Notification,
    User,
)
from tests.harness import Person

People = Callable[..., Person]
LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+)")


async def met_outside(person: Person) -> None:
    """Before the intro meeting the decision waits; say it happened outside the bot."""
    sv = person.language_code == "sv"
    await person.expect("Först har ni ert introduktionsmöte" if sv else "First comes your intro")
    await person.press("Vi har setts utanför boten" if sv else "We met outside the bot")
    await person.expect("vill du fortsätta" if sv else "do you want to continue")


async def invite(inviter: Person, button: str) -> str:
    """The inviter makes an invitation and returns the code in the forwardable link."""
    await inviter.ask("/new")
    await inviter.press(button)
    forward = await inviter.expect("t.me/")
    match = LINK.search(forward.text)
    assert match, forward.text
    assert match.group(1) == "mentorship_companion_bot"
    return match.group(2)


async def pair(inviter: Person, invitee: Person, button: str, accept: str) -> None:
    code = await invite(inviter, button)
    await invitee.send(f"/start {code}")
    await invitee.expect(inviter.first_name)
    inviter.mark_read()
    await invitee.press(accept)


async def snapshot(db: Database) -> dict[str, object]:
    """Counts and states that a refused action must leave untouched."""
    async with db.session() as session:
        counts = {}
        for model in (Mentorship, Membership, Invite, Contract, MentorshipTransition):
            counts[model.__tablename__] = (
                await session.exec(select(func.count()).select_from(model))
            ).one()
        states = (await session.exec(select(Mentorship.state).order_by(col(Mentorship.id)))).all()
        members = (
            await session.exec(
                select(Membership.intro_decision, Membership.confidentiality_agreed_at).order_by(
                    col(Membership.id)
                )
            )
        ).all()
        contracts = (
            await session.exec(
                select(Contract.adept_accepted_at, Contract.mentor_accepted_at).order_by(
                    col(Contract.id)
                )
            )
        ).all()
    return {"counts": counts, "states": states, "members": members, "contracts": contracts}


async def test_adept_invites_mentor_all_the_way_to_an_active_mentorship_in_swedish(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await pair(anna, bertil, "Jag är adept – bjud in min mentor", "Tacka ja ✅")

    await bertil.expect("Du tackade ja")
    guide = await bertil.expect("introduktionsmöte med Anna")
    assert "lugn plats" in guide.text
    await anna.expect("Bertil tackade ja")
    adept_guide = await anna.expect("Före mötet")

    # The adept writes the areas; the mentor receives them, shown literally.
    await anna.press("✍️ Skriv mina områden", message_id=adept_guide.message_id)
    await anna.expect("Vilka områden")
    bertil.mark_read()
    await anna.send("Att leda ett team & <b>lönesamtal</b> 🎯")
    await anna.expect("skickat till Bertil")
    areas = await bertil.expect("vill ha hjälp inom")
    assert "Att leda ett team & <b>lönesamtal</b> 🎯" in areas.text

    # Both decide to continue, once they have met (issue 13: here outside the bot).
    await anna.press("✅ Jag fortsätter", message_id=adept_guide.message_id)
    await met_outside(anna)
    await anna.press("✅ Jag fortsätter")
    await anna.expect("när ni båda har bestämt er")
    nudge = await bertil.expect("Anna har bestämt sig för att fortsätta")
    anna.mark_read()
    await bertil.press("✅ Jag fortsätter", message_id=nudge.message_id)
    await bertil.expect("vill båda fortsätta")
    await anna.expect("vill båda fortsätta")

    # Mutual confidentiality.
    await anna.press("🔒 Jag lovar att det stannar mellan oss")
    await anna.expect("ditt löfte är sparat")
    await bertil.expect("Anna har lovat")
    anna.mark_read()
    await bertil.press("🔒 Jag lovar att det stannar mellan oss")
    await bertil.expect("Nu skriver Anna")
    draft_prompt = await anna.expect("Dags för ert samarbetskontrakt")

    # The adept drafts the contract.
    await anna.press("✍️ Skriv kontraktet", message_id=draft_prompt.message_id)
    await anna.expect("Vad vill du uppnå")
    await anna.send("Kort")
    await anna.expect("Skriv gärna lite mer")
    await anna.send("Jag vill bli trygg i att leda mitt första team och förhandla bättre.")
    for button in (
        "Målstyrt",
        "6 månader",
        "Var tredje vecka",
        "60 minuter",
        "Cirka 3 timmar i månaden",
        "Minst 24 timmar innan",
        "En gång i månaden",
    ):
        await anna.expect("/8")
        await anna.press(button)
    review = await anna.expect("Samarbetskontrakt · version 1")
    assert "Var tredje vecka" in review.text and "leda mitt första team" in review.text
    bertil.mark_read()
    await anna.press("📨 Skicka för godkännande")
    await anna.expect("Skickat till Bertil")
    to_mentor = await bertil.expect("har skickat samarbetskontraktet")
    assert "Målstyrt" in to_mentor.text
    anna.mark_read()
    await bertil.press("Godkänn ✅", message_id=to_mentor.message_id)
    await bertil.expect("är nu igång")
    active = await anna.expect("är nu igång")

    today = clock.now().astimezone(ZoneInfo("Europe/Stockholm")).date()
    end = add_months(today, 6)
    assert format_date(end, "d MMMM y", locale="sv") in active.text  # e.g. "30 maj 2027"
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert mentorship.state == "active" and mentorship.started_at is not None
        assert mentorship.planned_end == end and mentorship.mode == "goal"
        moves = (
            await session.exec(select(MentorshipTransition).order_by(col(MentorshipTransition.id)))
        ).all()
        assert [m.to_state for m in moves] == ["invited", "intro", "active"]
        assert all(m.at is not None and m.actor_id is not None for m in moves)
        members = (await session.exec(select(Membership))).all()
        assert all(m.confidentiality_agreed_at for m in members)
        assert {m.role for m in members} == {"adept", "mentor"}

    # /contract now shows the accepted contract to both.
    shown = await bertil.ask("/contract")
    assert "version 1" in shown.text and "godkänt" in shown.text


async def test_mentor_invites_adept_in_english_and_a_change_is_requested(
    people: People, db: Database
) -> None:
    maria, sam = people("Maria", "en"), people("Sam", "en")
    await pair(maria, sam, "I'm the mentor – invite my mentee", "Accept ✅")
    sam_guide = await sam.expect("Before the meeting")
    await maria.expect("Sam accepted")
    # The mentor may not write the adept's areas.
    await maria.ask("/areas")
    await maria.expect("The mentee writes down the areas")

    await sam.press("✅ I'll continue", message_id=sam_guide.message_id)
    await met_outside(sam)
    await sam.press("✅ I'll continue")
    await maria.expect("Sam has decided to continue")
    await maria.ask("/decide")
    await maria.press("✅ I'll continue")
    await sam.expect("both want to continue")
    await maria.ask("/confidentiality")
    await sam.ask("/confidentiality")
    await sam.expect("Time for your collaboration contract")
    await maria.expect("Next, Sam drafts")
    # The mentor cannot draft first.
    await maria.send("/contract")
    await maria.expect("mentee writes the first draft")

    await sam.ask("/contract")
    await sam.send("I want to grow into a tech lead role within a year.")
    await sam.expect("2/8")
    await sam.press("Situation-driven")
    await sam.expect("3/8")
    await sam.send("30")
    await sam.expect("24 months is the longest")
    await sam.send("9 months")
    for button in (
        "Every 2 weeks",
        "45 minutes",
        "About 2 hours a month",
        "At least 48 hours before",
        "At the end of every meeting",
    ):
        await sam.expect("/8")
        await sam.press(button)
    await sam.expect("version 1")
    await sam.press("✏️ Duration")
    await sam.expect("Now: 9 months")
    await sam.press("12 months")
    review = await sam.expect("version 1")
    assert "12 months" in review.text
    maria.mark_read()
    await sam.press("📨 Send for acceptance")
    card = await maria.expect("has sent you the collaboration contract")

    # The mentor asks for a change; the adept revises and resends; the mentor accepts.
    sam.mark_read()
    await maria.press("Suggest a change", message_id=card.message_id)
    await maria.expect("What would you like to change")
    await maria.send("Let's meet every 3 weeks <please>")
    await maria.expect("suggestion is sent to Sam")
    change = await sam.expect("suggests a change")
    assert "Let's meet every 3 weeks <please>" in change.text
    # The old card's Accept button is stale now.
    maria.mark_read()
    await maria.press("Accept ✅", message_id=card.message_id)
    await maria.expect("replaced or already answered")

    await sam.press("✍️ Revise the draft", message_id=change.message_id)
    await sam.expect("Suggested change")
    await sam.press("✏️ How often")
    await sam.expect("4/8")
    await sam.press("Every 3 weeks")
    await sam.expect("version 1")
    maria.mark_read()
    await sam.press("📨 Send for acceptance")
    card2 = await maria.expect("has sent you the collaboration contract")
    assert "Every 3 weeks" in card2.text
    await maria.press("Accept ✅", message_id=card2.message_id)
    await sam.expect("is now active")
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert (mentorship.state, mentorship.mode) == ("active", "situation")
        contract = (await session.exec(select(Contract))).one()
        assert contract.cadence == "3w" and contract.duration_months == 12

    # A later change needs both again: a new version, the old one stays in force meanwhile.
    await sam.ask("/contract")
    await sam.press("Propose a change")
    await sam.expect("version 2")
    await sam.press("✏️ Meeting length")
    await sam.expect("5/8")
    await sam.press("90 minutes")
    maria.mark_read()
    await sam.press("📨 Send for acceptance")
    card3 = await maria.expect("version 2")
    await maria.press("Accept ✅", message_id=card3.message_id)
    await sam.expect("applies from now on")


async def test_declining_an_invitation_ends_it_kindly(people: People, db: Database) -> None:
    eva, olof = people("Eva", "sv"), people("Olof", "sv")
    await pair(eva, olof, "Jag är adept – bjud in min mentor", "Tacka nej")
    await olof.expect("Du tackade nej")
    told = await eva.expect("Olof har tackat nej")
    assert "/new" in told.text
    async with db.session() as session:
        assert (await session.exec(select(Mentorship.state))).one() == "declined"


async def test_not_continuing_after_the_intro_ends_it_and_keeps_the_reason_private(
    people: People, db: Database
) -> None:
    lisa, karl = people("Lisa", "sv"), people("Karl", "sv")
    await pair(lisa, karl, "Jag är adept – bjud in min mentor", "Tacka ja ✅")
    await lisa.expect("Före mötet")
    karl_guide = await karl.expect("introduktionsmöte med Lisa")
    lisa.mark_read()
    await karl.press("Jag avstår", message_id=karl_guide.message_id)
    await met_outside(karl)
    # Not continuing is asked once more (issue 13); nothing ends before the second press.
    await karl.press("Jag avstår")
    await karl.expect("Är du säker")
    await karl.press("Ja, avsluta mentorskapet")
    await karl.expect("Tack för att du säger som det är")
    told = await lisa.expect("Karl har bestämt sig för att inte fortsätta")
    assert "/new" in told.text
    await karl.send("Vi klickade inte – hemlig anledning 🤫")
    await karl.expect("Sparat, bara för dig")
    await karl.press("Behåll dem för mig själv")
    await karl.expect("Sparat privat")
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert mentorship.state == "ended_early" and mentorship.end_reason == "intro_not_continue"
        reasons = (await session.exec(select(Membership.intro_private_reason))).all()
        assert "Vi klickade inte – hemlig anledning 🤫" in reasons
    assert all("hemlig" not in m.text for m in lisa.messages)
    # Deciding again changes nothing.
    await lisa.ask("/decide")
    assert "inget introduktionsmöte" in lisa.last.text


async def test_a_mentor_with_two_adepts_is_asked_which_one(people: People, db: Database) -> None:
    mentor = people("Gunnel", "sv")
    ada, bo = people("Ada", "sv"), people("Bo", "sv")
    await pair(mentor, ada, "Jag är mentor – bjud in min adept", "Tacka ja ✅")
    await mentor.expect("Ada tackade ja")
    await pair(mentor, bo, "Jag är mentor – bjud in min adept", "Tacka ja ✅")
    await mentor.expect("Bo tackade ja")
    await mentor.expect("introduktionsmöte med Bo")
    async with db.session() as session:
        me = (await session.exec(select(User).where(User.telegram_id == mentor.user_id))).one()
        me.current_mentorship_id = None  # as if nothing was remembered yet
        session.add(me)
    question = await mentor.ask("/decide")
    assert "Vilket menar du" in question.text
    labels = [text for row in question.buttons for text, _ in row]
    assert labels == ["Ada (adept)", "Bo (adept)"]
    await mentor.press("Bo (adept)")
    await met_outside(mentor)
    bo.mark_read()
    await mentor.press("✅ Jag fortsätter")
    await bo.expect("Gunnel har bestämt sig för att fortsätta")
    async with db.session() as session:
        decisions = {
            name: decision
            for name, decision in (
                await session.exec(
                    select(User.first_name, Membership.intro_decision).join(
                        Membership, col(Membership.user_id) == col(User.id)
                    )
                )
            ).all()
        }
    assert decisions["Ada"] is None and decisions["Bo"] is None
    # Now remembered: the next command does not ask again, and /switch changes it.
    assert "Vilket" not in (await mentor.ask("/decide")).text
    await mentor.ask("/switch")
    await mentor.press("Ada (adept)")
    assert "Ada" in (await mentor.expect("från och med nu")).text


async def test_an_undecided_party_is_reminded_once_after_a_few_days(
    people: People, db: Database, clock: TravellingClock, bot_app: object
) -> None:
    from bot import scheduler

    nora, otto = people("Nora", "en"), people("Otto", "en")
    await pair(nora, otto, "I'm the mentee – invite my mentor", "Accept ✅")
    guide = await otto.expect("intro meeting with Nora")
    await nora.expect("Before the meeting")
    nora.mark_read()
    await otto.press("✅ I'll continue", message_id=guide.message_id)
    await met_outside(otto)
    await otto.press("✅ I'll continue")
    await nora.expect("Otto has decided to continue")

    dispatcher = scheduler.installed(bot_app)  # type: ignore[arg-type]
    nora.mark_read()
    otto.mark_read()
    clock.advance(timedelta(days=3))
    await dispatcher.run_once()
    assert await nora.quiet(0.2) == []
    clock.advance(timedelta(days=1, hours=1))
    await dispatcher.run_once()
    reminder = await nora.expect("gentle reminder")
    assert "Otto" in reminder.text and reminder.buttons
    assert not [m for m in await otto.quiet(0.2) if "reminder" in m.text]  # Otto decided
    clock.advance(timedelta(days=7))
    await dispatcher.run_once()
    nora.mark_read()
    assert await nora.quiet(0.2) == []
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Notification).where(Notification.kind == "intro_decision_reminder")
            )
        ).all()
    assert sorted(r.state for r in rows) == ["cancelled", "sent"]
