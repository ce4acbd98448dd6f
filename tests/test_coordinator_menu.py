"""Coordinators see their commands in the menu: a programme's coordinators (who joined by a
coordinator link) in their own language after every start, not only `ADMIN_IDS`."""

from __future__ import annotations

from collections.abc import Callable

from bot.app import build_application
from bot.clock import TravellingClock
from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Settings
from storage import programmes
from storage.db import Database
from storage.models import Programme
from tests.conftest import TOKEN
from tests.factories import _user
from tests.harness import Person


async def test_programme_coordinators_get_their_menu_when_the_bot_starts(
    emulator: BotAPIEmulator,
    db: Database,
    clock: TravellingClock,
    make_settings: Callable[..., Settings],
) -> None:
    coordinator = Person(emulator, 8801, "Cecilia", "en")
    mentor = Person(emulator, 8802, "Mats", "sv")
    admin = Person(emulator, 8803, "Ada", "sv")
    for person in (coordinator, mentor, admin):
        emulator.add_user(person.user_id, person.first_name, language_code=person.language_code)
    coordinating, mentoring = await _user(db, coordinator), await _user(db, mentor)
    async with db.session() as session:
        programme = await programmes.create(
            session,
            programme=Programme(
                name="Menu test",
                mentor_code=programmes.new_code(),
                adept_code=programmes.new_code(),
                coordinator_code=programmes.new_code(),
            ),
        )
        assert programme.id is not None and coordinating.id and mentoring.id
        for user, role in ((coordinating, "coordinator"), (mentoring, "mentor")):
            await programmes.add_member(
                session, programme_id=programme.id, user_id=user.id, role=role, now=clock.now()
            )
        await session.commit()

    application = build_application(
        make_settings(ADMIN_IDS=str(admin.user_id)), token=TOKEN, database=db, clock=clock
    )
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)
    finally:
        await application.shutdown()

    def menu_of(person: Person) -> list[str]:
        scope = {"type": "chat", "chat_id": person.user_id}
        return [c["command"] for c in emulator.commands(scope=scope)]

    assert {"stats", "announce", "programme"} <= set(menu_of(coordinator))
    assert {"stats", "announce", "programme"} <= set(menu_of(admin))
    assert menu_of(mentor) == [], "a mentor keeps the menu everyone has"
    # In the coordinator's own language.
    described = {
        c["command"]: c["description"]
        for c in emulator.commands(scope={"type": "chat", "chat_id": coordinator.user_id})
    }
    assert described["stats"] == t("en", "cmd.stats") != t("sv", "cmd.stats")
