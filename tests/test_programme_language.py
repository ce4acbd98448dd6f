"""A programme's language is the language of people nothing else told us about: someone
whose Telegram sends no language and who never chose one in /settings speaks the
programme's language from the moment they join; everyone else keeps their own."""

from __future__ import annotations

from collections.abc import Callable

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage import programmes
from storage.db import Database
from storage.models import Programme
from tests.harness import Person

People = Callable[..., Person]


async def _english_programme(db: Database) -> Programme:
    async with db.session() as session:
        programme = await programmes.create(
            session,
            programme=Programme(
                name="Northern Lights",
                language="en",
                mentor_code=programmes.new_code(),
                adept_code=programmes.new_code(),
                coordinator_code=programmes.new_code(),
            ),
        )
        await session.commit()
        return programme


async def test_someone_without_a_language_takes_the_programmes_and_others_keep_theirs(
    people: People, emulator: BotAPIEmulator, db: Database, clock: TravellingClock
) -> None:
    programme = await _english_programme(db)
    unknown = Person(emulator, 7701, "Noa", None)
    swedish = people("Sara", "sv")
    for person in (unknown, swedish):
        offer = await person.ask(f"/start j{programme.adept_code}")
        # The deployment's language (Swedish) until they join.
        assert "Vill du gå med" in offer.text or "gå med" in offer.text.lower()
        await person.press("Gå med ✅", message_id=offer.message_id)
    await unknown.expect("Welcome to Northern Lights as a mentee")
    assert "Welcome" not in (await swedish.expect("Northern Lights")).text
    assert "mentors" in (await unknown.ask("/help")).text
    assert "mentorer" in (await swedish.ask("/help")).text
