"""/support always answers; reports reach the coordinators only when confirmed;
/stats gives coordinators counts and never content."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.models import SupportReport
from tests.conftest import COORDINATOR
from tests.factories import active_pair
from tests.harness import Person

People = Callable[..., Person]
ADMIN = 9_001
UNREACHABLE_ADMIN = 9_002


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ADMIN_IDS": f"{ADMIN},{UNREACHABLE_ADMIN}"}


def _assert_support(text: str) -> None:
    assert COORDINATOR in text
    assert "112" in text and "114 14" in text


async def test_support_answers_without_a_mentorship_and_in_the_middle_of_a_flow(
    people: People,
) -> None:
    nils = people("Nils", "sv")
    _assert_support((await nils.ask("/support")).text)
    await nils.ask("/settings")
    reply = await nils.ask("/support")
    _assert_support(reply.text)
    assert "illa behandlad" in reply.text
    # The flow is still where it was.
    await nils.press("English")
    assert "time zone" in (await nils.expect("time zone")).text
    sam = people("Sam", "en")
    _assert_support((await sam.ask("/support")).text)


async def test_a_report_reaches_the_coordinators_only_after_confirming(
    people: People, emulator: BotAPIEmulator, db: Database
) -> None:
    emulator.add_user(ADMIN, "Koordinator", language_code="sv")
    admin = Person(emulator, ADMIN, "Koordinator", "sv")
    ulla = people("Ulla", "sv")
    await ulla.ask("/support")
    await ulla.press("✉️ Rapportera ett problem")
    await ulla.expect("Beskriv problemet")
    await ulla.send("Min mentor <b>respekterar</b> inte vår sekretess 😟")
    confirm = await ulla.expect("Det här får programansvarig")
    assert "Min mentor <b>respekterar</b> inte vår sekretess 😟" in confirm.text
    assert admin.messages == [], "nothing is sent before the person confirms"
    await ulla.press("Skicka till programansvarig", message_id=confirm.message_id)
    await ulla.expect("Skickat")
    received = await admin.expect("rapporterat via mentorskapsboten")
    assert "Min mentor <b>respekterar</b> inte vår sekretess 😟" in received.text
    assert "Ulla" in received.text
    async with db.session() as session:
        report = (await session.exec(select(SupportReport))).one()
    assert report.sent_at is not None and report.text is None, "delivered text is not kept"

    # A second report the person decides not to send goes nowhere.
    await ulla.ask("/support")
    await ulla.press("✉️ Rapportera ett problem")
    await ulla.send("Ett utkast")
    draft = await ulla.expect("Det här får programansvarig")
    admin.mark_read()
    await ulla.press("Skicka inte", message_id=draft.message_id)
    await ulla.expect("Inget skickades")
    assert await admin.quiet(0.3) == []


async def test_coordinators_see_counts_and_never_content(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock
) -> None:
    # "Anna" would be found inside "Annan anledning": names no label contains.
    anna, bertil = people("Agnetha", "sv"), people("Bertil", "sv")
    await active_pair(db, clock, anna, bertil)
    await anna.ask("/start")
    assert "programansvarig" in (await anna.ask("/stats")).text
    emulator.add_user(ADMIN, "Koordinator", language_code="sv")
    admin = Person(emulator, ADMIN, "Koordinator", "sv")
    numbers = await admin.ask("/stats")
    assert "Aktiva: <5" in numbers.text  # one pair: a count under 5 is masked
    assert "Agnetha" not in numbers.text and "Bertil" not in numbers.text
    assert "ledare" not in numbers.text  # the contract's aims stay private to the pair


async def test_a_report_refused_as_too_short_keeps_the_person_at_the_question(
    people: People, db: Database
) -> None:
    ulla = people("Ulla", "sv")
    await ulla.ask("/support")
    await ulla.press("✉️ Rapportera ett problem")
    await ulla.expect("Beskriv problemet i ett meddelande")
    await ulla.send("ok")
    await ulla.expect("Beskriv problemet med några ord")
    # Still at the question: the next text is the report.
    await ulla.send("Våra möten ställs in utan förklaring.")
    confirm = await ulla.expect("Det här får programansvarig")
    assert "Våra möten ställs in utan förklaring." in confirm.text
    async with db.session() as session:
        reports = (await session.exec(select(SupportReport))).all()
    assert [report.text for report in reports] == ["Våra möten ställs in utan förklaring."]
