"""A mentee who asked two mentors and is accepted by one has a mentor: the other request
is taken back, and that mentor hears it kindly, without being told who said yes."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import col, select

from bot.clock import TravellingClock
from storage.db import Database
from storage.models import Mentorship
from tests.factories import programme_with, published_profile
from tests.harness import Person
from tests.test_directory_e2e import request_rows

People = Callable[..., Person]


async def _ask_the_one_listed(sam: Person, mentor: str, note: str) -> None:
    await sam.ask("/mentors")
    await sam.press("👀 Show 1 mentor")
    await sam.expect("1 of 1")
    await sam.press("🙋 Ask for mentorship")
    await sam.expect(f"Write a few lines to {mentor}")
    await sam.send(note)
    await sam.expect(f"has been sent to {mentor}")


async def test_an_accepted_request_withdraws_the_mentees_other_requests(
    people: People, db: Database, clock: TravellingClock
) -> None:
    maria, nils, sam = people("Maria", "en"), people("Nils", "en"), people("Sam", "en")
    pid = await programme_with(
        db, clock, name="Tech mentors", areas=["Backend"], mentors=(maria, nils), adepts=(sam,)
    )
    await published_profile(
        db, clock, programme_id=pid, mentor=maria, areas=["Backend"], career="Twenty years"
    )
    await _ask_the_one_listed(sam, "Maria", "Help me grow as a backend developer")
    to_maria = await maria.expect("Sam would like you as their mentor")
    # Maria is asked already, so only Nils is listed once his profile is out.
    await published_profile(
        db, clock, programme_id=pid, mentor=nils, areas=["Backend"], career="Ten years"
    )
    await _ask_the_one_listed(sam, "Nils", "Or could you be my mentor?")
    to_nils = await nils.expect("Sam would like you as their mentor")

    await maria.press("Accept ✅", message_id=to_maria.message_id)
    await sam.expect("Maria accepted your request")
    told = await nils.expect("has found a mentor in the programme")
    assert "Maria" not in told.text
    await nils.press("Accept ✅", message_id=to_nils.message_id)
    await nils.expect("has been withdrawn, so there's nothing to answer")

    assert [r.state for r in await request_rows(db)] == ["accepted", "withdrawn"]
    async with db.session() as session:
        pairs = (await session.exec(select(Mentorship).order_by(col(Mentorship.id)))).all()
    assert [p.state for p in pairs] == ["intro"]
