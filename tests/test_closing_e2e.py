"""Closing on time, ending early for each reason, extending, and the look-back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from bot import lookback
from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.usecases.closing import plan_closing
from storage.db import Database
from storage.models import (
    CheckIn,
    ClosingFeedback,
    DiaryEntry,
    Goal,
    GoalRevision,
    Mentorship,
    Notification,
)
from tests.conftest import COORDINATOR
from tests.factories import ActivePair, active_pair
from tests.harness import Person
from tests.test_meetings_e2e import STOCKHOLM, in_days, travel_to
from tests.test_unit_of_work import MAX_COMMITS, answer_counted

People = Callable[..., Person]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def _history(db: Database, pair: ActivePair, clock: TravellingClock) -> None:
    """What months of mentoring leave behind: a goal, check-ins, diary entries."""
    now = clock.now()
    async with db.session() as session:
        goal = Goal(
            mentorship_id=pair.mentorship_id,
            owner_id=pair.adept.id or 0,
            kind="adept",
            state="accepted",
            current_version=1,
            progress_percent=80,
        )
        session.add(goal)
        await session.flush()
        session.add(
            GoalRevision(
                goal_id=goal.id or 0,
                version=1,
                specific="Leda mitt första teammöte",
                author_id=pair.adept.id or 0,
            )
        )
        for period, (adept_rating, mentor_rating) in enumerate([(3, 4), (4, 4), (5, 5)], 1):
            for user, rating in ((pair.adept, adept_rating), (pair.mentor, mentor_rating)):
                session.add(
                    CheckIn(
                        mentorship_id=pair.mentorship_id,
                        user_id=user.id or 0,
                        period=period,
                        due_at=now - timedelta(days=30 * (4 - period)),
                        answered_at=now - timedelta(days=30 * (4 - period)),
                        rating=rating,
                        shared=True,
                        note_shared=True,
                        note_to_partner=f"Tack för månad {period}" if user is pair.adept else None,
                    )
                )
        # A rating the mentor kept private: it must never reach the adept's chart.
        session.add(
            CheckIn(
                mentorship_id=pair.mentorship_id,
                user_id=pair.mentor.id or 0,
                period=4,
                due_at=now,
                answered_at=now,
                rating=1,
                shared=False,
            )
        )
        session.add(
            DiaryEntry(
                author_id=pair.adept.id or 0,
                mentorship_id=pair.mentorship_id,
                visibility="shared",
                text="Delad insikt: fråga mer, prata mindre",
            )
        )
        session.add(
            DiaryEntry(
                author_id=pair.mentor.id or 0,
                mentorship_id=pair.mentorship_id,
                visibility="private",
                text="HEMLIG mentoranteckning",
            )
        )


async def _answer_feedback(person: Person, *, share: bool, goal_button: str | None) -> None:
    if goal_button:
        await person.expect("Tillbakablick på målen")
        await person.press(goal_button)
    await person.expect("mest värdefulla")
    await person.send(f"{person.first_name}: samtalen & <struktur>")
    await person.expect("kunnat bli bättre")
    await person.send("Fler möten tidigt")
    await person.expect("betygsätta hela mentorskapet")
    await person.press("5")
    await person.expect("hålla kontakten")
    await person.press("Ja")
    await person.expect("Sista frågan")
    await person.press("Ja" if share else "Nej")


async def test_closing_on_time_in_the_handbooks_order_ends_in_a_look_back_for_both(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    """Changed with issue 13: the closing meeting first (booked from the prompt, its
    reminders kept), written feedback asked after it, then the look-back for both."""
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    pair = await active_pair(db, clock, anna, bertil)
    await _history(db, pair, clock)
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None and mentorship.planned_end is not None
        planned_end = mentorship.planned_end

    # Four weeks before the planned end the adept is prompted to book the closing meeting.
    prompt_day = planned_end - timedelta(weeks=4)
    await travel_to(
        clock,
        bot_app,
        datetime(prompt_day.year, prompt_day.month, prompt_day.day, 10, tzinfo=STOCKHOLM),
    )
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
    await travel_to(clock, bot_app, clock.now())
    prompt = await anna.expect("Fyra veckor kvar")
    await anna.press("📅 Boka avslutningsmötet", message_id=prompt.message_id)
    start = in_days(clock, 4, 14)
    await anna.expect("Boka ett möte")
    await anna.send(start.strftime("%Y-%m-%d %H:%M"))
    await anna.expect("min")
    await anna.press("60 min")
    await anna.expect("Var?")
    bertil.mark_read()
    await anna.press("📹 Videosamtal")
    request = await bertil.expect("Anna föreslår ett möte")
    anna.mark_read()
    await bertil.press("Bekräfta ✅", message_id=request.message_id)
    await anna.expect("Möte bekräftat")

    await anna.ask("/close")
    bertil.mark_read()
    await anna.press("🏁 Börja avsluta")
    await anna.expect("Avslutningen har börjat")
    booked = await anna.expect("Ert avslutningsmöte med Bertil är")
    assert "14:00" in booked.text
    await bertil.expect("Anna har börjat avsluta")
    # /close before the meeting says when it is, instead of asking for feedback now.
    assert "Ert avslutningsmöte med Anna är" in (await bertil.ask("/close")).text

    # The closing meeting's reminders are kept, and no feedback is asked before it.
    anna.mark_read()
    bertil.mark_read()
    await travel_to(clock, bot_app, start - timedelta(hours=24))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
    await anna.expect("I morgon: ert möte med Bertil")
    await bertil.expect("I morgon: ert möte med Anna")
    assert not [m for m in await anna.quiet(0.2) if "Tack för avslutningsmötet" in m.text]

    # After it, both are asked for written feedback (instead of the meeting's evaluation).
    anna.mark_read()
    bertil.mark_read()
    await travel_to(clock, bot_app, start + timedelta(minutes=61))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
    await travel_to(clock, bot_app, clock.now())
    asked = await anna.expect("Tack för avslutningsmötet med Bertil")
    await bertil.expect("Tack för avslutningsmötet med Anna")
    assert not [m for m in anna.messages if "Hur gick mötet" in m.text]
    await anna.press("📝 Ge avslutande återkoppling", message_id=asked.message_id)
    await _answer_feedback(anna, share=True, goal_button="Uppnått ✅")
    await anna.expect("sparad och delad")
    shared = await bertil.expect("Avslutande återkoppling från Anna")
    assert "Anna: samtalen & <struktur>" in shared.text

    anna.mark_read()
    await bertil.ask("/close")
    await _answer_feedback(bertil, share=False, goal_button="Delvis")
    await bertil.expect("stannar hos dig")
    assert not [m for m in await anna.quiet(0.3) if "Bertil: samtalen" in m.text]
    # Both answered: closed, and the look-back goes to both.
    for person in (anna, bertil):
        # The first look-back draws a chart: slow on a busy machine.
        summary = await person.expect("Tillbakablick på ditt mentorskap", timeout=20)
        assert "Leda mitt första teammöte" in summary.text
        chart = await person.expect("betygsatte samarbetet")
        assert chart.photo is not None and chart.photo.startswith(PNG_SIGNATURE)
        document = await person.expect("dokument att spara")
        assert document.document is not None
        page = document.document.data.decode()
        assert "<img" in page and "HEMLIG" not in page
    anna_page = (await anna.expect("dokument att spara")).document
    assert anna_page is not None
    assert "Delad insikt: fråga mer, prata mindre" in anna_page.data.decode()
    anna_summary = (await anna.expect("Tillbakablick")).text
    # The closing meeting took place (feedback followed it); a goal she calls reached
    # reads as reached, not as the 80 % last noted.
    assert "Genomförda möten: 1 " in anna_summary, anna_summary
    assert "100 %" in anna_summary and "Uppnått" in anna_summary, anna_summary
    bertil_summary = (await bertil.expect("Tillbakablick")).text
    assert "80 %" in bertil_summary and "Delvis" in bertil_summary, bertil_summary
    async with db.session() as session:
        closed = await session.get(Mentorship, pair.mentorship_id)
        assert closed is not None and closed.state == "closed"
        pending = (
            await session.exec(
                select(Notification).where(
                    Notification.mentorship_id == pair.mentorship_id,
                    Notification.state == "pending",
                )
            )
        ).all()
        assert not pending
        # The chart is fed exactly the stored ratings, per person and in order.
        summary = await lookback.gather(
            session, mentorship_id=pair.mentorship_id, user=pair.adept, now=clock.now()
        )
        mentor_view = await lookback.gather(
            session, mentorship_id=pair.mentorship_id, user=pair.mentor, now=clock.now()
        )
    assert summary is not None and mentor_view is not None
    assert [r for _, r in summary.ratings["Anna"]] == [3, 4, 5]
    assert [r for _, r in summary.ratings["Bertil"]] == [4, 4, 5]
    assert [r for _, r in mentor_view.ratings["Bertil"]] == [4, 4, 5, 1]


async def test_closing_closes_by_itself_after_two_weeks(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await maria.expect("Sam has started closing")
    await travel_to(clock, bot_app, clock.now() + timedelta(days=13))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
        assert (await session.get(Mentorship, pair.mentorship_id)).state == "closing"  # type: ignore[union-attr]
    await travel_to(clock, bot_app, clock.now() + timedelta(days=2))
    async with db.session() as session:
        await plan_closing(session, now=clock.now(), zone=STOCKHOLM)
    await travel_to(clock, bot_app, clock.now())
    await sam.expect("Looking back on your mentorship with Maria")
    await maria.expect("Looking back on your mentorship with Sam")
    async with db.session() as session:
        assert (await session.get(Mentorship, pair.mentorship_id)).state == "closed"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("reason_button", "reason"),
    [
        ("Vi passar inte ihop", "chemistry"),
        ("Mina arbetsförhållanden har ändrats", "conditions"),
        ("Sekretessen har brutits", "confidentiality"),
        ("Annan anledning", "other"),
    ],
)
async def test_ending_early_for_each_reason_keeps_the_reason_private(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    reason_button: str,
    reason: str,
) -> None:
    lisa, karl = people("Lisa", "sv"), people("Karl", "sv")
    pair = await active_pair(db, clock, lisa, karl)
    await karl.ask("/end")
    await karl.press("Ja, vi har pratat")
    await karl.expect("Vad är det främsta skälet")
    await karl.press(reason_button)
    await karl.expect("Vill du avsluta mentorskapet med Lisa nu")
    lisa.mark_read()
    await karl.press("Ja, avsluta")
    ended = await karl.expect("är avslutat")
    assert ("112" in ended.text and COORDINATOR in ended.text) == (reason == "confidentiality")
    notice = await lisa.expect("Karl har valt att avsluta")
    assert reason_button not in notice.text
    assert all(reason_button not in m.text for m in lisa.messages)
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None
        assert (mentorship.state, mentorship.end_reason) == ("ended_early", reason)

    # Both are still invited to give closing feedback.
    await lisa.press("📝 Ge avslutande återkoppling", message_id=notice.message_id)
    await lisa.expect("mest värdefulla")
    await lisa.send("Att vi försökte")
    await lisa.expect("kunnat bli bättre")
    async with db.session() as session:
        feedback = (await session.exec(select(ClosingFeedback))).one()
    assert feedback.most_valuable == "Att vi försökte"
    # Ending twice is explained, not repeated.
    assert "inget pågående mentorskap" in (await karl.ask("/end")).text


async def test_both_agree_to_extend_the_planned_end(
    people: People, db: Database, clock: TravellingClock
) -> None:
    ida, jon = people("Ida", "en"), people("Jon", "en")
    pair = await active_pair(db, clock, ida, jon)
    async with db.session() as session:
        before = (await session.get(Mentorship, pair.mentorship_id)).planned_end  # type: ignore[union-attr]
    await ida.ask("/extend")
    await ida.press("2 months")
    await ida.expect("I've asked whether you can continue")
    proposal = await jon.expect("Ida would like to extend")
    agree = next(data for text, data in proposal.buttons[0] if text == "Agree ✅")
    await jon.press("Agree ✅", message_id=proposal.message_id)
    await ida.expect("You've both agreed")
    await jon.expect("You've both agreed")
    async with db.session() as session:
        after = (await session.get(Mentorship, pair.mentorship_id)).planned_end  # type: ignore[union-attr]
    assert before is not None and after is not None and (after - before).days in range(59, 63)
    # The old proposal cannot be accepted twice.
    assert agree is not None
    await jon.press_data(proposal.message_id, agree)
    await jon.expect("no longer applies")


async def _goals(db: Database, pair: ActivePair, *titles: str) -> None:
    """Goals the adept sent to the mentor, each worth an outcome at the end."""
    async with db.session() as session:
        for title in titles:
            goal = Goal(
                mentorship_id=pair.mentorship_id,
                owner_id=pair.adept.id or 0,
                kind="adept",
                state="accepted",
                current_version=1,
            )
            session.add(goal)
            await session.flush()
            session.add(
                GoalRevision(
                    goal_id=goal.id or 0, version=1, specific=title, author_id=pair.adept.id or 0
                )
            )


async def _answer_in_english(person: Person, *, share: bool) -> None:
    await person.expect("most valuable")
    await person.send("The talks")
    await person.expect("could have been better")
    await person.send("More meetings early on")
    await person.expect("rate the whole mentorship")
    await person.press("5")
    await person.expect("stay in touch")
    await person.press("Yes")
    await person.expect("Last question")
    await person.press("Yes" if share else "No")


async def test_the_second_to_submit_is_told_their_feedback_is_complete(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await sam.press("📝 Give closing feedback")
    await _answer_in_english(sam, share=True)
    await sam.expect("Your closing feedback is complete")

    # Maria's answer closes the mentorship; she is thanked, not told closing has not begun.
    await maria.expect("Sam has started closing")
    assert "Sam books the closing meeting" in (await maria.ask("/close")).text
    await maria.press("📝 Give closing feedback")
    await _answer_in_english(maria, share=False)
    await maria.expect("stays with you")
    await maria.expect("Your closing feedback is complete")
    await maria.expect("Looking back on your mentorship with Sam")
    assert not [m for m in maria.messages if "You can give closing feedback once" in m.text]
    async with db.session() as session:
        closed = await session.get(Mentorship, pair.mentorship_id)
        assert closed is not None and closed.state == "closed"


async def test_an_old_goal_button_is_explained_and_the_open_question_asked_again(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    await _goals(db, pair, "Lead my first team meeting", "Write the quarterly plan")
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await sam.press("📝 Give closing feedback")
    first = await sam.expect("Lead my first team meeting")
    await sam.press("Reached ✅", message_id=first.message_id)
    await sam.expect("Write the quarterly plan")

    # The first goal's button again: nothing changes, and the second goal is asked again.
    await sam.press("Partly", message_id=first.message_id)
    await sam.expect("That button no longer applies")
    again = await sam.expect("Write the quarterly plan")
    assert again.buttons
    await sam.press("Partly", message_id=again.message_id)
    await sam.expect("most valuable")

    # An answer that is too long is explained, and the same question stays open.
    await sam.send("x" * 4001)
    await sam.expect("please keep it under 4000")
    await sam.send("The talks")
    await sam.expect("could have been better")
    async with db.session() as session:
        feedback = (await session.exec(select(ClosingFeedback))).one()
    assert sorted(feedback.goal_outcomes.values()) == ["partly", "reached"]
    assert feedback.most_valuable == "The talks"


async def test_a_feedback_answer_reads_the_feedback_once_in_one_unit_of_work(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await active_pair(db, clock, sam, maria)
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await sam.press("📝 Give closing feedback")
    await sam.expect("most valuable")
    await maria.expect("Sam has started closing")
    await maria.quiet(0.2)
    counted = await answer_counted(sam, "The talks", "could have been better", bot_app, db)
    # The outbox dispatcher runs in its own task; only this update's statements count here.
    mine = [sql for sql in counted.sql if "outbox" not in sql]
    assert len([sql for sql in mine if sql.startswith("SELECT closing_feedback.")]) == 1, mine
    assert len([sql for sql in mine if sql.startswith("SELECT mentorships.")]) == 1, mine
    assert not [sql for sql in mine if "SAVEPOINT" in sql], mine
    assert 1 <= counted.commits <= MAX_COMMITS, counted
