"""Signals through the real bot with a moved clock, in Swedish and English: a typed
rating, the private chemistry check after the second meeting, a meeting called off
inside the agreed notice, a low-rated check-in offering support, and /support's path
for worry about the other person, the code of conduct and /roles."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import col, select

from bot.app import AnyApplication
from bot.clock import TravellingClock
from bot.settings import Settings
from bot.usecases.signals import CHEMISTRY_KIND, plan_chemistry
from conversations.help import conduct_text
from storage.db import Database
from storage.models import MeetingEvaluation, Notification
from tests.factories import active_pair
from tests.harness import Person
from tests.test_checkins_e2e import EN, SV, anniversary, answer, plan_at
from tests.test_meetings_e2e import book, in_days, travel_to
from tests.test_pairing_e2e import pair

People = Callable[..., Person]

WORDS = {
    "sv": {
        "place": "Bestäm senare",
        "proposes": "föreslår ett möte",
        "confirm": "Bekräfta ✅",
        "confirmed": "Möte bekräftat",
        "how_was_it": "Hur gick mötet med",
        "look_back": "Se tillbaka på mötet",
        "ask_share": "Vill du att Bertil får se vad du skrev",
        "keep": "🔒 Behåll för mig själv",
        "thanks": "privata dagbok",
        "chemistry": "Hur känns det med",
        "good": "😊 Det fungerar bra",
        "end": "🚪 Jag vill hellre inte fortsätta",
        "good_reply": "Vad roligt att höra",
        "end_reply": "respektfullt val",
        "coordinator": "programansvarig",
        "cancelled": "är inställt",
        "short_notice": "senare än ni kom överens om",
        "low": "tung månad",
        "worried": "😟 Jag är orolig för den andra",
        "worried_reply": "Orolig för någon?",
        "conduct": "🤝 Uppförandekod",
        "conduct_reply": "Bemöt varandra med respekt",
        "roles": "Vem gör vad i ett mentorskap",
    },
    "en": {
        "place": "Decide later",
        "proposes": "proposes a meeting",
        "confirm": "Confirm ✅",
        "confirmed": "Meeting confirmed",
        "how_was_it": "How did your meeting with",
        "look_back": "Look back on the meeting",
        "ask_share": "Would you like Maria to see what you wrote",
        "keep": "🔒 Keep it to myself",
        "thanks": "private diary",
        "chemistry": "How does it feel with",
        "good": "😊 It works well",
        "end": "🚪 I'd rather not continue",
        "good_reply": "Lovely to hear",
        "end_reply": "respectful choice",
        "coordinator": "programme coordinator",
        "cancelled": "is cancelled",
        "short_notice": "later than your contract says",
        "low": "heavy going",
        "worried": "😟 I'm worried about my mentor or mentee",
        "worried_reply": "Worried about someone?",
        "conduct": "🤝 Code of conduct",
        "conduct_reply": "Treat each other with respect",
        "roles": "Who does what in a mentorship",
    },
}


async def hold_meeting(
    adept: Person, mentor: Person, clock: TravellingClock, app: AnyApplication, start: datetime
) -> None:
    """Book `start`, have it confirmed and let it pass (the evaluation prompts arrive)."""
    words = WORDS[adept.language_code or "sv"]
    await book(adept, mentor, start, words["place"])
    request = await mentor.expect(words["proposes"])
    adept.mark_read()
    await mentor.press(words["confirm"], message_id=request.message_id)
    await adept.expect(words["confirmed"])
    adept.mark_read()
    mentor.mark_read()
    await travel_to(clock, app, start + timedelta(minutes=61))
    await adept.expect(words["how_was_it"])


async def chemistry_rows(db: Database) -> list[Notification]:
    async with db.session() as session:
        rows = await session.exec(
            select(Notification).where(col(Notification.kind) == CHEMISTRY_KIND)
        )
        return list(rows)


async def signals_scenario(
    language: str, people: People, db: Database, clock: TravellingClock, app: AnyApplication
) -> None:
    words = WORDS[language]
    adept, mentor = (
        (people("Anna", "sv"), people("Bertil", "sv"))
        if language == "sv"
        else (people("Sam", "en"), people("Maria", "en"))
    )
    pair = await active_pair(db, clock, adept, mentor)

    # The first meeting; its rating is typed, not pressed, and taken as it is.
    first = in_days(clock, 2, 10)
    await hold_meeting(adept, mentor, clock, app, first)
    prompt = await adept.expect(words["how_was_it"])
    await adept.press(words["look_back"], message_id=prompt.message_id)
    await adept.expect("1/3")
    await adept.send("Att bli lyssnad på" if language == "sv" else "Being listened to")
    await adept.expect("2/3")
    await adept.send("Skriva ner mina mål" if language == "sv" else "Write down my goals")
    await adept.expect("3/3")
    await adept.send("4")
    await adept.expect(words["ask_share"])
    await adept.press(words["keep"])
    await adept.expect(words["thanks"])
    async with db.session() as session:
        rated = (await session.exec(select(MeetingEvaluation))).one()
        assert rated.rating == 4

    # No chemistry check after one meeting, nor on the day of the second.
    async with db.session() as session:
        assert await plan_chemistry(session, now=clock.now()) == 0
    second = in_days(clock, 9, 10)
    await hold_meeting(adept, mentor, clock, app, second)
    async with db.session() as session:
        assert await plan_chemistry(session, now=clock.now()) == 0

    # A day after the second meeting each is asked privately, once however often it runs.
    await travel_to(clock, app, second + timedelta(days=1, hours=2))
    adept.mark_read()
    mentor.mark_read()
    async with db.session() as session:
        assert await plan_chemistry(session, now=clock.now()) == 2
    async with db.session() as session:
        assert await plan_chemistry(session, now=clock.now()) == 0
    await travel_to(clock, app, clock.now())
    asked = await adept.expect(words["chemistry"])
    mentor_asked = await mentor.expect(words["chemistry"])
    assert mentor.first_name in asked.text and adept.first_name in mentor_asked.text
    assert len(await chemistry_rows(db)) == 2

    # The adept takes the respectful way out: pointed to /end and the coordinator; the
    # mentor hears nothing of it, and answers on their own.
    await adept.press(words["end"], message_id=asked.message_id)
    way_out = await adept.expect(words["end_reply"])
    assert "/end" in way_out.text and words["coordinator"] in way_out.text
    assert "112" in way_out.text
    await mentor.press(words["good"], message_id=mentor_asked.message_id)
    await mentor.expect(words["good_reply"])
    seen_by_mentor = "\n".join(m.text for m in mentor.messages)
    assert words["end_reply"] not in seen_by_mentor

    # A meeting called off inside the contract's 24 hours: a gentle word to the one who
    # cancelled, while the other is told of the cancellation as before.
    third = in_days(clock, 7, 10)
    await book(adept, mentor, third, words["place"])
    request = await mentor.expect(words["proposes"])
    adept.mark_read()
    await mentor.press(words["confirm"], message_id=request.message_id)
    await adept.expect(words["confirmed"])
    await travel_to(clock, app, third - timedelta(hours=20))
    overview = await adept.ask("/meetings")
    cancel_label = next(text for row in overview.buttons for text, _ in row if text.startswith("✖"))
    mentor.mark_read()
    await adept.press(cancel_label)
    await adept.expect(words["cancelled"])
    gentle = await adept.expect(words["short_notice"])
    assert mentor.first_name in gentle.text and "24" in gentle.text
    await mentor.quiet(0.2)
    assert words["short_notice"] not in "\n".join(m.text for m in mentor.messages)

    # A check-in rated 2 offers the author a nudge and /support, and nobody else.
    period = 1
    due = await anniversary(db, pair.mentorship_id, period)
    while due < clock.now():
        period += 1
        due = await anniversary(db, pair.mentorship_id, period)
    assert await plan_at(db, clock, app, due + timedelta(minutes=5)) == 2
    checkin_words = SV if language == "sv" else EN
    checkin_prompt = await adept.expect(checkin_words["prompt"])
    mentor.mark_read()
    await answer(
        adept,
        checkin_prompt,
        checkin_words,
        works_well="Mötena",
        could_improve="Vi ställer in för ofta",
        rating=2,
        note=None,
        share=checkin_words["private"],
    )
    nudge = await adept.expect(words["low"])
    assert mentor.first_name in nudge.text and "/support" in nudge.text
    assert "112" in nudge.text
    await mentor.quiet(0.2)
    assert words["low"] not in "\n".join(m.text for m in mentor.messages)

    # /support: worry about the other person, and the code of conduct.
    await adept.ask("/support")
    await adept.press(words["worried"])
    worry = await adept.expect(words["worried_reply"])
    for number in ("112", "114 14", "1177", "90101"):
        assert number in worry.text, number
    await adept.ask("/support")
    await adept.press(words["conduct"])
    await adept.expect(words["conduct_reply"])

    # /roles: both roles, the mentor's time and what a mentor is not.
    roles = await mentor.ask("/roles")
    assert words["roles"] in roles.text and "2–4" in roles.text


async def test_signals_in_swedish(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    await signals_scenario("sv", people, db, clock, bot_app)


async def test_signals_in_english(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    await signals_scenario("en", people, db, clock, bot_app)


async def test_a_typed_digit_rates_the_closing_feedback_too(
    people: People, db: Database, clock: TravellingClock, bot_app: AnyApplication
) -> None:
    sam, maria = people("Sam", "en"), people("Maria", "en")
    await active_pair(db, clock, sam, maria)
    await sam.ask("/close")
    await sam.press("🏁 Start closing")
    await sam.expect("book the closing meeting")
    await sam.press("📝 Give closing feedback")
    await sam.expect("most valuable")
    await sam.send("The talks")
    await sam.expect("could have been better")
    await sam.send("More meetings early on")
    await sam.expect("rate the whole mentorship")
    # Words are refused kindly and the question stays; a digit is taken as it is.
    await sam.send("great")
    await sam.expect("1 to 5")
    await sam.send("4")
    await sam.expect("stay in touch")


async def test_the_intro_guide_shows_roles_and_the_code_of_conduct_in_both_languages(
    people: People, db: Database
) -> None:
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await pair(anna, bertil, "Jag är adept – bjud in min mentor", "Tacka ja ✅")
    guide = await bertil.expect("introduktionsmöte med Anna")
    await bertil.press("🧭 Rollerna", message_id=guide.message_id)
    roles = await bertil.expect("Vem gör vad i ett mentorskap")
    assert "inte adeptens chef" in roles.text and "2–4 timmar" in roles.text
    adept_guide = await anna.expect("Före mötet")
    await anna.press("🤝 Uppförandekod", message_id=adept_guide.message_id)
    await anna.expect("Bemöt varandra med respekt")

    maria, sam = people("Maria", "en"), people("Sam", "en")
    await pair(maria, sam, "I'm the mentor – invite my mentee", "Accept ✅")
    sam_guide = await sam.expect("Before the meeting")
    await sam.press("🧭 Our roles", message_id=sam_guide.message_id)
    roles = await sam.expect("Who does what in a mentorship")
    assert "not the mentee's boss" in roles.text and "adept" not in roles.text.lower()
    await sam.press("🤝 Code of conduct", message_id=sam_guide.message_id)
    await sam.expect("Treat each other with respect")


def test_a_configured_code_of_conduct_is_shown_instead_of_ours(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        CODE_OF_CONDUCT_TEXT="Vi <lovar> att vara schyssta.",
        CODE_OF_CONDUCT_URL="https://example.org/kod",
    )
    assert "&lt;lovar&gt;" in conduct_text("sv", settings)
    assert "https://example.org/kod" in conduct_text("sv", settings)
    assert "Bemöt varandra" not in conduct_text("sv", settings)
    assert "Bemöt varandra" in conduct_text("sv", make_settings())
