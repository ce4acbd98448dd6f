"""/stats per programme for its coordinators (text, chart, CSV), and "please contact me":
the only way a name reaches a coordinator, and only after the person confirms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage import programmes as programme_store
from storage.db import Database
from storage.models import Mentorship, SupportReport
from tests.factories import active_pair, busy_programme
from tests.harness import Person

People = Callable[..., Person]
ADMIN = 9_101

WORDS = {
    "sv": {
        "choose": "Vilket program",
        "active": "Aktiva: 7",
        "refused": "Statistiken är bara för programansvarig",
        "contact": "📞 Be programansvarig kontakta mig",
        "confirm": "Vill du att programansvarig hör av sig",
        "send": "Skicka till programansvarig",
        "discard": "Skicka inte",
        "discarded": "Inget skickades",
        "sent": "Programansvarig vet nu att du vill bli kontaktad",
        "received": "Någon vill att du hör av dig",
        "counted": "Förfrågningar om att bli kontaktad: <5",
        "nothing_written": "Inget du har skrivit i boten följer med",
        "report": "✉️ Rapportera ett problem",
        "report_received": "rapporterat via mentorskapsboten",
        "stale": "Den knappen gäller inte längre",
    },
    "en": {
        "choose": "Which programme",
        "active": "Active: 7",
        "refused": "Statistics are for the programme coordinator only",
        "contact": "📞 Ask the coordinator to contact me",
        "confirm": "Would you like the programme coordinator to get in touch",
        "send": "Send to the coordinator",
        "discard": "Don't send",
        "discarded": "Nothing was sent",
        "sent": "now knows you'd like to be contacted",
        "received": "Someone would like you to get in touch",
        "counted": "Requests to be contacted: <5",
        "nothing_written": "Nothing you have written in the bot goes with it",
        "report": "✉️ Report a problem",
        "report_received": "reported through the mentorship bot",
        "stale": "That button no longer applies",
    },
}


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ADMIN_IDS": str(ADMIN)}


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_a_super_coordinator_chooses_a_programme_and_gets_text_chart_and_csv(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock, language: str
) -> None:
    words = WORDS[language]
    coordinator = people("Koordinator", language)
    await busy_programme(db, clock, coordinator, marker="QZXW")
    # Pairs from before programmes (or made by /new outside any) are the default one's.
    async with db.session() as session:
        await programme_store.default(session, now=clock.now())
        await session.commit()
    admin = Person(emulator, ADMIN, "Super", language)
    choice = await admin.ask("/stats")
    assert words["choose"] in choice.text
    labels = [text for row in choice.buttons for text, _ in row]
    assert "Hälsoprogrammet" in labels and len(labels) == 2, "the default programme too"
    await admin.press("Hälsoprogrammet", message_id=choice.message_id)
    text, photo, document = await admin.replies(3, timeout=30)
    assert words["active"] in text.text and "Hälsoprogrammet" in text.text
    assert photo.kind == "photo" and photo.photo is not None and photo.caption
    assert document.kind == "document" and document.document is not None
    table = document.document.data.decode("utf-8-sig")
    assert table.startswith("metric,label,month,value\r\n")
    assert ("pairs.active,Aktiva,,7" if language == "sv" else "pairs.active,Active,,7") in table
    assert "QZXW" not in text.text + table

    # A programme's own coordinator sees it at once, without choosing.
    await coordinator.send("/stats")
    text, photo, document = await coordinator.replies(3, timeout=30)
    assert words["active"] in text.text
    assert (photo.kind, document.kind) == ("photo", "document")


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_a_person_who_coordinates_nothing_is_refused_and_a_forged_button_shows_nothing(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock, language: str
) -> None:
    words = WORDS[language]
    coordinator, other = people("Koordinator", language), people("Samordnare", language)
    await busy_programme(db, clock, coordinator, marker="QZXW")
    theirs = await busy_programme(
        db, clock, other, marker="VKJY", name="Grannprogrammet", first_telegram_id=800_000
    )
    nobody = people("Nils", language)
    assert words["refused"] in (await nobody.ask("/stats")).text
    assert await nobody.quiet(0.3) == []
    # A coordinator pressing a made-up button for another programme: refused, nothing shown.
    mine = await coordinator.ask("/stats")
    await coordinator.replies(2, timeout=30)
    await coordinator.press_data(mine.message_id, f"hl:p:{theirs.programme_id}")
    refusal = await coordinator.reply()
    assert words["refused"] in refusal.text and refusal.kind == "text"
    assert await coordinator.quiet(0.5) == []


async def _pair_in_programme(
    db: Database,
    clock: TravellingClock,
    people: People,
    emulator: BotAPIEmulator,
    language: str,
) -> tuple[Person, Person, Person]:
    """Ulla (with a username) and her mentor, in Hälsoprogrammet, and its coordinator."""
    coordinator = people("Koordinator", language)
    programme = await busy_programme(db, clock, coordinator, marker="QZXW", layout={})
    ulla, mentor = people("Ulla", language), people("Mats", language)
    emulator.add_user(ulla.user_id, "Ulla", username="ulla_u", language_code=language)
    pair = await active_pair(db, clock, ulla, mentor)
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None
        mentorship.programme_id = programme.programme_id
        session.add(mentorship)
    return ulla, coordinator, Person(emulator, ADMIN, "Super", language)


@pytest.mark.parametrize("language", ["sv", "en"])
async def test_a_contact_request_reaches_the_programmes_coordinator_only_after_confirming(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock, language: str
) -> None:
    words = WORDS[language]
    ulla, coordinator, admin = await _pair_in_programme(db, clock, people, emulator, language)
    await ulla.ask("/support")
    await ulla.press(words["contact"])
    confirm = await ulla.expect(words["confirm"])
    for shown in ("Ulla", "@ulla_u", "Hälsoprogrammet", words["nothing_written"]):
        assert shown in confirm.text
    assert coordinator.messages == [] and admin.messages == [], "nothing before confirming"

    await ulla.press(words["discard"], message_id=confirm.message_id)
    await ulla.expect(words["discarded"])
    assert await coordinator.quiet(0.3) == [] and admin.messages == []

    await ulla.ask("/support")
    await ulla.press(words["contact"])
    confirm = await ulla.expect(words["confirm"])
    send = confirm.buttons[0][0][1]
    assert send is not None and send.startswith("sup:send:")
    await ulla.press(words["send"], message_id=confirm.message_id)
    await ulla.expect(words["sent"])
    received = await coordinator.expect(words["received"])
    for shown in ("Ulla", "@ulla_u", "Hälsoprogrammet"):
        assert shown in received.text
    assert admin.messages == [], (
        "the programme has a coordinator: the super-coordinator is not told"
    )
    async with db.session() as session:
        [request] = (await session.exec(select(SupportReport))).all()
    assert request.kind == "contact" and request.sent_at is not None and request.text is None
    # The same button again (pressed twice, or a stale chat): nothing more is sent.
    coordinator.mark_read()
    await ulla.press_data(confirm.message_id, send)
    await ulla.expect(words["stale"])
    assert await coordinator.quiet(0.5) == []

    coordinator.mark_read()
    await coordinator.send("/stats")
    text, _, document = await coordinator.replies(3, timeout=30)
    assert words["counted"] in text.text
    assert document.document is not None
    assert "contact_requests_sent," in document.document.data.decode("utf-8-sig")
    assert "Ulla" not in text.text and "ulla_u" not in text.text


async def test_a_problem_report_goes_to_the_programmes_coordinator(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock
) -> None:
    words = WORDS["sv"]
    ulla, coordinator, admin = await _pair_in_programme(db, clock, people, emulator, "sv")
    await ulla.ask("/support")
    await ulla.press(words["report"])
    await ulla.send("Våra möten blir aldrig av.")
    confirm = await ulla.expect("Det här får programansvarig")
    assert coordinator.messages == []
    await ulla.press(words["send"], message_id=confirm.message_id)
    received = await coordinator.expect(words["report_received"])
    assert "Våra möten blir aldrig av." in received.text and "Ulla" in received.text
    await ulla.expect("Skickat")
    assert admin.messages == []
    async with db.session() as session:
        [report] = (await session.exec(select(SupportReport))).all()
    assert report.kind == "report" and report.programme_id is not None and report.text is None
