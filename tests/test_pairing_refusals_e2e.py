"""Invitations and buttons that must be refused, kindly, with nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlmodel import select

from bot.clock import TravellingClock
from storage.db import Database
from storage.models import Contract, Invite, Mentorship
from tests.harness import Person
from tests.test_pairing_e2e import invite, pair, snapshot

People = Callable[..., Person]
ADEPT_BUTTON = "Jag är adept – bjud in min mentor"


async def test_used_expired_revoked_malformed_and_own_links_are_refused(
    people: People, db: Database, clock: TravellingClock
) -> None:
    anna, bert, carl = people("Anna", "sv"), people("Bert", "sv"), people("Carl", "sv")

    own = await invite(anna, ADEPT_BUTTON)
    before = await snapshot(db)
    assert "din egen inbjudan" in (await anna.ask(f"/start {own}")).text
    assert "inte vara komplett" in (await bert.ask("/start abc<script>")).text
    assert "hittar inte" in (await bert.ask("/start " + "A" * 32)).text
    assert await snapshot(db) == before

    # Used: Bert accepts, then Carl tries the same link.
    await bert.ask(f"/start {own}")
    await bert.press("Tacka ja ✅")
    await bert.expect("Du tackade ja")
    before = await snapshot(db)
    assert "redan använd" in (await carl.ask(f"/start {own}")).text
    assert await snapshot(db) == before

    # Revoked: the creator withdraws; the link is dead.
    revoked = await invite(carl, ADEPT_BUTTON)
    await carl.press("Dra tillbaka inbjudan")
    assert "tillbakadragen" in (await carl.expect("tillbakadragen")).text
    before = await snapshot(db)
    assert "dragit tillbaka" in (await bert.ask(f"/start {revoked}")).text
    assert await snapshot(db) == before

    # Expired: 15 days later (the default validity is 14).
    expiring = await invite(carl, ADEPT_BUTTON)
    clock.advance(timedelta(days=15))
    before = await snapshot(db)
    answer = await bert.ask(f"/start {expiring}")
    assert "gick ut" in answer.text and "Carl" in answer.text
    assert await snapshot(db) == before
    async with db.session() as session:
        states = (await session.exec(select(Mentorship.state))).all()
    assert sorted(states) == ["declined", "intro", "invited"]


async def test_pressing_accept_on_an_already_answered_invitation_changes_nothing(
    people: People, db: Database
) -> None:
    ina, jon = people("Ina", "sv"), people("Jon", "sv")
    code = await invite(ina, ADEPT_BUTTON)
    await jon.ask(f"/start {code}")
    invitation = jon.last
    await jon.press("Tacka nej", message_id=invitation.message_id)
    await jon.expect("Du tackade nej")
    before = await snapshot(db)
    await jon.press_data(invitation.message_id, f"pair:acc:{code}")
    await jon.expect("redan avböjts")
    assert await snapshot(db) == before


async def test_a_third_person_cannot_use_another_pairs_buttons(
    people: People, db: Database
) -> None:
    ella, fred, mallory = people("Ella", "en"), people("Fred", "en"), people("Mallory", "en")
    await pair(ella, fred, "I'm the mentee – invite my mentor", "Accept ✅")
    await fred.expect("intro meeting with Ella")
    async with db.session() as session:
        mentorship = (await session.exec(select(Mentorship))).one()
        invite_row = (await session.exec(select(Invite))).one()
    mid = mentorship.id
    await mallory.ask("/start")
    before = await snapshot(db)
    forged = [
        f"intro:yes:{mid}",
        f"intro:no:{mid}",
        f"intro:areas:{mid}",
        f"conf:yes:{mid}",
        f"ctr:draft:{mid}",
        f"ctr:change:{mid}",
        "ctr:acc:1",
        "ctr:chg:1",
        f"pair:rev:{invite_row.id}",
        f"ms:pick:{mid}:switch",
        f"ms:pick:{mid}:decide",
        "ctr:set:mode:goal",
        "ctr:send",
    ]
    for data in forged:
        mallory.mark_read()
        query_id = await mallory.press_data(mallory.last.message_id, data)
        await mallory.callback_answer(query_id)
        await mallory.quiet(0.05)
    assert await snapshot(db) == before
    texts = " ".join(m.text for m in mallory.messages)
    assert "someone else's mentorship" in texts
    assert "Ella" not in texts and "Fred" not in texts


async def test_commands_out_of_order_are_explained(people: People, db: Database) -> None:
    gun, hans = people("Gun", "sv"), people("Hans", "sv")
    before = await snapshot(db)
    assert "/new" in (await gun.ask("/contract")).text
    assert "inget introduktionsmöte" in (await gun.ask("/decide")).text
    assert "/new" in (await gun.ask("/areas")).text
    assert "löfte om sekretess" in (await gun.ask("/confidentiality")).text
    assert await snapshot(db) == before

    await pair(gun, hans, ADEPT_BUTTON, "Tacka ja ✅")
    await gun.expect("Före mötet")
    before = await snapshot(db)
    # Confidentiality and the contract before both decided to continue.
    assert "bestämma er" in (await gun.ask("/confidentiality")).text
    assert "bestämma er" in (await gun.ask("/contract")).text
    assert await snapshot(db) == before
    async with db.session() as session:
        assert not (await session.exec(select(Contract))).all()
