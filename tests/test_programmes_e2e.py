"""Programmes through the real bot: a super-coordinator sets one up step by step and gets
its join links; mentors, adepts and more coordinators join by link; the programme's own
contact, support text and code of conduct are what its people see; a closed programme
takes nobody new and starts no new pairs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage import programmes as programme_store
from storage.db import Database
from storage.models import (
    Contract,
    Membership,
    Mentorship,
    MentorshipState,
    Programme,
    ProgrammeMember,
    User,
)
from tests.conftest import COORDINATOR
from tests.factories import active_pair
from tests.harness import Person
from tests.test_pairing_e2e import LINK

People = Callable[..., Person]
ADMIN = 9_101
ADMIN_EN = 9_102
JOIN_LINK = re.compile(r"https://t\.me/mentorship_companion_bot\?start=j([A-Za-z0-9_-]{32})")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ADMIN_IDS": f"{ADMIN},{ADMIN_EN}"}


async def _programmes(db: Database) -> list[Programme]:
    """Every programme but the default one (made when first needed, by /support say)."""
    async with db.session() as session:
        return list(
            await session.exec(
                select(Programme)
                .where(col(Programme.is_default).is_(False))
                .order_by(col(Programme.id))
            )
        )


async def _members(db: Database) -> list[tuple[int, int, str]]:
    async with db.session() as session:
        rows = await session.exec(
            select(ProgrammeMember.programme_id, User.telegram_id, ProgrammeMember.role)
            .join(User, col(User.id) == col(ProgrammeMember.user_id))
            .order_by(col(ProgrammeMember.id))
        )
        return list(rows)


async def _user(db: Database, person: Person) -> User:
    async with db.session() as session:
        return (await session.exec(select(User).where(User.telegram_id == person.user_id))).one()


def _links(text: str) -> list[str]:
    """The mentor, adept and coordinator codes, in the order the bot lists them."""
    codes = JOIN_LINK.findall(text)
    assert len(codes) == 3, text
    return codes


async def test_a_coordinator_sets_up_a_programme_and_people_join_it_in_swedish(
    people: People, emulator: BotAPIEmulator, db: Database
) -> None:
    admin = Person(emulator, ADMIN, "Kim", "sv")
    ask = await admin.ask("/programme new")
    assert "Vad ska programmet heta" in ask.text and "1/8" in ask.text

    # Bad answers on the way: each is explained and the question stays.
    await admin.send("Mentorprogram " + "x" * 80)
    await admin.expect("högst 80 tecken")
    await admin.send("Väst & <Syd> 2027")
    await admin.expect("Hur når deltagarna programansvarig")
    await admin.send("vast@example.org, 031-12 34 56")
    await admin.expect("några ord om stöd")
    await admin.send("Vi svarar inom två arbetsdagar.")
    await admin.expect("uppförandekod")
    await admin.send("https://example.org/uppforandekod")
    await admin.expect("Vilket språk")
    await admin.send("svenska")
    await admin.expect("Välj språket med knapparna")
    await admin.press("Svenska")
    await admin.expect("Vilken tidszon")
    await admin.send("Mars/Olympus")
    await admin.expect("Den tidszonen känner jag inte igen")
    await admin.send("Helsinki")
    await admin.expect("Hur länge är ett mentorskap")
    await admin.send("30")
    await admin.expect("mellan 3 och 24 månader")
    await admin.press("9 månader")
    await admin.expect("kompetensområden")
    await admin.send("Ledarskap\nKarriärbyte\n" + "Ett område med alldeles för många tecken i sig")
    await admin.expect("högst 40 tecken")
    assert [p for p in await _programmes(db) if not p.draft] == [], "nothing opens before the end"
    await admin.send("Ledarskap\n\nKarriärbyte\nledarskap")
    created = await admin.expect("är skapat")
    assert "Väst & <Syd> 2027" in created.text
    mentor_code, adept_code, coordinator_code = _links(created.text)

    [programme] = await _programmes(db)
    assert (programme.name, programme.coordinator_contact) == (
        "Väst & <Syd> 2027",
        "vast@example.org, 031-12 34 56",
    )
    assert programme.support_text == "Vi svarar inom två arbetsdagar."
    assert programme.code_of_conduct == "https://example.org/uppforandekod"
    assert (programme.language, programme.timezone, programme.length_months) == (
        "sv",
        "Europe/Helsinki",
        9,
    )
    assert programme.areas == "Ledarskap\nKarriärbyte"
    assert not programme.draft and programme.closed_at is None
    assert (programme.mentor_code, programme.adept_code, programme.coordinator_code) == (
        mentor_code,
        adept_code,
        coordinator_code,
    )
    assert await _members(db) == [(programme.id, ADMIN, "coordinator")]

    # A mentor joins by link, and learns what comes next.
    bertil = people("Bertil", "sv")
    offer = await bertil.ask(f"/start j{mentor_code}")
    assert "Väst & <Syd> 2027" in offer.text and "mentor" in offer.text
    await bertil.press("Gå med ✅")
    joined = await bertil.expect("Välkommen till")
    assert "/profile" in joined.text and "/new" in joined.text
    # The programme's time zone becomes theirs, said so with the way to change it.
    assert "Europe/Helsinki" in joined.text and "/settings" in joined.text
    assert (await _user(db, bertil)).timezone == "Europe/Helsinki"
    # Twice: a clear answer, nothing changed.
    before = await _members(db)
    assert "redan med" in (await bertil.ask(f"/start j{mentor_code}")).text
    assert await _members(db) == before

    # An adept joins; /support now speaks for this programme.
    anna = people("Anna", "sv")
    await anna.ask(f"/start j{adept_code}")
    await anna.press("Gå med ✅")
    assert "/mentors" in (await anna.expect("Välkommen till")).text
    assert (await _user(db, anna)).current_programme_id == programme.id
    support = await anna.ask("/support")
    assert "vast@example.org, 031-12 34 56" in support.text
    assert "Vi svarar inom två arbetsdagar." in support.text
    assert COORDINATOR not in support.text
    await anna.press("🤝 Uppförandekod")
    conduct = await anna.expect("https://example.org/uppforandekod")
    assert "Uppförandekod" in conduct.text
    await anna.ask("/support")
    await anna.press("😟 Jag är orolig för den andra")
    assert "vast@example.org" in (await anna.expect("vast@example.org")).text

    # A co-coordinator joins by the third link and gets the coordinators' menu.
    cecilia = people("Cecilia", "sv")
    await cecilia.ask(f"/start j{coordinator_code}")
    await cecilia.press("Gå med ✅")
    await cecilia.expect("Du är nu programansvarig")
    scoped = emulator.commands(scope={"type": "chat", "chat_id": cecilia.user_id})
    assert {"programme", "stats"} <= {c["command"] for c in scoped}
    assert "/programme" in (await cecilia.ask("/help")).text
    overview = await cecilia.ask("/programme")
    assert "1 mentor" in overview.text and "1 adept" in overview.text
    assert "2 programansvariga" in overview.text
    assert _links(overview.text) == [mentor_code, adept_code, coordinator_code]
    assert "Bertil" not in overview.text and "Anna" not in overview.text, "counts only"

    # Closing, with a confirmation; then the links answer clearly and change nothing.
    await cecilia.press("Avsluta programmet")
    await cecilia.expect("Vill du avsluta")
    await cecilia.press("Nej, behåll")
    await cecilia.expect("fortfarande öppet")
    assert (await _programmes(db))[0].closed_at is None
    await cecilia.ask("/programme")
    await cecilia.press("Avsluta programmet")
    await cecilia.expect("Vill du avsluta")
    await cecilia.press("Ja, avsluta")
    await cecilia.expect("är avslutat")
    before = await _members(db)
    david = people("David", "sv")
    refused = await david.ask(f"/start j{adept_code}")
    assert "avslutat" in refused.text and "tar inte emot" in refused.text
    assert refused.buttons == []
    assert await _members(db) == before
    # Its people still see its texts.
    assert "vast@example.org" in (await anna.ask("/support")).text


async def test_a_coordinator_sets_up_a_programme_skipping_what_can_wait_in_english(
    people: People, emulator: BotAPIEmulator, db: Database
) -> None:
    admin = Person(emulator, ADMIN_EN, "Robin", "en")
    await admin.ask("/programme new")
    await admin.send("Spring Cohort")
    await admin.expect("How do participants reach the coordinator")
    await admin.send("spring@example.org")
    await admin.expect("a few words about support")
    await admin.press("Skip")
    await admin.expect("code of conduct")
    await admin.send("Be kind, keep what is said between you, and turn up prepared.")
    await admin.expect("Which language")
    await admin.press("English")
    await admin.expect("Which time zone")
    await admin.press("Keep Europe/Stockholm")
    await admin.expect("How long is a mentorship")
    await admin.send("nine")
    await admin.expect("as a number of months")
    await admin.press("12 months")
    await admin.expect("competence areas")
    await admin.press("Skip")
    created = await admin.expect("is ready")
    mentor_code, adept_code, _ = _links(created.text)
    [programme] = await _programmes(db)
    assert (programme.language, programme.timezone, programme.length_months) == (
        "en",
        "Europe/Stockholm",
        12,
    )
    assert programme.support_text is None and programme.areas is None

    sam = people("Sam", "en")
    offer = await sam.ask(f"/start j{adept_code}")
    assert "as a mentee" in offer.text
    await sam.press("Join ✅")
    welcome = await sam.expect("Welcome to Spring Cohort")
    assert "/mentors" in welcome.text and "time zone" not in welcome.text
    support = await sam.ask("/support")
    assert "spring@example.org" in support.text and COORDINATOR not in support.text
    await sam.press("🤝 Code of conduct")
    assert "turn up prepared" in (await sam.expect("turn up prepared")).text

    # Someone who is not a coordinator: /programme says who it is for.
    maria = people("Maria", "en")
    await maria.ask(f"/start j{mentor_code}")
    await maria.press("Join ✅")
    await maria.expect("Welcome to Spring Cohort")
    assert "is for programme coordinators" in (await maria.ask("/programme")).text
    assert "/programme" not in (await maria.ask("/help")).text


async def test_only_super_coordinators_create_programmes_and_unknown_links_are_refused(
    people: People, db: Database
) -> None:
    nils, sam = people("Nils", "sv"), people("Sam", "en")
    assert "skapas av bottens programansvariga" in (await nils.ask("/programme new")).text
    # Not in the wizard: a typed name is not taken for one.
    await nils.send("Mitt eget program")
    await nils.expect("/help")
    assert "created by the bot's coordinators" in (await sam.ask("/programme new")).text
    assert "till för programansvariga" in (await nils.ask("/programme")).text
    assert "recognise that link" in (await sam.ask("/start j" + "A" * 32)).text
    assert await _programmes(db) == []
    assert await _members(db) == []


async def test_an_abandoned_set_up_leaves_no_programme_behind(
    emulator: BotAPIEmulator, db: Database, bot_app: object
) -> None:
    admin = Person(emulator, ADMIN, "Kim", "sv")
    await admin.ask("/programme new")
    await admin.send("Halvfärdigt")
    await admin.expect("Hur når deltagarna")
    assert "Inget program skapades" in (await admin.ask("/cancel")).text
    [draft] = await _programmes(db)
    assert draft.draft, "kept only as its author's draft"
    # Not listed, and its links lead nowhere.
    listed = await admin.ask("/programme")
    assert "Halvfärdigt" not in listed.text
    sam = Person(emulator, 4_242, "Sam", "en")
    assert "recognise that link" in (await sam.ask(f"/start j{draft.adept_code}")).text
    # Starting again forgets it.
    await admin.ask("/programme new")
    await admin.send("Nytt försök")
    await admin.expect("Hur når deltagarna")
    assert [p.name for p in await _programmes(db)] == ["Nytt försök"]


async def _open_programme(
    db: Database, clock: TravellingClock, name: str, months: int
) -> Programme:
    """A programme as the wizard leaves it (its set-up is tested above)."""
    async with db.session() as session:
        return await programme_store.create(
            session,
            programme=Programme(
                name=name,
                coordinator_contact=f"{name.lower()}@example.org",
                length_months=months,
                mentor_code=programme_store.new_code(),
                adept_code=programme_store.new_code(),
                coordinator_code=programme_store.new_code(),
                created_at=clock.now(),
            ),
        )


async def _join(person: Person, code: str) -> None:
    sv = person.language_code == "sv"
    await person.ask(f"/start j{code}")
    await person.press("Gå med ✅" if sv else "Join ✅")
    await person.expect("Välkommen till" if sv else "Welcome to")


async def test_new_asks_which_programme_and_a_closed_programme_starts_no_pair(
    people: People, db: Database, clock: TravellingClock, emulator: BotAPIEmulator
) -> None:
    east = await _open_programme(db, clock, "Öst", 9)
    west = await _open_programme(db, clock, "Väst", 18)
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await _join(anna, east.adept_code)
    await _join(anna, west.adept_code)
    await _join(bertil, west.mentor_code)

    which = await anna.ask("/new")
    assert "Vilket gäller den här inbjudan" in which.text
    assert [label for row in which.buttons for label, _ in row] == ["Öst", "Väst"]
    await anna.press("Väst")
    await anna.expect("Inbjudan gäller Väst")
    await anna.expect("Ett nytt mentorskap")
    await anna.press("Jag är adept – bjud in min mentor")
    forward = await anna.expect("t.me/")
    match = LINK.search(forward.text)
    assert match, forward.text
    async with db.session() as session:
        [mentorship] = (await session.exec(select(Mentorship))).all()
    assert mentorship.programme_id == west.id
    assert (await _user(db, anna)).current_programme_id == west.id

    # Someone in one programme only is not asked.
    reply = await bertil.ask("/new")
    assert "Ett nytt mentorskap" in reply.text and "Vilket gäller" not in reply.text

    # The programme closes before Bertil answers: no new pair starts in it.
    emulator.add_user(ADMIN, "Kim", language_code="sv")
    admin = Person(emulator, ADMIN, "Kim", "sv")
    await admin.ask("/programme")
    await admin.press("Väst")
    await admin.expect("Väst · öppet")
    await admin.press("Avsluta programmet")
    await admin.expect("Vill du avsluta")
    await admin.press("Ja, avsluta")
    await admin.expect("är avslutat")
    answer = await bertil.ask(f"/start {match.group(2)}")
    assert "inga nya mentorskap" in answer.text
    async with db.session() as session:
        count = (await session.exec(select(func.count()).select_from(Membership))).one()
        state = (await session.exec(select(Mentorship.state))).one()
    assert count == 1 and state == MentorshipState.INVITED

    # With Väst closed, Anna has one open programme left: /new does not ask.
    assert "Ett nytt mentorskap" in (await anna.ask("/new")).text


async def test_the_contract_offers_the_programmes_planned_length_first(
    people: People, db: Database, clock: TravellingClock
) -> None:
    programme = await _open_programme(db, clock, "Långa", 18)
    anna, bertil = people("Anna", "sv"), people("Bertil", "sv")
    await anna.ask("/start")
    await bertil.ask("/start")
    adept, mentor = await _user(db, anna), await _user(db, bertil)
    async with db.session() as session:
        assert adept.id is not None and mentor.id is not None
        mentorship = Mentorship(
            created_by_id=adept.id, state=MentorshipState.INTRO, programme_id=programme.id
        )
        session.add(mentorship)
        await session.flush()
        assert mentorship.id is not None
        for user, role in ((adept, "adept"), (mentor, "mentor")):
            session.add(
                Membership(
                    mentorship_id=mentorship.id,
                    user_id=user.id or 0,
                    role=role,
                    intro_decision="continue",
                    confidentiality_agreed_at=clock.now() - timedelta(hours=1),
                )
            )
            user.current_mentorship_id = mentorship.id
            session.add(user)
    await anna.ask("/contract")
    await anna.expect("Vad vill du uppnå")
    await anna.send("Jag vill bli trygg i att leda mitt första team.")
    await anna.expect("2/8")
    await anna.press("Målstyrt")
    question = await anna.expect("räknar med mentorskap på 18 månader")
    labels = [label for row in question.buttons for label, _ in row]
    assert labels[0] == "18 månader" and {"6 månader", "9 månader", "12 månader"} <= set(labels)
    await anna.press("18 månader")
    await anna.expect("4/8")
    async with db.session() as session:
        contract = (await session.exec(select(Contract))).one()
    assert contract.duration_months == 18


async def test_where_to_turn_follows_the_programme_of_the_current_mentorship(
    people: People, db: Database, clock: TravellingClock
) -> None:
    north = await _open_programme(db, clock, "Norr", 12)
    anna, bertil, nils = people("Anna", "sv"), people("Bertil", "sv"), people("Nils", "sv")
    pair = await active_pair(db, clock, anna, bertil)
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None
        mentorship.programme_id = north.id
        session.add(mentorship)
    for person in (anna, bertil):
        support = await person.ask("/support")
        assert "norr@example.org" in support.text and COORDINATOR not in support.text
    assert "norr@example.org" in (await bertil.ask("/help")).text
    # Someone in no programme: the deployment's coordinator, as before programmes.
    assert COORDINATOR in (await nils.ask("/support")).text
