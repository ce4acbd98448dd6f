"""Issue 15 from end to end through the real bot only: no factories, no writes to the
database (reading it to assert is fine). A super-coordinator creates a programme with
/programme new; mentors join by its link and publish profiles with /profile; a mentee
joins by the other link, filters and pages the directory, asks, is accepted and books the
intro meeting; the full mentor is hidden from a second mentee, whose request is declined
with a private reason; and the coordinator's /stats shows counts only.

Programmes, the directory and programme health were each tested with factories in
between; this test is the seams between them."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.models import (
    Meeting,
    Membership,
    MentorRequest,
    Mentorship,
    Notification,
    Programme,
    ProgrammeMember,
    User,
)
from tests.conftest import COORDINATOR
from tests.harness import Person
from tests.test_directory_e2e import everything_seen, until_button
from tests.test_meetings_e2e import in_days

People = Callable[..., Person]
ADMIN = 9_201
JOIN_LINK = re.compile(r"https://t\.me/mentorship_companion_bot\?start=j([A-Za-z0-9_-]{32})")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ADMIN_IDS": str(ADMIN)}


# What each language says (and what its people write) along the journey.
SAID: dict[str, dict[str, Any]] = {
    "sv": {
        "programme": "Ledare i Väst",
        "areas": ["Ledarskap", "Karriärbyte"],
        "wizard": [
            ("send", "/programme new", "Vad ska programmet heta"),
            ("send", "Ledare i Väst", "Hur når deltagarna programansvarig"),
            ("send", "vast@example.org", "några ord om stöd"),
            ("send", "Vi svarar inom två arbetsdagar.", "uppförandekod"),
            ("send", "https://example.org/kod", "Vilket språk"),
            ("press", "Svenska", "Vilken tidszon"),
            ("send", "Helsinki", "Hur länge är ett mentorskap"),
            ("press", "9 månader", "kompetensområden"),
            ("send", "Ledarskap\nKarriärbyte", "är skapat"),
        ],
        "timezone": "Europe/Helsinki",
        "contact": "vast@example.org",
        "conduct_button": "🤝 Uppförandekod",
        "conduct": "https://example.org/kod",
        "join": "Gå med ✅",
        "as_mentor": "som <b>mentor</b>",
        "as_adept": "som <b>adept</b>",
        "welcome": "Välkommen till",
        "ask_areas": "Vad kan du hjälpa till med",
        "own_words": "Med dina egna ord",
        "next": "Nästa ▶",
        "ask_career": "Berätta kort om din yrkesbana",
        "ask_languages": "Vilka språk",
        "other_language": "Engelska",
        "ask_organisation": "Vilken organisation",
        "ask_capacity": "Hur många adepter",
        "preview": "Så här ser adepterna din profil",
        "publish": "✅ Publicera",
        "published": "Publicerad!",
        "count": {1: "1 mentor passar", 2: "2 mentorer passar"},
        "show": {1: "👀 Visa 1 mentor", 2: "👀 Visa 2 mentorer"},
        "page": "{i} av {n}",
        "change": "🔎 Ändra val",
        "not_mine": "Inte min organisation",
        "ask_org": "Jag frågar bara en gång",
        "ask": "🙋 Be om mentorskap",
        "ask_note": "Skriv några rader till {name}",
        "sent": "har skickats till {name}",
        "request": "{name} vill gärna ha dig som mentor",
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
        "decline": "Tacka nej",
        "declined": "Du tackade nej",
        "declined_to_adept": "kan tyvärr inte bli din mentor",
        "reason_saved": "Sparat, bara för dig.",
        "choose": "Vilket program",
        "intro_line": "I introduktionsskedet: <5",
        "intro_csv": "pairs.intro,I introduktionsskedet,,<5",
        "overdue_line": "dröjt mer än 21 dagar: <5",
        "held_line": "Genomförda möten de senaste 30 dagarna: <5",
        # What people write: none of it may reach the coordinator.
        "career_1": "Tjugo år som chef på ett verkstadsbolag, nu rådgivare åt nya chefer.",
        "career_2": "Bytte från vården till it vid fyrtio och leder nu ett utvecklingsteam.",
        "own_area": "Förhandla lön",
        "organisation_1": "Verkstäderna i Borås",
        "organisation_2": "Regionsjukhuset",
        "my_organisation": "regionsjukhuset ",
        "note_1": "Jag blir chef i höst och vill leda utan att tappa mig själv.",
        "note_2": "Jag funderar på att byta bana och vill höra hur du tänkte.",
        "reason": "Han påminner för mycket om min bror, det vore olämpligt.",
    },
    "en": {
        "programme": "Leaders West",
        "areas": ["Leadership", "Career change"],
        "wizard": [
            ("send", "/programme new", "What is the programme called"),
            ("send", "Leaders West", "How do participants reach the coordinator"),
            ("send", "west@example.org", "a few words about support"),
            ("press", "Skip", "code of conduct"),
            ("send", "Be kind and keep what is said between you.", "Which language"),
            ("press", "English", "Which time zone"),
            ("press", "Keep Europe/Stockholm", "How long is a mentorship"),
            ("press", "12 months", "competence areas"),
            ("send", "Leadership\nCareer change", "is ready"),
        ],
        "timezone": "Europe/Stockholm",
        "contact": "west@example.org",
        "conduct_button": "🤝 Code of conduct",
        "conduct": "Be kind and keep what is said between you.",
        "join": "Join ✅",
        "as_mentor": "as a <b>mentor</b>",
        "as_adept": "as a <b>mentee</b>",
        "welcome": "Welcome to",
        "ask_areas": "What can you help with",
        "own_words": "In your own words",
        "next": "Next ▶",
        "ask_career": "Tell us briefly about your career",
        "ask_languages": "Which languages",
        "other_language": "Swedish",
        "ask_organisation": "Which organisation",
        "ask_capacity": "How many mentees",
        "preview": "This is how mentees will see your profile",
        "publish": "✅ Publish",
        "published": "Published!",
        "count": {1: "1 mentor fits", 2: "2 mentors fit"},
        "show": {1: "👀 Show 1 mentor", 2: "👀 Show 2 mentors"},
        "page": "{i} of {n}",
        "change": "🔎 Change choices",
        "not_mine": "Not my organisation",
        "ask_org": "I'll only ask once",
        "ask": "🙋 Ask for mentorship",
        "ask_note": "Write a few lines to {name}",
        "sent": "has been sent to {name}",
        "request": "{name} would like you as their mentor",
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
        "decline": "Decline",
        "declined": "You declined",
        "declined_to_adept": "can't be your mentor this time",
        "reason_saved": "Saved, just for you.",
        "choose": "Which programme",
        "intro_line": "In the intro phase: <5",
        "intro_csv": "pairs.intro,In the intro phase,,<5",
        "overdue_line": "pending more than 21 days: <5",
        "held_line": "Meetings held in the last 30 days: <5",
        "career_1": "Twenty years running a machine shop, now advising first-time managers.",
        "career_2": "Moved from nursing into software at forty and now leads a product team.",
        "own_area": "Negotiating pay",
        "organisation_1": "Boras Works",
        "organisation_2": "Regional Hospital",
        "my_organisation": "regional  hospital",
        "note_1": "I become a manager this autumn and want to lead without losing myself.",
        "note_2": "I am thinking of changing careers and would like to hear how you did it.",
        "reason": "He reminds me too much of my brother, it would not be right.",
    },
}


async def _programme(db: Database) -> Programme:
    async with db.session() as session:
        return (
            await session.exec(select(Programme).where(col(Programme.is_default).is_(False)))
        ).one()


async def _join(person: Person, code: str, said: dict[str, Any], role: str) -> None:
    """Open the link as Telegram sends it (`/start j<code>`) and press Join."""
    offer = await person.ask(f"/start j{code}")
    assert said["programme"] in offer.text and said[f"as_{role}"] in (offer.html or offer.text)
    await person.press(said["join"])
    await person.expect(said["welcome"])


async def _publish(
    mentor: Person,
    said: dict[str, Any],
    *,
    area: str,
    career: str,
    organisation: str,
    capacity: int,
    own_area: str | None = None,
    both_languages: bool = False,
) -> None:
    """/profile from the first question to Publish, as a mentor answers it."""
    await mentor.send("/profile")
    await mentor.expect(said["ask_areas"])
    await mentor.press(area)
    await until_button(mentor, "✅ " + area)
    if own_area is not None:
        await mentor.send(own_area)
        await mentor.expect(said["own_words"])
    await mentor.press(said["next"])
    await mentor.expect(said["ask_career"])
    await mentor.send(career)
    await mentor.expect(said["ask_languages"])
    if both_languages:
        await mentor.press(said["other_language"])
        await until_button(mentor, "✅ " + said["other_language"])
    await mentor.press(said["next"])
    await mentor.expect(said["ask_organisation"])
    await mentor.send(organisation)
    await mentor.expect(said["ask_capacity"])
    await mentor.press(str(capacity))
    preview = await mentor.expect(said["preview"])
    assert career in preview.text and organisation in preview.text
    await mentor.press(said["publish"], message_id=preview.message_id)
    await mentor.expect(said["published"])


async def _ask(adept: Person, mentor: str, note: str, said: dict[str, Any]) -> None:
    """From a profile on screen: ask, type the note, see it sent."""
    await adept.press(said["ask"])
    await adept.expect(said["ask_note"].format(name=mentor))
    await adept.send(note)
    await adept.expect(said["sent"].format(name=mentor))


async def _stats(admin: Person, said: dict[str, Any]) -> tuple[str, str]:
    """/stats for the journey's programme: the text, the captions and the CSV, as the
    coordinator sees them (the text and its HTML; the CSV as it is)."""
    admin.mark_read()
    first = await admin.ask("/stats")
    if said["choose"] in first.text:  # the default programme exists too
        await admin.press(said["programme"], message_id=first.message_id)
        text, photo, document = await admin.replies(3, timeout=30)
    else:
        text = first
        photo, document = await admin.replies(2, timeout=30)
    assert (text.kind, photo.kind, document.kind) == ("text", "photo", "document")
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    assert document.document is not None
    assert said["programme"] in text.text
    shown = "\n".join([text.text, text.html or "", photo.caption or "", document.caption or ""])
    return shown, document.document.data.decode("utf-8-sig")


def _counts_only(everything: str, said: dict[str, Any]) -> None:
    """No name, no note, no reason, no profile text; no count from 1 to 4."""
    secrets = ["Bertil", "Cecilia", "Anna", "David", said["own_area"], said["reason"]]
    secrets += [said[k] for k in ("career_1", "career_2", "note_1", "note_2")]
    secrets += [said["organisation_1"], said["organisation_2"], said["my_organisation"].strip()]
    for secret in secrets:  # as whole words: "Anna" is not in "Annan anledning"
        assert not re.search(rf"(?<!\w){re.escape(secret)}(?!\w)", everything), secret
    # "label: n" in the text (also "n (average …)"), and the CSV's value column.
    shown = re.findall(r": (\d+)(?: \(|$)", everything, flags=re.MULTILINE)
    shown += [line.rsplit(",", 1)[-1] for line in everything.splitlines() if line.count(",") >= 3]
    assert "<5" in everything and not [n for n in shown if n in {"1", "2", "3", "4"}]


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_a_programme_from_its_creation_to_the_intro_meeting_a_decline_and_its_health(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock, language: str
) -> None:
    said = SAID[language]
    area, switching = said["areas"]

    # The super-coordinator creates the programme and gets its join links.
    admin = Person(emulator, ADMIN, "Kim", language)
    for action, answer, next_question in said["wizard"]:
        if action == "send":
            await admin.send(answer)
        else:
            await admin.press(answer)
        created = await admin.expect(next_question)
    mentor_code, adept_code, _ = JOIN_LINK.findall(created.text)
    programme = await _programme(db)
    assert programme.areas == "\n".join(said["areas"]) and not programme.draft
    assert (programme.mentor_code, programme.adept_code) == (mentor_code, adept_code)

    # Two mentors join by the mentor link and publish their profiles.
    bertil, cecilia = people("Bertil", language), people("Cecilia", language)
    await _join(bertil, mentor_code, said, "mentor")
    await _publish(
        bertil,
        said,
        area=area,
        career=said["career_1"],
        organisation=said["organisation_1"],
        capacity=1,
    )
    await _join(cecilia, mentor_code, said, "mentor")
    await _publish(
        cecilia,
        said,
        area=switching,
        own_area=said["own_area"],
        career=said["career_2"],
        organisation=said["organisation_2"],
        capacity=2,
        both_languages=True,
    )

    # A mentee joins by the adept link, pages through both, then narrows the directory.
    anna = people("Anna", language)
    await _join(anna, adept_code, said, "adept")
    async with db.session() as session:
        joined = (await session.exec(select(User).where(User.telegram_id == anna.user_id))).one()
    assert joined.current_programme_id == programme.id
    assert joined.timezone == said["timezone"]
    filters = await anna.ask("/mentors")
    assert said["programme"] in filters.text and said["count"][2] in filters.text
    await anna.press(said["show"][2])
    # A page turn edits the one message: keep what each page said.
    first = (await anna.expect(said["page"].format(i=1, n=2))).text
    await anna.press("▶")
    second = (await anna.expect(said["page"].format(i=2, n=2))).text
    assert {"Bertil" in first, "Bertil" in second} == {True, False}
    assert {"Cecilia" in first, "Cecilia" in second} == {True, False}
    await anna.press("◀")
    await anna.expect(said["page"].format(i=1, n=2))
    await anna.press(said["change"])
    await anna.expect(said["count"][2])
    await anna.press(area)
    narrowed = await anna.expect(said["count"][1])  # Cecilia helps with the other area
    assert "✅ " + area in [label for row in narrowed.buttons for label, _ in row]
    await anna.press(said["not_mine"])
    await anna.expect(said["ask_org"])
    await anna.send(said["my_organisation"])  # Cecilia's, as Anna types it
    await anna.expect(said["count"][1])
    await anna.press(area)  # still one: the text stays, the button shows the choice
    await until_button(anna, "✅ " + area)
    await anna.press(said["show"][1])
    only = await anna.expect(said["page"].format(i=1, n=1))
    assert "Bertil" in only.text and said["organisation_1"] in only.text
    assert "Cecilia" not in only.text
    await _ask(anna, "Bertil", said["note_1"], said)

    # Bertil accepts: the pair is in the intro phase of a mentorship of THIS programme.
    request = await bertil.expect(said["request"].format(name="Anna"))
    assert said["note_1"] in request.text
    anna.mark_read()
    await bertil.press(said["accept"], message_id=request.message_id)
    await bertil.expect(said["accepted"])
    await bertil.expect(said["mentor_guide"])
    await anna.expect(said["told"])
    guide = await anna.expect(said["adept_guide"])
    # Where the pair turns is this programme's, not the deployment's.
    await anna.press(said["conduct_button"], message_id=guide.message_id)
    await anna.expect(said["conduct"])
    support = await bertil.ask("/support")
    assert said["contact"] in support.text and COORDINATOR not in support.text
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        assert (mentorship.state, mentorship.programme_id) == ("intro", programme.id)
        roles = await session.exec(
            select(User.telegram_id, Membership.role)
            .join(User, col(User.id) == col(Membership.user_id))
            .where(Membership.mentorship_id == mentorship.id)
        )
        assert sorted(roles) == sorted([(anna.user_id, "adept"), (bertil.user_id, "mentor")])

    # The intro meeting, booked by the mentee and confirmed by the mentor.
    await anna.send("/book")
    await anna.expect(said["when"])
    await anna.send(in_days(clock, 4, 14).strftime("%Y-%m-%d %H:%M"))
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

    # Bertil is full now: a second mentee, by the same link, sees only Cecilia.
    david = people("David", language)
    await _join(david, adept_code, said, "adept")
    listing = await david.ask("/mentors")
    assert said["count"][1] in listing.text
    await david.press(said["show"][1])
    card = await david.expect(said["page"].format(i=1, n=1))
    assert "Cecilia" in card.text and said["career_2"] in card.text
    assert "Bertil" not in everything_seen(david)
    await _ask(david, "Cecilia", said["note_2"], said)

    # Cecilia declines with a private reason: it reaches none of David's messages.
    request = await cecilia.expect(said["request"].format(name="David"))
    await cecilia.press(said["decline"], message_id=request.message_id)
    await cecilia.expect(said["declined"])
    await david.expect(said["declined_to_adept"])
    david.mark_read()
    await cecilia.send(said["reason"])
    await cecilia.expect(said["reason_saved"])
    async with db.session() as session:
        asked = list(await session.exec(select(MentorRequest).order_by(col(MentorRequest.id))))
        payloads = [str(n.payload) for n in await session.exec(select(Notification))]
    assert [(r.state, r.programme_id) for r in asked] == [
        ("accepted", programme.id),
        ("declined", programme.id),
    ]
    assert asked[1].decline_reason == said["reason"]
    # The outbox held references: neither note nor the reason is in any row.
    assert not [p for p in payloads if any(said[k] in p for k in ("reason", "note_1", "note_2"))]
    assert await david.quiet() == []
    assert said["reason"] not in everything_seen(david)

    # The coordinator's /stats for this programme: counts only, small ones as "<5".
    async with db.session() as session:
        coordinators = await session.exec(
            select(User.telegram_id)
            .join(ProgrammeMember, col(ProgrammeMember.user_id) == col(User.id))
            .where(ProgrammeMember.programme_id == programme.id)
            .where(ProgrammeMember.role == "coordinator")
        )
        assert list(coordinators) == [ADMIN], "the creator coordinates it"
    text, table = await _stats(admin, said)
    assert said["intro_line"] in text and said["intro_csv"] in table
    _counts_only(text + "\n" + table, said)

    # Three weeks on, the intro meeting held and no decision yet: still masked.
    clock.advance(timedelta(days=22))
    text, table = await _stats(admin, said)
    assert said["overdue_line"] in text and said["held_line"] in text
    _counts_only(text + "\n" + table, said)
