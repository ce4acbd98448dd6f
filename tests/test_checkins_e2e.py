"""Monthly check-ins through the real bot with a moved clock: the prompt on each
anniversary, four questions, sharing only what the author chooses, one reminder,
none once closing has begun, a restart mid-way, and input that must not hurt."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import col, select

from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.domain import checkins as rules
from bot.sandbox.emulator import SentMessage
from bot.settings import Settings
from bot.usecases.checkins import plan_checkins
from storage import checkins as checkin_store
from storage.db import Database
from storage.models import CheckIn, ConversationState, Mentorship, MentorshipState, Notification
from tests.conftest import TOKEN
from tests.factories import active_pair
from tests.harness import Person
from tests.test_meetings_e2e import travel_to

People = Callable[..., Person]
STOCKHOLM = ZoneInfo("Europe/Stockholm")

SV = {
    "prompt": "Dags för din månadsavstämning",
    "start": "📝 Börja avstämningen",
    "skip": "⏭ Hoppa över",
    "share_question": "Sista steget",
    "private": "🔒 Håll allt privat",
}
EN = {
    "prompt": "Time for your monthly check-in",
    "start": "📝 Start the check-in",
    "skip": "⏭ Skip",
    "share_question": "Last step",
    "private": "🔒 Keep everything private",
}


async def anniversary(db: Database, mentorship_id: int, period: int) -> datetime:
    async with db.session() as session:
        mentorship = await session.get(Mentorship, mentorship_id)
        assert mentorship is not None and mentorship.started_at is not None
        return rules.anniversary(mentorship.started_at, period, STOCKHOLM)


async def plan_at(
    db: Database, clock: TravellingClock, app: AnyApplication, moment: datetime
) -> int:
    """Move the clock, run the hourly planning job's use case, and send what it queued."""
    await travel_to(clock, app, moment)
    async with db.session() as session:
        opened = await plan_checkins(session, now=clock.now())
    await travel_to(clock, app, clock.now())
    return opened


async def answer(
    person: Person,
    prompt: SentMessage,
    words: dict[str, str],
    *,
    works_well: str,
    could_improve: str,
    rating: int,
    note: str | None,
    share: str,
) -> SentMessage:
    """Go through a check-in from its prompt; returns the closing confirmation."""
    await person.press(words["start"], message_id=prompt.message_id)
    await person.expect("1/4")
    await person.send(works_well)
    await person.expect("2/4")
    await person.send(could_improve)
    await person.expect("3/4")
    await person.press(str(rating))
    await person.expect("4/4")
    if note is None:
        await person.press(words["skip"])
    else:
        await person.send(note)
    await person.expect(words["share_question"])
    await person.press(share)
    return await person.expect("✅")


def everything_seen(person: Person) -> str:
    return "\n".join(m.text or m.caption or "" for m in person.messages)


async def checkins(db: Database) -> list[CheckIn]:
    async with db.session() as session:
        rows = await session.exec(
            select(CheckIn).order_by(col(CheckIn.period), col(CheckIn.user_id))
        )
        return list(rows)


async def test_two_monthly_checkins_share_only_what_each_person_chooses(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    pair = await active_pair(db, clock, anna, bertil)
    first = await anniversary(db, pair.mentorship_id, 1)

    # Within the first month nothing is due.
    assert await plan_at(db, clock, bot_app, first - timedelta(hours=2)) == 0
    assert not [m for m in anna.messages if SV["prompt"] in m.text]

    # On the anniversary both are asked, once, however often the job runs.
    assert await plan_at(db, clock, bot_app, first + timedelta(minutes=5)) == 2
    assert await plan_at(db, clock, bot_app, first + timedelta(minutes=65)) == 0
    prompt = await anna.expect(SV["prompt"] + " med Bertil")
    bertil_prompt = await bertil.expect(SV["prompt"] + " med Anna")
    assert len([m for m in anna.messages if SV["prompt"] in m.text]) == 1

    # The adept is asked for feedback to the mentor, and shares only that note.
    await anna.press(SV["start"], message_id=prompt.message_id)
    await anna.expect("1/4")
    await anna.send("ANNA-PRIVAT-1 att Bertil lyssnar utan att döma")
    await anna.expect("2/4")
    await anna.send("ANNA-PRIVAT-2 vi ställer in för ofta")
    await anna.expect("3/4")
    await anna.press("2")
    note_question = await anna.expect("4/4")
    assert "din mentor" in note_question.text and "återkoppling" in note_question.text
    await anna.send("ANNA-FEEDBACK du får gärna utmana mig mer")
    choice = await anna.expect(SV["share_question"])
    labels = [text for row in choice.buttons for text, _ in row]
    assert labels == [
        "👥 Dela mina svar med Bertil",
        "💬 Dela bara mina rader",
        SV["private"],
    ]
    bertil.mark_read()
    await anna.press("💬 Dela bara mina rader")
    await anna.expect("Bertil får dina rader")
    shared = await bertil.expect("Anna har delat sin månadsavstämning med dig")
    assert "Återkoppling från Anna till dig som mentor" in shared.text
    assert "ANNA-FEEDBACK du får gärna utmana mig mer" in shared.text
    assert "ANNA-PRIVAT" not in shared.text and "2/5" not in shared.text

    # The mentor is invited to give feedback too; he skips the note and shares his answers.
    anna.mark_read()
    await bertil.press(SV["start"], message_id=bertil_prompt.message_id)
    await bertil.expect("1/4")
    await bertil.send("BERTIL-DELAT-1 Anna kommer väl förberedd")
    await bertil.expect("2/4")
    await bertil.send("BERTIL-DELAT-2 fler konkreta uppgifter mellan mötena")
    await bertil.expect("3/4")
    await bertil.press("4")
    mentor_note = await bertil.expect("4/4")
    assert "Återkoppling går åt båda hållen" in mentor_note.text
    await bertil.press(SV["skip"])
    choice = await bertil.expect(SV["share_question"])
    assert [text for row in choice.buttons for text, _ in row] == [
        "👥 Dela mina svar med Anna",
        SV["private"],
    ], "without a note there is no note to share"
    await bertil.press("👥 Dela mina svar med Anna")
    from_mentor = await anna.expect("Bertil har delat sin månadsavstämning med dig")
    assert "BERTIL-DELAT-1" in from_mentor.text and "BERTIL-DELAT-2" in from_mentor.text
    assert "4/5" in from_mentor.text

    # A month later: the adept keeps everything private, the mentor shares all with a note.
    second = await anniversary(db, pair.mentorship_id, 2)
    assert await plan_at(db, clock, bot_app, second + timedelta(minutes=1)) == 2
    prompt = await anna.expect(SV["prompt"])
    bertil_prompt = await bertil.expect(SV["prompt"])
    bertil.mark_read()
    done = await answer(
        anna,
        prompt,
        SV,
        works_well="ANNA-PRIVAT-3 tryggheten",
        could_improve="ANNA-PRIVAT-4 tempot",
        rating=5,
        note="ANNA-PRIVAT-5 tack",
        share=SV["private"],
    )
    assert "inget delas med Bertil" in done.text
    anna.mark_read()
    await answer(
        bertil,
        bertil_prompt,
        SV,
        works_well="BERTIL-DELAT-3",
        could_improve="BERTIL-DELAT-4",
        rating=5,
        note="BERTIL-NOT fortsätt så!",
        share="👥 Dela mina svar med Anna",
    )
    from_mentor = await anna.expect("(månad 2)")
    assert "Några rader från Bertil, din mentor" in from_mentor.text
    assert "BERTIL-NOT fortsätt så!" in from_mentor.text

    # Whatever Anna kept private never reached Bertil, anywhere.
    await travel_to(clock, bot_app, clock.now() + timedelta(days=4))
    seen_by_bertil = everything_seen(bertil)
    assert "ANNA-PRIVAT" not in seen_by_bertil
    assert "ANNA-FEEDBACK" in seen_by_bertil
    rows = await checkins(db)
    assert [(r.period, r.rating, r.shared, r.note_shared) for r in rows] == [
        (1, 2, False, True),
        (1, 4, True, False),
        (2, 5, False, False),
        (2, 5, True, True),
    ]
    assert all(r.answered_at is not None for r in rows)
    assert rows[0].works_well == "ANNA-PRIVAT-1 att Bertil lyssnar utan att döma"
    assert rows[1].note_to_partner == rules.NO_NOTE


async def test_one_reminder_after_three_days_and_none_after_answering(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    pair = await active_pair(db, clock, sam, maria)
    due = await anniversary(db, pair.mentorship_id, 1)
    await plan_at(db, clock, bot_app, due)
    await sam.expect(EN["prompt"] + " with Maria")
    prompt = await maria.expect(EN["prompt"] + " with Sam")

    # Maria answers straight away and keeps it to herself.
    await answer(
        maria,
        prompt,
        EN,
        works_well="Sam follows up on what we agree",
        could_improve="More time between meetings",
        rating=4,
        note=None,
        share=EN["private"],
    )
    sam.mark_read()
    maria.mark_read()
    await plan_at(db, clock, bot_app, due + timedelta(days=3, minutes=1))
    reminder = await sam.expect("A gentle reminder")
    assert "Maria" in reminder.text and reminder.buttons
    await plan_at(db, clock, bot_app, due + timedelta(days=9))
    await plan_at(db, clock, bot_app, due + timedelta(days=20))
    assert len([m for m in sam.messages if "A gentle reminder" in m.text]) == 1
    assert not [m for m in maria.messages if "A gentle reminder" in m.text]
    assert not [m for m in sam.messages if "Maria has shared" in m.text]

    # /checkin answers the open one at any time, and says kindly when there is none.
    none_left = await maria.ask("/checkin")
    assert "no check-in waiting" in none_left.text
    await sam.ask("/checkin")
    await sam.expect("1/4")
    await sam.send("Maria asks the questions I avoid")
    await sam.expect("2/4")
    async with db.session() as session:
        kinds = {
            (n.kind, n.state)
            for n in await session.exec(
                select(Notification).where(col(Notification.kind).startswith("checkin_"))
            )
        }
    assert kinds == {
        ("checkin_prompt", "sent"),
        ("checkin_reminder", "sent"),
        ("checkin_reminder", "cancelled"),
    }


async def test_no_checkins_or_reminders_once_closing_has_begun(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    eva, olof = people("Eva", "sv"), people("Olof", "sv")
    pair = await active_pair(db, clock, eva, olof)
    due = await anniversary(db, pair.mentorship_id, 1)
    await plan_at(db, clock, bot_app, due)
    await eva.expect(SV["prompt"])
    await olof.expect(SV["prompt"])
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None
        mentorship.state = MentorshipState.CLOSING
        session.add(mentorship)
    eva.mark_read()
    olof.mark_read()
    await plan_at(db, clock, bot_app, due + timedelta(days=3, hours=1))
    next_month = await anniversary(db, pair.mentorship_id, 2)
    assert await plan_at(db, clock, bot_app, next_month + timedelta(hours=1)) == 0
    for person in (eva, olof):
        assert not [m for m in await person.quiet(0.2) if "påminnelse" in m.text]
        assert not [m for m in person.messages if "(månad 2)" in m.text]
    async with db.session() as session:
        reminders = list(
            await session.exec(select(Notification).where(Notification.kind == "checkin_reminder"))
        )
    assert [r.state for r in reminders] == ["cancelled", "cancelled"]
    assert len(await checkins(db)) == 2


async def test_a_restart_mid_checkin_resumes_at_the_same_question(
    people: People,
    db: Database,
    clock: TravellingClock,
    bot_app: AnyApplication,
    make_settings: Callable[..., Settings],
    database_url: str,
) -> None:
    kim, lo = people("Kim", "en"), people("Lo", "en")
    pair = await active_pair(db, clock, kim, lo)
    await plan_at(db, clock, bot_app, await anniversary(db, pair.mentorship_id, 1))
    prompt = await kim.expect(EN["prompt"])
    await kim.press(EN["start"], message_id=prompt.message_id)
    await kim.expect("1/4")
    await kim.send("We laugh a lot, and still get things done")
    await kim.expect("2/4")

    # The step was stored before the question was shown, with the answer before it.
    async with db.session() as session:
        stored = (
            await session.exec(
                select(ConversationState).where(ConversationState.name == "checkins")
            )
        ).one()
        assert json.loads(stored.state) == "could_improve"
        assert json.loads(stored.key) == [kim.user_id, kim.user_id]
        [row, _] = list(await session.exec(select(CheckIn).order_by(col(CheckIn.user_id))))
        assert row.works_well == "We laugh a lot, and still get things done"

    # A new process against the same database takes the next answer as the second one.
    assert bot_app.updater is not None
    await bot_app.updater.stop()
    restarted = build_application(
        make_settings(), token=TOKEN, database=Database(database_url), clock=clock
    )
    try:
        await restarted.initialize()
        await restarted.start()
        assert restarted.updater is not None
        await restarted.updater.start_polling(poll_interval=0, timeout=10)
        await kim.send("Shorter agendas")
        await kim.expect("3/4")
        await kim.press("5")
        await kim.expect("4/4")
    finally:
        if restarted.updater is not None and restarted.updater.running:
            await restarted.updater.stop()
        if restarted.running:
            await restarted.stop()
        await restarted.shutdown()
        await bot_app.updater.start_polling(poll_interval=0, timeout=10)
    [row, _] = await checkins(db)
    assert (row.could_improve, row.rating, row.answered_at) == ("Shorter agendas", 5, None)

    # /checkin after a pause resumes at the first unanswered question.
    await kim.ask("/cancel")
    await kim.ask("/checkin")
    await kim.expect("4/4")


async def test_bad_input_long_and_html_answers_and_forged_buttons(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    anna, bertil, mallory = people("Anna", "sv"), people("Bertil", "sv"), people("Mallory", "en")
    pair = await active_pair(db, clock, anna, bertil)
    await plan_at(db, clock, bot_app, await anniversary(db, pair.mentorship_id, 1))
    prompt = await anna.expect(SV["prompt"])
    await anna.press(SV["start"], message_id=prompt.message_id)
    await anna.expect("1/4")

    # A 5,000-character answer is stored whole.
    words = [f"ord{index:04d}" for index in range(715)]
    long_text = " ".join(words)[:4999] + "!"
    assert len(long_text) == 5000
    await anna.send(long_text)
    await anna.expect("2/4")
    html_like = "<b>fet</b> & <script>alert(1)</script> <a href='x'>länk</a>"
    await anna.send(html_like)
    await anna.expect("3/4")

    # A rating typed as words is refused kindly and the question stays open.
    refusal = await anna.ask("fyra")
    assert "Välj ett betyg från 1 till 5" in refusal.text
    assert [text for row in refusal.buttons for text, _ in row] == ["1", "2", "3", "4", "5"]
    # Her own button forged for Bertil's check-in is stale and leaves her at the question.
    [anna_row, bertil_row] = await checkins(db)
    query = await anna.press_data(refusal.message_id, f"ci:rate:{bertil_row.id}:1")
    await anna.callback_answer(query)
    await anna.expect("Den knappen gäller inte längre")
    assert [r.rating for r in await checkins(db)] == [None, None]
    await anna.send("4")
    await anna.expect("4/4")
    await anna.send("Tack för <i>allt</i> &amp; lite till")
    await anna.expect(SV["share_question"])

    # A third person's forged buttons change nothing and reveal nothing.
    [anna_row, bertil_row] = await checkins(db)
    await mallory.ask("/start")

    async def state() -> tuple[object, ...]:
        async with db.session() as session:
            outbox = (await session.exec(select(func.count()).select_from(Notification))).one()
            rows = [
                (
                    r.works_well,
                    r.could_improve,
                    r.rating,
                    r.note_to_partner,
                    r.shared,
                    r.answered_at,
                )
                for r in await session.exec(select(CheckIn).order_by(col(CheckIn.id)))
            ]
            steps = (await session.exec(select(ConversationState.state))).all()
        return outbox, rows, sorted(steps)

    before = await state()
    for data in (
        f"ci:go:{anna_row.id}",
        f"ci:go:{bertil_row.id}",
        f"ci:rate:{anna_row.id}:1",
        f"ci:skip:{anna_row.id}",
        f"ci:share:{anna_row.id}:all",
        f"ci:share:{bertil_row.id}:none",
    ):
        query = await mallory.press_data(mallory.last.message_id, data)
        await mallory.callback_answer(query)
        await mallory.quiet(0.05)
    # The partner cannot open Anna's check-in either.
    query = await bertil.press_data(bertil.messages[-1].message_id, f"ci:go:{anna_row.id}")
    await bertil.callback_answer(query)
    await bertil.quiet(0.05)
    assert await state() == before
    assert all("Anna" not in m.text and "Bertil" not in m.text for m in mallory.messages)
    assert "ord0001" not in everything_seen(bertil)

    # Shared, the long and HTML-like answers reach Bertil whole, split and shown literally.
    bertil.mark_read()
    earlier = len(bertil.messages)
    await anna.press("👥 Dela mina svar med Bertil")
    await bertil.expect("Anna har delat sin månadsavstämning")
    await bertil.expect("Din egen avstämning")
    pieces = bertil.messages[earlier:]
    assert len(pieces) >= 2 and all(len(m.text) <= 4096 for m in pieces)
    shown = "\n".join(m.text for m in pieces)
    start = shown.split().index(words[0])
    assert shown.split()[start : start + len(long_text.split())] == long_text.split()
    assert html_like in shown
    assert "Tack för <i>allt</i> &amp; lite till" in shown
    async with db.session() as session:
        stored = await session.get(CheckIn, anna_row.id)
        assert stored is not None
        assert (stored.works_well, stored.could_improve) == (long_text, html_like)

    # The finished check-in's buttons are stale now: pressing again changes nothing.
    before = await state()
    await anna.press("👥 Dela mina svar med Bertil")
    await anna.quiet(0.2)
    assert await state() == before


async def test_a_period_is_opened_once_even_when_two_planners_race(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    ida, jon = people("Ida", "sv"), people("Jon", "sv")
    pair = await active_pair(db, clock, ida, jon)
    moment = await anniversary(db, pair.mentorship_id, 1) + timedelta(minutes=1)
    assert pair.adept.id is not None
    async with db.session() as session:
        assert await plan_checkins(session, now=moment) == 2
        # What a second process finds when it inserts the same period a moment later.
        late = await checkin_store.open_period(
            session,
            mentorship_id=pair.mentorship_id,
            user_id=pair.adept.id,
            period=1,
            due_at=moment,
        )
        assert late is None
    async with db.session() as session:
        assert await plan_checkins(session, now=moment) == 0
        prompts = (
            await session.exec(
                select(func.count())
                .select_from(Notification)
                .where(Notification.kind == "checkin_prompt")
            )
        ).one()
    assert prompts == 2 and len(await checkins(db)) == 2


async def test_a_typed_answer_to_a_replaced_checkin_ends_the_questions_but_a_press_does_not(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    kim, lo = people("Kim", "en"), people("Lo", "en")
    pair = await active_pair(db, clock, kim, lo)
    await plan_at(db, clock, bot_app, await anniversary(db, pair.mentorship_id, 1))
    prompt = await kim.expect(EN["prompt"])
    await kim.press(EN["start"], message_id=prompt.message_id)
    await kim.expect("1/4")
    await kim.send("We laugh a lot")
    await kim.expect("2/4")

    # A month passes and a new check-in replaces the one Kim is answering.
    await plan_at(db, clock, bot_app, await anniversary(db, pair.mentorship_id, 2))
    second = await kim.expect("(month 2)")
    # The old prompt's button is explained and changes nothing: Kim is still at 2/4.
    await kim.press(EN["start"], message_id=prompt.message_id)
    await kim.expect("replaced")
    async with db.session() as session:
        steps = (
            await session.exec(
                select(ConversationState.state).where(ConversationState.name == "checkins")
            )
        ).all()
    assert [json.loads(state) for state in steps] == ["could_improve"]

    # A typed answer to the replaced check-in is explained, and the questions end.
    await kim.send("Shorter agendas")
    await kim.expect("replaced")
    async with db.session() as session:
        steps = (
            await session.exec(
                select(ConversationState.state).where(ConversationState.name == "checkins")
            )
        ).all()
    assert steps == []
    [replaced] = [r for r in await checkins(db) if r.period == 1 and r.user_id == pair.adept.id]
    assert (replaced.works_well, replaced.could_improve) == ("We laugh a lot", None)

    # The new check-in starts from its own first question.
    await kim.press(EN["start"], message_id=second.message_id)
    await kim.expect("1/4")
