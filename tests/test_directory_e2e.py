"""The mentor directory (issue 15, part 2), through the real bot and the emulator: a mentor
publishes a profile, an adept filters, pages and asks, the mentor accepts or declines; full,
paused and other programmes' mentors are not to be had."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from bot.clock import TravellingClock
from storage.db import Database
from storage.models import (
    Meeting,
    Membership,
    MentorProfile,
    MentorRequest,
    Mentorship,
    MentorshipTransition,
    Notification,
)
from tests.factories import programme_with, published_profile
from tests.harness import Person
from tests.test_meetings_e2e import in_days

People = Callable[..., Person]


async def until_button(person: Person, label: str, timeout: float = 5.0) -> None:
    """Wait until a message of this person's chat shows a button labelled `label`
    (a toggle edits only the buttons, so `expect` cannot see it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        shown = [b for m in person.messages for row in m.buttons for b, _ in row]
        if label in shown:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{person.first_name} never saw a button {label!r}; {shown}")
        await asyncio.sleep(0.02)


def everything_seen(person: Person) -> str:
    return "\n".join(
        m.text or m.caption or "" for m in person.emulator.chat_messages(person.user_id)
    )


async def request_rows(db: Database) -> list[MentorRequest]:
    async with db.session() as session:
        return list(await session.exec(select(MentorRequest).order_by(col(MentorRequest.id))))


# What each language says at each step of the main scenario.
SAID: dict[str, dict[str, Any]] = {
    "sv": {
        "programme": "Ledarprogrammet",
        "areas": ["Ledarskap", "Karriärväxling", "Kommunikation"],
        "ask_areas": "Vad kan du hjälpa till med",
        "own_words": "Med dina egna ord",
        "next": "Nästa ▶",
        "ask_career": "Berätta kort om din yrkesbana",
        "too_long": "Det blev 601 tecken",
        "ask_languages": "Vilka språk",
        "other_language": "Engelska",
        "ask_organisation": "Vilken organisation",
        "ask_capacity": "Hur många adepter",
        "preview": "Så här ser adepterna din profil",
        "both_languages": "Svenska, Engelska",
        "publish": "✅ Publicera",
        "published": "Publicerad!",
        "is_published": "är publicerad",
        "capacity": "2 adepter i taget",
        "filters": "Mentorer i Ledarprogrammet",
        "count": "{n} mentorer passar",
        "not_mine": "Inte min organisation",
        "ask_org": "Jag frågar bara en gång",
        "show": "👀 Visa 2 mentorer",
        "page": "{i} av 2",
        "ask": "🙋 Be om mentorskap",
        "ask_note": "Skriv några rader till Bertil",
        "note": "Jag vill bli <b>chef</b> & leda 🎯",
        "sent": "har skickats till Bertil",
        "request": "Anna vill gärna ha dig som mentor",
        "accept": "Tacka ja ✅",
        "accepted": "Du tackade ja",
        "mentor_guide": "introduktionsmöte med Anna",
        "told": "Bertil tackade ja till din förfrågan",
        "adept_guide": "Före mötet",
        "when": "När vill du ses",
        "length_asked": "lära känna varandra räcker",
        "length": "60 min",
        "where": "Var?",
        "place": "📹 Videosamtal",
        "proposed": "Anna föreslår ett möte",
        "confirm": "Bekräfta ✅",
        "confirmed": "Möte bekräftat",
    },
    "en": {
        "programme": "Leadership programme",
        "areas": ["Leadership", "Career change", "Communication"],
        "ask_areas": "What can you help with",
        "own_words": "In your own words",
        "next": "Next ▶",
        "ask_career": "Tell us briefly about your career",
        "too_long": "That's 601 characters",
        "ask_languages": "Which languages",
        "other_language": "Swedish",
        "ask_organisation": "Which organisation",
        "ask_capacity": "How many mentees",
        "preview": "This is how mentees will see your profile",
        "both_languages": "Swedish, English",
        "publish": "✅ Publish",
        "published": "Published!",
        "is_published": "is published",
        "capacity": "2 mentees at a time",
        "filters": "Mentors in Leadership programme",
        "count": "{n} mentors fit",
        "not_mine": "Not my organisation",
        "ask_org": "I'll only ask once",
        "show": "👀 Show 2 mentors",
        "page": "{i} of 2",
        "ask": "🙋 Ask for mentorship",
        "ask_note": "Write a few lines to Bertil",
        "note": "I want to lead <b>a team</b> & grow 🎯",
        "sent": "has been sent to Bertil",
        "request": "Anna would like you as their mentor",
        "accept": "Accept ✅",
        "accepted": "You accepted",
        "mentor_guide": "intro meeting with Anna",
        "told": "Bertil accepted your request",
        "adept_guide": "Before the meeting",
        "when": "When",
        "length_asked": "getting to know each other",
        "length": "45 min",
        "where": "Where?",
        "place": "Decide later",
        "proposed": "Anna proposes a meeting",
        "confirm": "Confirm ✅",
        "confirmed": "Meeting confirmed",
    },
}


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_a_mentor_publishes_an_adept_filters_pages_asks_and_the_pair_books_the_intro(
    people: People, db: Database, clock: TravellingClock, language: str
) -> None:
    said = SAID[language]
    area, switching, talking = said["areas"]
    bertil, anna = people("Bertil", language), people("Anna", language)
    cecilia, dag, erik, fia = (people(n, language) for n in ("Cecilia", "Dag", "Erik", "Fia"))
    mentors = (bertil, cecilia, dag, erik, fia)
    pid = await programme_with(
        db, clock, name=said["programme"], areas=said["areas"], mentors=mentors, adepts=(anna,)
    )
    # The others were published before Bertil, so Cecilia comes first and Bertil second.
    for mentor, areas, languages, organisation in (
        (cecilia, [area, switching], "sv,en", "Annat AB"),
        (dag, [area], "sv,en", "Acme AB"),  # Anna's own organisation
        (erik, [talking], "sv,en", None),  # another area
        (fia, [area], "sv", None),  # Swedish only
    ):
        await published_profile(
            db,
            clock,
            programme_id=pid,
            mentor=mentor,
            areas=areas,
            career=f"{mentor.first_name}s bana",
            languages=languages,
            organisation=organisation,
        )

    # The mentor's wizard: areas from the programme's list and in their own words.
    await bertil.send("/profile")
    await bertil.expect(said["ask_areas"])
    await bertil.press(area)
    await until_button(bertil, "✅ " + area)
    await bertil.send("Förhandling & <i>lön</i>")
    own = await bertil.expect(said["own_words"])
    assert "Förhandling & <i>lön</i>" in own.text
    await bertil.press(said["next"], message_id=own.message_id)
    await bertil.expect(said["ask_career"])
    # Too long: said so, and the step stays.
    await bertil.send("x" * 601)
    await bertil.expect(said["too_long"])
    await bertil.send("Tjugo år som chef i industrin, nu vd för ett bolag med 80 anställda.")
    await bertil.expect(said["ask_languages"])
    await bertil.press(said["other_language"])
    await until_button(bertil, "✅ " + said["other_language"])
    await bertil.press(said["next"])
    await bertil.expect(said["ask_organisation"])
    await bertil.send("Industri AB")
    await bertil.expect(said["ask_capacity"])
    await bertil.press("2")
    preview = await bertil.expect(said["preview"])
    for part in ("Bertil", area, "Förhandling & <i>lön</i>", "Industri AB", "Tjugo år som chef"):
        assert part in preview.text
    assert said["both_languages"] in preview.text
    await bertil.press(said["publish"], message_id=preview.message_id)
    await bertil.expect(said["published"])
    overview = await bertil.ask("/profile")
    assert said["is_published"] in overview.text and said["capacity"] in overview.text

    # The adept narrows the directory: area, language, not my organisation.
    filters = await anna.ask("/mentors")
    assert said["filters"] in filters.text and said["count"].format(n=5) in filters.text
    await anna.press(area)
    await anna.expect(said["count"].format(n=4))  # Erik is out
    await anna.press("English" if language == "en" else "Engelska")
    await anna.expect(said["count"].format(n=3))  # Fia is out
    await anna.press(said["not_mine"])
    await anna.expect(said["ask_org"])
    await anna.send("acme  ab")  # as typed: case and spaces do not matter
    await anna.expect(said["count"].format(n=4))  # Dag is out; the other filters start again
    await anna.press(area)
    await anna.expect(said["count"].format(n=3))
    await anna.press("English" if language == "en" else "Engelska")
    await anna.expect(said["count"].format(n=2))
    await anna.press(said["show"])
    first = await anna.expect(said["page"].format(i=1))
    assert "Cecilia" in first.text and "Annat AB" in first.text
    await anna.press("▶")
    second = await anna.expect(said["page"].format(i=2))
    assert "Bertil" in second.text and "Industri AB" in second.text
    await anna.press("◀")
    await anna.expect("Cecilia")
    await anna.press("▶")
    await anna.expect("Bertil")

    # The request, its note shown to the mentor as typed.
    await anna.press(said["ask"])
    await anna.expect(said["ask_note"])
    await anna.send(said["note"])
    await anna.expect(said["sent"])
    request = await bertil.expect(said["request"])
    assert said["note"] in request.text
    async with db.session() as session:
        queued = list(await session.exec(select(Notification)))
    assert all("<b>" not in str(n.payload) for n in queued)  # the outbox held a reference

    # Accepted: the pair is in the intro phase exactly as after an invitation.
    anna.mark_read()
    await bertil.press(said["accept"], message_id=request.message_id)
    await bertil.expect(said["accepted"])
    await bertil.expect(said["mentor_guide"])
    await anna.expect(said["told"])
    await anna.expect(said["adept_guide"])
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert (mentorship.state, mentorship.programme_id) == ("intro", pid)
        steps = await session.exec(
            select(MentorshipTransition.to_state).order_by(col(MentorshipTransition.id))
        )
        assert list(steps) == ["invited", "intro"]
        roles = await session.exec(
            select(Membership.role).where(Membership.mentorship_id == mentorship.id)
        )
        assert sorted(roles) == ["adept", "mentor"]
        reminders = await session.exec(
            select(Notification).where(Notification.kind == "intro_decision_reminder")
        )
        assert len(list(reminders)) == 2
    (asked,) = await request_rows(db)
    assert (asked.state, asked.mentorship_id) == ("accepted", mentorship.id)

    # Bertil is no longer offered to Anna.
    await anna.send("/mentors")
    await anna.expect(said["count"].format(n=4))

    # The intro meeting is booked as for any new pair.
    start = in_days(clock, 4, 14)
    await anna.send("/book")
    await anna.expect(said["when"])
    await anna.send(start.strftime("%Y-%m-%d %H:%M"))
    await anna.expect(said["length_asked"])
    await anna.press(said["length"])
    await anna.expect(said["where"])
    await anna.press(said["place"])
    proposal = await bertil.expect(said["proposed"])
    await bertil.press(said["confirm"], message_id=proposal.message_id)
    await anna.expect(said["confirmed"])
    async with db.session() as session:
        meeting = (await session.exec(select(Meeting))).one()
        assert (meeting.kind, meeting.state, meeting.mentorship_id) == (
            "intro",
            "confirmed",
            mentorship.id,
        )


async def test_a_declined_request_never_shows_the_reason_and_a_request_can_be_withdrawn(
    people: People, db: Database, clock: TravellingClock
) -> None:
    maria, sam = people("Maria", "en"), people("Sam", "en")
    pid = await programme_with(
        db, clock, name="Tech mentors", areas=["Backend"], mentors=(maria,), adepts=(sam,)
    )
    await published_profile(
        db, clock, programme_id=pid, mentor=maria, areas=["Backend"], career="Twenty years of code"
    )

    async def ask_maria(note: str) -> None:
        await sam.ask("/mentors")
        await sam.press("👀 Show 1 mentor")
        await sam.expect("1 of 1")
        await sam.press("🙋 Ask for mentorship")
        await sam.expect("Write a few lines to Maria")
        await sam.send(note)
        await sam.expect("has been sent to Maria")

    await ask_maria("Help me grow as a backend developer")
    request = await maria.expect("Sam would like you as their mentor")
    await maria.press("Decline", message_id=request.message_id)
    await maria.expect("You declined")
    await sam.expect("can't be your mentor this time")
    await maria.send("SECRET-REASON: not ready yet")
    await maria.expect("Saved, just for you.")
    (declined,) = await request_rows(db)
    assert (declined.state, declined.decline_reason) == ("declined", "SECRET-REASON: not ready yet")
    # Stored encrypted, queued nowhere, and shown to the adept in no message at all.
    async with db.session() as session:
        raw = (await session.exec(text("SELECT decline_reason FROM mentor_requests"))).one()[0]
        payloads = [str(n.payload) for n in await session.exec(select(Notification))]
    assert "SECRET" not in raw and not any("SECRET" in p for p in payloads)
    assert "SECRET" not in everything_seen(sam) and "not ready" not in everything_seen(sam)

    # Declined is not forever: Sam may ask again, and then take it back.
    await ask_maria("May I ask once more?")
    second = await maria.expect("Sam would like you as their mentor")
    await sam.press("↩️ Withdraw request")
    await sam.expect("You've withdrawn your request to Maria")
    await maria.expect("Sam has withdrawn their request")
    await maria.press("Accept ✅", message_id=second.message_id)
    await maria.expect("has been withdrawn, so there's nothing to answer")
    async with db.session() as session:
        assert (await session.exec(select(Mentorship))).first() is None
    assert [r.state for r in await request_rows(db)] == ["declined", "withdrawn"]
    assert "SECRET" not in everything_seen(sam)


async def test_a_full_mentor_is_hidden_and_requests_racing_the_fill_are_refused(
    people: People, db: Database, clock: TravellingClock
) -> None:
    bertil = people("Bertil", "sv")
    anna, cilla, doris, eva = (people(n, "sv") for n in ("Anna", "Cilla", "Doris", "Eva"))
    pid = await programme_with(
        db,
        clock,
        name="Ledarprogrammet",
        areas=["Ledarskap"],
        mentors=(bertil,),
        adepts=(anna, cilla, doris, eva),
    )
    await published_profile(
        db, clock, programme_id=pid, mentor=bertil, areas=["Ledarskap"], career="Chef", capacity=1
    )

    async def open_bertil(adept: Person) -> None:
        await adept.ask("/mentors")
        await adept.press("👀 Visa 1 mentor")
        await adept.expect("1 av 1")
        await adept.press("🙋 Be om mentorskap")
        await adept.expect("Skriv några rader till Bertil")

    for adept in (anna, cilla):
        await open_bertil(adept)
        await adept.send(f"Hej, jag är {adept.first_name}")
        await adept.expect("har skickats till Bertil")
    await open_bertil(doris)  # Doris is typing her note while Bertil fills up

    from_anna = await bertil.expect("Anna vill gärna ha dig som mentor")
    from_cilla = await bertil.expect("Cilla vill gärna ha dig som mentor")
    await bertil.press("Tacka ja ✅", message_id=from_anna.message_id)
    await bertil.expect("Du tackade ja")
    # Full now: accepting Cilla too is refused kindly and her request waits.
    bertil.mark_read()
    await bertil.press("Tacka ja ✅", message_id=from_cilla.message_id)
    await bertil.expect("Du har redan så många adepter")
    async with db.session() as session:
        assert len(list(await session.exec(select(Mentorship)))) == 1
    states = {r.adept_id: r.state for r in await request_rows(db)}
    assert sorted(states.values()) == ["accepted", "draft", "pending"]

    # Doris's note arrives after the fill: a clear answer, and nothing reaches Bertil.
    bertil.mark_read()
    await doris.send("Hej Bertil!")
    await doris.expect("har precis fått fullt")
    assert not [m for m in await bertil.quiet() if "Doris" in m.text]
    # Still only Cilla's request waits: Doris's was never sent.
    assert sorted(r.state for r in await request_rows(db)) == ["accepted", "draft", "pending"]

    # And a full mentor is not listed at all.
    listing = await eva.ask("/mentors")
    assert "0 mentorer passar" in listing.text and "Ingen mentor passar just nu" in listing.text
    assert not [b for row in listing.buttons for b, _ in row if b.startswith("👀")]


async def test_a_paused_profile_is_hidden_and_a_note_to_it_is_not_sent(
    people: People, db: Database, clock: TravellingClock
) -> None:
    maria, sam = people("Maria", "en"), people("Sam", "en")
    pid = await programme_with(
        db, clock, name="Tech mentors", areas=["Backend"], mentors=(maria,), adepts=(sam,)
    )
    await published_profile(
        db, clock, programme_id=pid, mentor=maria, areas=["Backend"], career="Code", languages="en"
    )
    # Each in their own role only: profiles are for mentors, browsing for mentees.
    assert "you aren't a mentor in one yet" in (await sam.ask("/profile")).text
    assert "once you're a mentee in a programme" in (await maria.ask("/mentors")).text
    await sam.ask("/mentors")
    await sam.press("👀 Show 1 mentor")
    await sam.expect("1 of 1")
    await sam.press("🙋 Ask for mentorship")
    await sam.expect("Write a few lines to Maria")

    overview = await maria.ask("/profile")
    assert "is published" in overview.text
    await maria.press("⏸ Pause", message_id=overview.message_id)
    await maria.expect("Paused.")

    # The note typed after the pause: said so, nothing sent.
    maria.mark_read()
    await sam.send("Would you have time for me?")
    await sam.expect("Maria isn't taking new requests right now")
    assert await maria.quiet() == []
    assert [r.state for r in await request_rows(db)] == ["draft"]
    listing = await sam.ask("/mentors")
    assert "0 mentors fit" in listing.text

    await maria.press("▶️ Resume")
    await maria.expect("visible to mentees again")
    listing = await sam.ask("/mentors")
    assert "1 mentor fits" in listing.text


async def test_a_forged_button_for_another_programmes_profile_is_refused(
    people: People, db: Database, clock: TravellingClock
) -> None:
    bertil, cecilia, anna = people("Bertil", "sv"), people("Cecilia", "sv"), people("Anna", "sv")
    ours = await programme_with(
        db, clock, name="Vårt program", areas=["Ledarskap"], mentors=(bertil,), adepts=(anna,)
    )
    theirs = await programme_with(
        db, clock, name="Deras program", areas=["Ledarskap"], mentors=(cecilia,)
    )
    await published_profile(
        db, clock, programme_id=ours, mentor=bertil, areas=["Ledarskap"], career="Chef"
    )
    hidden = await published_profile(
        db, clock, programme_id=theirs, mentor=cecilia, areas=["Ledarskap"], career="Hemlig"
    )

    listing = await anna.ask("/mentors")
    assert "1 mentor passar" in listing.text
    await anna.press_data(listing.message_id, f"dir:ask:{hidden}")
    refused = await anna.expect("Den profilen finns inte bland mentorerna")
    assert "Cecilia" not in refused.text
    await anna.press_data(listing.message_id, f"dir:b:{theirs}:-:-:0:0")
    await anna.expect("Att bläddra bland mentorerna går när du är adept")
    assert "Cecilia" not in everything_seen(anna) and "Hemlig" not in everything_seen(anna)
    assert await request_rows(db) == []

    # Nor may one mentor change another's profile.
    overview = await bertil.ask("/profile")
    await bertil.press_data(overview.message_id, f"prof:pause:{hidden}")
    await bertil.expect("Den profilen är någon annans")
    async with db.session() as session:
        profile = await session.get(MentorProfile, hidden)
        assert profile is not None and profile.paused_at is None


async def test_mydata_shows_each_their_own_directory_data_and_deleteme_erases_it(
    people: People, db: Database, clock: TravellingClock
) -> None:
    maria, sam = people("Maria", "en"), people("Sam", "en")
    pid = await programme_with(
        db, clock, name="Tech mentors", areas=["Backend"], mentors=(maria,), adepts=(sam,)
    )
    await published_profile(
        db,
        clock,
        programme_id=pid,
        mentor=maria,
        areas=["Backend"],
        career="MARK-CAREER",
        languages="en",
        organisation="MARK-ORG-M",
    )
    await sam.ask("/mentors")
    await sam.press("Not my organisation")
    await sam.expect("I'll only ask once")
    await sam.send("MARK-ORG-S")
    await sam.expect("1 mentor fits")

    async def ask_maria(note: str) -> None:
        await sam.press("👀 Show 1 mentor")
        await sam.expect("1 of 1")
        await sam.press("🙋 Ask for mentorship")
        await sam.expect("Write a few lines to Maria")
        await sam.send(note)
        await sam.expect("has been sent to Maria")

    await ask_maria("MARK-NOTE")
    await maria.press("Decline", message_id=(await maria.expect("MARK-NOTE")).message_id)
    await maria.expect("You declined")
    await sam.expect("can't be your mentor this time")
    await maria.send("MARK-REASON")
    await maria.expect("Saved, just for you.")

    async def exported(person: Person) -> str:
        await person.send("/mydata")
        found = await person.expect("Your data in machine-readable")
        assert found.document is not None
        return found.document.data.decode("utf-8")

    theirs = await exported(sam)
    assert "MARK-NOTE" in theirs and "MARK-ORG-S" in theirs and "MARK-REASON" not in theirs
    mine = await exported(maria)
    assert "MARK-REASON" in mine and "MARK-CAREER" in mine and "MARK-ORG-M" in mine
    assert "MARK-NOTE" not in mine and "MARK-ORG-S" not in mine

    # A request still waiting when the mentor erases their data is withdrawn with it.
    await sam.send("/mentors")
    await sam.expect("1 mentor fits")
    await ask_maria("MARK-NOTE-2")
    await maria.expect("MARK-NOTE-2")
    first = await maria.ask("/deleteme")
    await maria.press("🗑 Yes, erase my data", message_id=first.message_id)
    await maria.expect("type the word")
    await maria.send("Delete")
    await maria.expect("Your name and everything you wrote have been erased")
    async with db.session() as session:
        profile = (await session.exec(select(MentorProfile))).one()
        assert (profile.career, profile.organisation, profile.published_at) == (None, None, None)
    rows = await request_rows(db)
    assert [(r.state, r.decline_reason) for r in rows] == [
        ("declined", None),
        ("withdrawn", None),
    ]
    await sam.send("/mentors")
    await sam.expect("0 mentors fit")


async def test_a_mentor_in_two_programmes_chooses_which_one_the_profile_is_for(
    people: People, db: Database, clock: TravellingClock
) -> None:
    bertil = people("Bertil", "sv")
    await programme_with(db, clock, name="Vårprogrammet", areas=["Ledarskap"], mentors=(bertil,))
    autumn = await programme_with(
        db, clock, name="Höstprogrammet", areas=["Hållbarhet", "Ekonomi"], mentors=(bertil,)
    )
    question = await bertil.ask("/profile")
    assert "Vilket program" in question.text
    await bertil.press("Höstprogrammet", message_id=question.message_id)
    wizard = await bertil.expect("din mentorsprofil i Höstprogrammet")
    assert [label for row in wizard.buttons for label, _ in row][:2] == ["Hållbarhet", "Ekonomi"]
    async with db.session() as session:
        profile = (await session.exec(select(MentorProfile))).one()
        assert profile.programme_id == autumn
    # The choice is remembered: the next /profile goes straight to that programme.
    again = await bertil.ask("/profile")
    assert "Höstprogrammet" in again.text and "Vilket program" not in again.text
