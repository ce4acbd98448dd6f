"""/announce end to end: a coordinator's message to a programme goes through the outbox,
with a preview, a confirmation and a count of delivered and unreachable afterwards."""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from storage import programmes, users
from storage.db import Database
from storage.models import (
    Announcement,
    Notification,
    OutboxState,
    Programme,
    ProgrammeMember,
    User,
)
from storage.types import utcnow
from tests.harness import Person

People = Callable[..., Person]
SUPER = 9_101  # in ADMIN_IDS: may speak to every programme
NAME = "Ingenjörer <&> Co"


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"ADMIN_IDS": str(SUPER)}


async def user_of(db: Database, person: Person) -> User:
    async with db.session() as session:
        return await users.upsert_from_telegram(
            session,
            telegram_id=person.user_id,
            first_name=person.first_name,
            last_name=None,
            username=None,
            language="sv" if (person.language_code or "sv").startswith("sv") else "en",
            timezone="Europe/Stockholm",
        )


async def programme_with(
    db: Database, name: str | None, members: Iterable[tuple[User, str]]
) -> Programme:
    async with db.session() as session:
        made = await programmes.create(
            session,
            programme=Programme(
                name=name,
                mentor_code=programmes.new_code(),
                adept_code=programmes.new_code(),
                coordinator_code=programmes.new_code(),
            ),
        )
        assert made.id is not None
        session.add_all(
            ProgrammeMember(programme_id=made.id, user_id=user.id or 0, role=role)
            for user, role in members
        )
        return made


async def announcement_rows(db: Database) -> list[Notification]:
    async with db.session() as session:
        found = await session.exec(
            select(Notification).where(col(Notification.announcement_id).is_not(None))
        )
        return list(found)


async def settled_rows(db: Database, timeout: float = 5.0) -> list[Notification]:
    """The announcement rows once none is still queued or being recorded."""
    deadline = time.monotonic() + timeout
    while True:
        rows = await announcement_rows(db)
        if all(r.state not in (OutboxState.PENDING, OutboxState.SENDING) for r in rows):
            return rows
        assert time.monotonic() < deadline, [(r.kind, r.state) for r in rows]
        await asyncio.sleep(0.05)


async def announcements(db: Database) -> list[Announcement]:
    async with db.session() as session:
        return list(await session.exec(select(Announcement)))


async def test_a_coordinator_previews_cancels_then_sends_to_the_mentors_only_once(
    people: People, db: Database
) -> None:
    karin = people("Karin", "sv")
    mentors = [people("Maja", "sv"), people("Mats", "en")]
    adept, outsider = people("Ada", "sv"), people("Olle", "sv")
    member_rows = [(await user_of(db, karin), "coordinator")]
    member_rows += [(await user_of(db, m), "mentor") for m in mentors]
    member_rows.append((await user_of(db, adept), "adept"))
    await programme_with(db, NAME, member_rows)
    await programme_with(db, "Ett annat program", [(await user_of(db, outsider), "mentor")])

    await karin.ask("/announce")
    await karin.expect(f"Vilka i {NAME} ska få meddelandet?")
    await karin.press("Mentorerna")
    asked = await karin.expect("Skriv meddelandet till mentorerna")
    # 4096 less the heading: "📣 " (3 UTF-16 units), the name (17) and a blank line (2).
    assert f"högst {4096 - 3 - 17 - 2} tecken" in asked.text
    typed = "Välkomna till vårens träff <b>på tisdag</b> & ta med fika!"
    await karin.send(typed)
    preview = await karin.expect(typed)
    assert preview.text == f"📣 {NAME}\n\n{typed}", "the name on top, everything escaped"
    assert preview.entities[0]["type"] == "bold"
    confirm = await karin.expect("Det går till 2 personer (mentorerna i")
    assert [label for row in confirm.buttons for label, _ in row] == [
        "📣 Skicka till 2 personer",
        "Avbryt",
    ]
    await karin.press("Avbryt", message_id=confirm.message_id)
    await karin.expect("Inget skickades")
    assert await announcement_rows(db) == [] and await announcements(db) == []
    for person in (*mentors, adept, outsider):
        assert person.messages == []

    await karin.ask("/announce")
    await karin.press("Mentorerna")
    await karin.expect("Skriv meddelandet")
    await karin.send(typed)
    confirm = await karin.expect("Ska jag skicka det?")
    send_data = confirm.buttons[0][0][1]
    assert send_data is not None
    await karin.press("📣 Skicka till 2 personer", message_id=confirm.message_id)
    await karin.expect("Det är på väg till 2 personer")
    (swedish,) = [m.text for m in await mentors[0].replies(1)]
    assert swedish == preview.text
    (english,) = [m.text for m in await mentors[1].replies(1)]
    assert english == f"📣 {NAME}\n\n{typed}"
    count = await karin.expect("Ditt utskick till mentorerna", timeout=15)
    assert "2 personer nåddes · 0 personer gick inte att nå" in count.text

    # The confirm button pressed again: nothing more is queued.
    karin.mark_read()
    await karin.press_data(confirm.message_id, send_data)
    await karin.expect("redan skickat, till 2 personer")
    rows = await settled_rows(db)
    assert sorted((r.kind, r.state) for r in rows) == [
        ("announcement", OutboxState.SENT),
        ("announcement", OutboxState.SENT),
        ("announcement_report", OutboxState.SENT),
    ]
    assert all(r.payload == {} for r in rows)
    (sent,) = await announcements(db)
    assert sent.recipients == 2 and sent.text is None, "the text goes once all is settled"
    for person in (adept, outsider):
        assert await person.quiet(0.2) == []
    assert [len(m.messages) for m in mentors] == [1, 1]

    recent = await karin.ask("/announce")
    assert "Senaste utskicken" in recent.text
    assert "mentorerna i Ingenjörer <&> Co" in recent.text
    assert "2 personer nåddes" in recent.text


async def test_in_english_too_long_empty_forged_and_non_coordinators_are_refused(
    people: People, db: Database, emulator: BotAPIEmulator
) -> None:
    boss = Person(emulator, SUPER, "Sigrid", "en")
    mentor, mentee, elsewhere = people("Mia", "en"), people("Erik", "sv"), people("Ulf", "en")
    await programme_with(
        db,
        "Spring cohort",
        [(await user_of(db, mentor), "mentor"), (await user_of(db, mentee), "adept")],
    )
    await programme_with(db, "Autumn cohort", [(await user_of(db, elsewhere), "adept")])

    refused = await mentor.ask("/announce")
    assert "come from its coordinators" in refused.text
    assert await announcements(db) == []

    await boss.ask("/announce")
    chooser = await boss.expect("Which programme is the message for?")
    shown = [label for row in chooser.buttons for label, _ in row]
    assert "Spring cohort" in shown and "Autumn cohort" in shown
    await boss.press("Spring cohort")
    await boss.expect("Who in Spring cohort should get the message?")
    await boss.press("Everyone taking part")
    await boss.expect(f"up to {4096 - 3 - 13 - 2} characters")
    await boss.send("x" * 4090)
    too_long = await boss.expect("Telegram takes 4096")
    assert "4090 characters long" in too_long.text and "at most 4078" in too_long.text
    await boss.send("   ")
    await boss.expect("The message is empty")
    assert await announcement_rows(db) == []

    await boss.send("Reminder: the spring meetup is on Tuesday.")
    confirm = await boss.expect("It goes to 2 people (everyone taking part in Spring cohort)")
    # A button for an announcement that does not exist, or for someone else's draft.
    await boss.press_data(confirm.message_id, "ann:send:987654")
    await boss.expect("no longer waiting to be sent")
    (draft,) = await announcements(db)
    await mentor.press_data(1, f"ann:send:{draft.id}")
    await mentor.expect("no longer waiting to be sent")
    await mentor.press_data(1, "ann:to:1:all")
    await mentor.expect("come from its coordinators")
    assert await announcement_rows(db) == []

    await boss.press("📣 Send to 2 people", message_id=confirm.message_id)
    await boss.expect("It's on its way to 2 people")
    assert (await mentor.expect("Reminder: the spring meetup")).text == (
        "📣 Spring cohort\n\nReminder: the spring meetup is on Tuesday."
    )
    assert "Spring cohort" in (await mentee.expect("spring meetup")).text
    count = await boss.expect("Your announcement to everyone taking part", timeout=15)
    assert "2 people got it · 0 people couldn't be reached" in count.text
    assert await elsewhere.quiet(0.2) == []


class Arrivals:
    """Every message the emulator accepts, timed as it arrives, per chat."""

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.times: list[float] = []
        self.per_chat: dict[int, list[float]] = defaultdict(list)
        self._events = emulator.subscribe()
        self._emulator = emulator
        self._task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        while (event := await self._events.get()) is not None:
            if event["event"] == "message":
                at = time.perf_counter()
                self.times.append(at)
                self.per_chat[int(event["data"]["chat_id"])].append(at)

    def peak(self) -> int:
        """The most arrivals within any one second (a sliding window, as Telegram counts)."""
        times = sorted(self.times)
        return max(
            (bisect.bisect_right(times, t + 1.0 - 1e-9) - i for i, t in enumerate(times)),
            default=0,
        )

    async def close(self) -> None:
        self._emulator.unsubscribe(self._events)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def test_an_announcement_to_500_people_goes_out_under_the_rate_limits_counted(
    people: People, db: Database, emulator: BotAPIEmulator, clock: TravellingClock
) -> None:
    karin = people("Karin", "sv")
    coordinator = await user_of(db, karin)
    first = 700_000
    chats = range(first, first + 500)
    blocked_in_telegram = {first + 7, first + 250, first + 499}
    blocked_before = {first + 100, first + 300}  # the bot already knows these
    now = utcnow()
    async with db.session() as session:
        crowd = [
            User(
                telegram_id=chat,
                first_name=f"P{chat}",
                language="sv" if chat % 2 else "en",
                blocked_at=now if chat in blocked_before else None,
            )
            for chat in chats
        ]
        session.add_all(crowd)
        await session.flush()
        ids = [user.id for user in crowd]
    for chat in chats:
        emulator.add_user(chat, f"P{chat}")
    for chat in blocked_in_telegram | blocked_before:
        emulator.block_chat(chat)
    members: list[tuple[User, str]] = [(coordinator, "coordinator")]
    members += [(u, "mentor" if n % 3 else "adept") for n, u in enumerate(crowd)]
    # A few are both mentor and mentee: "everyone" still reaches them once.
    members += [(u, "adept") for n, u in enumerate(crowd[:30]) if n % 3]
    await programme_with(db, "Vårens program", members)
    assert all(i is not None for i in ids)

    await karin.ask("/announce")
    await karin.press("Alla deltagare")
    await karin.expect("Skriv meddelandet")
    await karin.send("Hej alla! Glöm inte träffen på torsdag.")
    confirm = await karin.expect("Det går till 500 personer")
    # Telegram's limits, enforced to the letter from here on; a short round trip per call.
    emulator.set_rate_limit(per_second=30)
    emulator.set_delay(0.01)
    arrivals = Arrivals(emulator)
    started = time.perf_counter()
    try:
        await karin.press("📣 Skicka till 500 personer", message_id=confirm.message_id)
        count = await karin.expect("Ditt utskick till alla deltagare", timeout=60)
    finally:
        await arrivals.close()
    elapsed = time.perf_counter() - started

    unreachable = blocked_in_telegram | blocked_before
    assert "495 personer nåddes · 5 personer gick inte att nå" in count.text
    got = {chat: len(emulator.chat_messages(chat)) for chat in chats}
    assert [c for c in chats if c not in unreachable and got[c] != 1] == [], "0 lost, 0 twice"
    assert [c for c in unreachable if got[c]] == []
    assert arrivals.peak() <= 30, f"{arrivals.peak()} messages within one second"
    assert emulator.rejected_429 == 0
    for chat in chats:
        times = arrivals.per_chat.get(chat, [])
        assert all(b - a >= 1.0 for a, b in itertools.pairwise(times)), chat
    async with db.session() as session:
        await settled_rows(db)
        states = dict(
            (await session.exec(
                select(Notification.state, func.count())
                .where(Notification.kind == "announcement")
                .group_by(Notification.state)
            )).all()
        )  # fmt: skip
        blocked_now = (
            await session.exec(
                select(func.count()).select_from(User).where(col(User.blocked_at).is_not(None))
            )
        ).one()
    assert states == {OutboxState.SENT: 495, OutboxState.FAILED: 5}
    assert blocked_now == 5, "the three who blocked us are now known too"
    print(f"\n500-person announcement: counted after {elapsed:.1f} s")


async def test_a_member_in_quiet_hours_gets_it_when_they_end_and_the_count_waits_for_them(
    people: People, db: Database, clock: TravellingClock
) -> None:
    karin, early, sleeper = people("Karin", "sv"), people("Maja", "sv"), people("Sam", "en")
    coordinator, awake, asleep = [await user_of(db, p) for p in (karin, early, sleeper)]
    async with db.session() as session:
        # Sam keeps the morning free until noon (the test's day starts at 10:00).
        asleep.quiet_start, asleep.quiet_end = "06:00", "12:00"
        session.add(asleep)
    await programme_with(
        db, NAME, [(coordinator, "coordinator"), (awake, "mentor"), (asleep, "mentor")]
    )

    await karin.ask("/announce")
    await karin.press("Mentorerna")
    await karin.expect("Skriv meddelandet")
    await karin.send("Träffen flyttas till torsdag.")
    confirm = await karin.expect("Det går till 2 personer")
    await karin.press("📣 Skicka till 2 personer", message_id=confirm.message_id)
    await karin.expect("Det är på väg till 2 personer")
    await early.expect("Träffen flyttas till torsdag.")
    # Past the first look at the count: one row still waits for noon, so the count waits.
    clock.advance(timedelta(seconds=30))
    async with db.session() as session:
        report = (
            await session.exec(
                select(Notification).where(Notification.kind == "announcement_report")
            )
        ).one()
    deadline = time.monotonic() + 10
    while True:
        async with db.session() as session:
            looked = await session.get(Notification, report.id)
            assert looked is not None
            if looked.state == OutboxState.PENDING and looked.due_at > clock.now():
                break
        assert time.monotonic() < deadline, "the count was never looked at"
        await asyncio.sleep(0.1)
    assert await sleeper.quiet(0.2) == []
    assert not [m for m in karin.messages if "Ditt utskick" in m.text]

    local = clock.now().astimezone(ZoneInfo("Europe/Stockholm"))
    clock.advance(local.replace(hour=12, minute=1) - local)
    await sleeper.expect("Träffen flyttas till torsdag.", timeout=10)
    count = await karin.expect("Ditt utskick till mentorerna", timeout=15)
    assert "2 personer nåddes · 0 personer gick inte att nå" in count.text


async def test_an_announcement_on_its_way_can_be_stopped_and_the_count_says_so(
    people: People, db: Database, clock: TravellingClock, dispatcher: Any
) -> None:
    karin = people("Karin", "en")
    mentors = [people(f"Mentor{i}", "en") for i in range(6)]
    outsider = people("Olle", "en")
    member_rows = [(await user_of(db, karin), "coordinator")]
    member_rows += [(await user_of(db, m), "mentor") for m in mentors]
    await programme_with(db, NAME, member_rows)

    await karin.ask("/announce")
    await karin.press("Mentors")
    await karin.expect("Type the message to the mentors")
    await karin.send("The meetup is on the 31st of February")
    confirm = await karin.expect("Shall I send it?")
    await karin.press("📣 Send to 6 people", message_id=confirm.message_id)
    queued = await karin.expect("It's on its way to 6 people")
    stop_data = queued.buttons[0][0][1]
    assert [label for row in queued.buttons for label, _ in row] == ["⏹ Stop sending"]

    # Someone else's (forged) press of the button stops nothing.
    await outsider.press_data(queued.message_id, stop_data)
    await outsider.expect("no longer waiting to be sent")
    assert all(r.state == OutboxState.PENDING for r in await announcement_rows(db))

    await karin.press("⏹ Stop sending", message_id=queued.message_id)
    await karin.expect("Stopped. 6 people who had not received the message yet won't get it")
    rows = await announcement_rows(db)
    assert sorted((r.kind, r.state) for r in rows) == [
        *[("announcement", OutboxState.CANCELLED)] * 6,
        ("announcement_report", OutboxState.PENDING),
    ]
    (stopped,) = await announcements(db)
    assert stopped.stopped_at is not None and stopped.text is None

    clock.advance(timedelta(minutes=5))
    await dispatcher.run_once()
    count = await karin.expect("6 people didn't get it because you stopped it", timeout=15)
    assert "0 people got it · 0 people couldn't be reached · 6 people didn't get it" in count.text
    for person in mentors:
        assert await person.quiet(0.1) == []
    karin.mark_read()
    await karin.press_data(queued.message_id, stop_data)
    await karin.expect("already stopped")
