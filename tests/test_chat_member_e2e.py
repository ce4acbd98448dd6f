"""Blocking and unblocking the bot, and editing a sent message, through the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
from sqlmodel import col, select

from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator
from bot.scheduler import Dispatcher
from bot.usecases import notify
from storage.db import Database
from storage.models import DiaryEntry, Notification, OutboxState, User
from tests.harness import Person

People = Callable[..., Person]


async def stored_user(db: Database, person: Person) -> User:
    async with db.session() as session:
        found = (await session.exec(select(User).where(User.telegram_id == person.user_id))).one()
    return found


async def until_stored(db: Database, person: Person, check: Callable[[User], bool]) -> User:
    deadline = asyncio.get_running_loop().time() + 5
    while not check(user := await stored_user(db, person)):
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"user {person.user_id} never got there: {user}")
        await asyncio.sleep(0.05)
    return user


def sends_to(emulator: BotAPIEmulator, person: Person) -> int:
    return sum(
        1
        for method, params in emulator.calls
        if method.startswith("send") and params.get("chat_id") == person.user_id
    )


async def queue_hello(db: Database, user: User, dedupe: str, now: Any) -> None:
    async with db.session() as session:
        await notify.tell(
            session, recipient=user, key="common.nothing_to_cancel", dedupe=dedupe, now=now
        )


async def test_blocking_the_bot_is_remembered_at_once_and_unblocking_clears_it(
    people: People, db: Database, emulator: BotAPIEmulator, dispatcher: Dispatcher
) -> None:
    kim = people("Kim", "en")
    await kim.ask("/start")
    emulator.set_bot_blocked(kim.user_id)
    user = await until_stored(db, kim, lambda u: u.blocked_at is not None)

    # Nothing is even tried: the row fails as blocked instead of running into a 403.
    before = sends_to(emulator, kim)
    await queue_hello(db, user, "hello:blocked", dispatcher.clock.now())
    assert (await dispatcher.run_once()).failed == 1
    async with db.session() as session:
        row = (await session.exec(select(Notification))).one()
    assert (row.state, row.last_error) == (OutboxState.FAILED, "recipient blocked")
    assert sends_to(emulator, kim) == before

    # Unblocking clears it before they write a word, and messages reach them again.
    emulator.set_bot_blocked(kim.user_id, False)
    user = await until_stored(db, kim, lambda u: u.blocked_at is None)
    await queue_hello(db, user, "hello:back", dispatcher.clock.now())
    assert (await dispatcher.run_once()).sent == 1
    assert kim.last.text == t("en", "common.nothing_to_cancel")


async def test_a_stranger_blocking_the_bot_leaves_no_trace(
    people: People, db: Database, emulator: BotAPIEmulator, bot_app: object
) -> None:
    ghost = people("Ghost", "en")
    emulator.set_bot_blocked(ghost.user_id)
    emulator.set_bot_blocked(ghost.user_id, False)
    await until_served(emulator)
    async with db.session() as session:
        assert (await session.exec(select(User))).all() == [], "no one is made from a block"
    await emulator.send_text(ghost.user_id, "/start")
    await ghost.reply()
    user = await stored_user(db, ghost)
    assert user.blocked_at is None


async def until_served(emulator: BotAPIEmulator) -> None:
    """Until the bot has fetched every update queued so far (and a moment to handle them)."""
    for _ in range(100):
        if not emulator.pending_updates():
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)


async def send(person: Person, text: str) -> int:
    """What `Person.send` does, keeping the message id so the person can edit it later."""
    person.mark_read()
    message = await person.emulator.send_text(person.user_id, text)
    return int(message["message_id"])


async def diary_texts(db: Database) -> list[str]:
    async with db.session() as session:
        return list(await session.exec(select(DiaryEntry.text).order_by(col(DiaryEntry.id))))


async def test_an_edited_diary_entry_is_not_stored_and_the_person_is_told_kindly(
    people: People, db: Database
) -> None:
    anna = people("Anna", "sv")
    await anna.ask("/start")
    await anna.send("/diary")
    await anna.expect("📓")
    await anna.press("✍️ Skriv en anteckning")
    await anna.expect("Ny anteckning")
    first = await send(anna, "Första tanken om mötet")
    await anna.expect("Sparat 🔒")

    # Right after saving, a typed follow-up would join the entry; an edit never does.
    anna.mark_read()
    await anna.emulator.edit_text(anna.user_id, first, "Ändrad tanke om mötet")
    (told,) = await anna.replies(1)
    assert told.text == t("sv", "common.edit_not_picked_up")
    assert await anna.quiet() == [], "one answer, nothing from the diary"
    assert await diary_texts(db) == ["Första tanken om mötet"]

    # Mid-flow, the edit neither answers the question nor ends the flow.
    await anna.send("/diary")
    await anna.expect("📓")
    await anna.press("✍️ Skriv en anteckning")
    await anna.expect("Ny anteckning")
    anna.mark_read()
    await anna.emulator.edit_text(anna.user_id, first, "Ännu en ändring")
    await anna.expect("kom inte med")
    await send(anna, "Andra tanken")
    await anna.expect("Sparat 🔒")
    assert await diary_texts(db) == ["Första tanken om mötet", "Andra tanken"]


async def test_an_edit_that_becomes_a_command_starts_nothing(people: People, db: Database) -> None:
    sam = people("Sam", "en")
    hello = await send(sam, "/start")
    await sam.reply()
    sam.mark_read()
    await sam.emulator.edit_text(sam.user_id, hello, "/settings")
    (answer,) = await sam.replies(1)
    assert answer.text == t("en", "common.edit_not_picked_up")
    assert await sam.quiet() == [], "no settings menu came with it"
    async with db.session() as session:
        assert (await session.exec(select(Notification))).all() == []


async def test_the_control_api_can_edit_a_message_and_block_the_bot(
    people: People, db: Database, emulator: BotAPIEmulator
) -> None:
    eva = people("Eva", "en")
    hello = await send(eva, "/start")
    await eva.reply()
    control = emulator.base_url.removesuffix("/bot") + "/control"
    async with aiohttp.ClientSession() as http:
        eva.mark_read()
        body = {"user_id": eva.user_id, "message_id": hello, "text": "/start again"}
        async with http.post(f"{control}/edit", json=body) as answer:
            assert answer.status == 200
            assert (await answer.json())["edit_date"]
        await eva.expect("wasn't picked up")
        async with http.post(
            f"{control}/blocked", json={"user_id": eva.user_id, "blocked": True}
        ) as answer:
            assert answer.status == 200
        await until_stored(db, eva, lambda u: u.blocked_at is not None)
        async with http.post(
            f"{control}/edit", json={"user_id": eva.user_id, "message_id": 999, "text": "x"}
        ) as answer:
            assert answer.status == 404
