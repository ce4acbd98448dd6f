"""The outbox dispatcher end to end: the real PTB application, the emulator, the real database.

Most tests pause the installed periodic job (`dispatcher` fixture) and call
`run_once` themselves, so what happens in a run is deterministic. Business time
comes from the travelling clock; pacing uses real time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot import scheduler
from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator
from bot.scheduler import Dispatcher, DispatchReport, Outgoing, RenderContext
from bot.settings import Settings
from bot.telegram_http import AiohttpRequest
from storage import outbox, users
from storage.db import Database
from storage.models import Notification, OutboxState, User
from tests.conftest import TOKEN

STOCKHOLM = ZoneInfo("Europe/Stockholm")
EMERGENCY = {"key": "help.emergency"}


def advance_to(clock: TravellingClock, hour: int, minute: int = 0) -> datetime:
    """Move the clock forward to the next hh:mm on Stockholm's wall clock."""
    now = clock.now()
    local = now.astimezone(STOCKHOLM)
    target = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if target <= local:
        target = (target + timedelta(days=1)).replace(hour=hour, minute=minute)
    return clock.advance(target.astimezone(UTC) - now)


@pytest.fixture(autouse=True)
async def close_extra_bots(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[None]:
    """Tests make dispatchers of their own and never close them; their bots' aiohttp
    sessions are closed here (after the app's, which runs its own close; shutting down
    twice is harmless) instead of being reported unclosed at exit."""
    opened: list[AiohttpRequest] = []
    initialize = AiohttpRequest.initialize

    async def noted(request: AiohttpRequest) -> None:
        opened.append(request)
        await initialize(request)

    monkeypatch.setattr(AiohttpRequest, "initialize", noted)
    yield
    for request in opened:
        await request.shutdown()


@pytest.fixture
def daytime(clock: TravellingClock) -> datetime:
    """Noon in Stockholm, outside the default quiet hours (21:00-08:00)."""
    return advance_to(clock, 12)


async def recipient(
    db: Database,
    emulator: BotAPIEmulator,
    telegram_id: int,
    *,
    language: str = "sv",
    timezone: str = "Europe/Stockholm",
    quiet: tuple[str, str] | None = None,
) -> int:
    emulator.add_user(telegram_id, f"Person {telegram_id}", language_code=language)
    async with db.session() as session:
        user = User(
            telegram_id=telegram_id,
            first_name=f"Person {telegram_id}",
            language=language,
            timezone=timezone,
            quiet_start=quiet[0] if quiet else None,
            quiet_end=quiet[1] if quiet else None,
        )
        session.add(user)
        await session.flush()
        assert user.id is not None
        return user.id


async def queue(
    db: Database,
    key: str,
    recipient_id: int,
    *,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    kind: str = "message",
    expires_at: datetime | None = None,
) -> bool:
    async with db.session() as session:
        return await outbox.enqueue(
            session,
            key=key,
            recipient_id=recipient_id,
            kind=kind,
            due_at=due_at,
            payload=EMERGENCY if payload is None else payload,
            expires_at=expires_at,
        )


async def stored(db: Database, key: str) -> Notification:
    async with db.session() as session:
        found = await outbox.get_by_key(session, key=key)
    assert found is not None
    return found


async def user_row(db: Database, user_id: int) -> User:
    async with db.session() as session:
        found = await users.get(session, user_id=user_id)
    assert found is not None
    return found


def sends_to(emulator: BotAPIEmulator, chat_id: int) -> int:
    return sum(
        1
        for method, params in emulator.calls
        if method in ("sendmessage", "senddocument") and str(params.get("chat_id")) == str(chat_id)
    )


async def drain(
    dispatchers: list[Dispatcher], db: Database, expected: int, timeout: float = 60.0
) -> DispatchReport:
    """Run the dispatchers side by side until `expected` rows were sent."""
    total = DispatchReport()
    deadline = time.monotonic() + timeout
    while total.sent < expected:
        assert time.monotonic() < deadline, f"only {total.sent} of {expected} sent: {total}"
        for report in await asyncio.gather(*(d.run_once() for d in dispatchers)):
            total.add(report)
        async with db.session() as session:
            if await outbox.next_due(session) is None and total.sent < expected:
                await asyncio.sleep(0.05)  # the rest is held by the other dispatcher
    return total


# -- the basics ---------------------------------------------------------------------------


async def test_a_key_queued_twice_gives_one_row_and_one_message(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    anna = await recipient(db, emulator, 41_001)
    assert await queue(db, "intro:welcome:1", anna, due_at=daytime) is True
    assert await queue(db, "intro:welcome:1", anna, due_at=daytime) is False
    report = await dispatcher.run_once()
    assert (report.claimed, report.sent) == (1, 1)
    assert (await dispatcher.run_once()).claimed == 0
    assert len(emulator.chat_messages(41_001)) == 1


async def test_a_row_is_sent_when_it_falls_due_and_exactly_once(
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
) -> None:
    anna = await recipient(db, emulator, 41_002)
    await queue(db, "reminder:1", anna, due_at=daytime + timedelta(hours=1))
    assert (await dispatcher.run_once()).sent == 0
    assert emulator.chat_messages(41_002) == []
    clock.advance(timedelta(hours=1))
    assert (await dispatcher.run_once()).sent == 1
    for _ in range(3):
        assert (await dispatcher.run_once()).claimed == 0
    (message,) = emulator.chat_messages(41_002)
    assert "112" in message.text
    row = await stored(db, "reminder:1")
    assert (row.state, row.attempts) == (OutboxState.SENT, 1)
    assert row.sent_at is not None and row.sent_at >= daytime + timedelta(hours=1)


async def test_a_row_that_expired_while_the_bot_was_down_is_not_sent_nor_its_text_logged(
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="mentorbot")
    secret = {"key": "help.coordinator", "values": {"contact": "Pomegranate-7731"}}
    anna = await recipient(db, emulator, 41_003)
    await queue(
        db,
        "checkin:stale",
        anna,
        due_at=daytime - timedelta(hours=3),
        expires_at=daytime - timedelta(hours=1),
        payload=secret,
    )
    await queue(db, "checkin:fresh", anna, due_at=daytime, payload=secret)
    report = await dispatcher.run_once()
    assert (report.expired, report.sent) == (1, 1)
    expired = await stored(db, "checkin:stale")
    assert expired.state == OutboxState.EXPIRED and expired.sent_at is None
    (message,) = emulator.chat_messages(41_003)  # only the fresh one
    assert "Pomegranate-7731" in message.text
    lines = [record.getMessage() for record in caplog.records]
    assert any("message" in line and f"id={expired.id}" in line for line in lines), lines
    assert not [line for line in lines if "Pomegranate" in line]


async def test_at_eleven_at_night_a_message_waits_until_eight_in_the_morning(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, clock: TravellingClock
) -> None:
    late = advance_to(clock, 23)
    anna = await recipient(db, emulator, 41_004)
    await queue(db, "goal:nudge", anna, due_at=late)
    report = await dispatcher.run_once()
    assert (report.deferred, report.sent) == (1, 0)
    row = await stored(db, "goal:nudge")
    morning = row.due_at.astimezone(STOCKHOLM)
    assert (morning.hour, morning.minute) == (8, 0) and morning.date() > late.date()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0), "deferral is no attempt"
    clock.advance(row.due_at - clock.now() - timedelta(minutes=1))
    assert (await dispatcher.run_once()).claimed == 0
    assert emulator.chat_messages(41_004) == []
    clock.advance(timedelta(minutes=1))
    assert (await dispatcher.run_once()).sent == 1
    assert len(emulator.chat_messages(41_004)) == 1


async def test_a_persons_own_quiet_hours_and_time_zone_are_respected(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, clock: TravellingClock
) -> None:
    late = advance_to(clock, 23)  # 22:00 in London, 17:00 in New York
    night_owl = await recipient(
        db, emulator, 41_005, timezone="Europe/London", quiet=("23:30", "07:00")
    )
    new_yorker = await recipient(db, emulator, 41_006, timezone="America/New_York")
    early_bird = await recipient(db, emulator, 41_007, quiet=("22:00", "06:00"))
    for number, person in enumerate((night_owl, new_yorker, early_bird)):
        await queue(db, f"q:{number}", person, due_at=late)
    report = await dispatcher.run_once()
    assert (report.sent, report.deferred) == (2, 1)
    assert [len(emulator.chat_messages(c)) for c in (41_005, 41_006, 41_007)] == [1, 1, 0]
    deferred = (await stored(db, "q:2")).due_at.astimezone(STOCKHOLM)
    assert (deferred.hour, deferred.minute) == (6, 0)


async def test_quiet_hours_that_outlast_the_expiry_expire_the_row(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, clock: TravellingClock
) -> None:
    late = advance_to(clock, 23)
    anna = await recipient(db, emulator, 41_008)
    await queue(db, "tonight-only", anna, due_at=late, expires_at=late + timedelta(hours=2))
    assert (await dispatcher.run_once()).expired == 1
    assert (await stored(db, "tonight-only")).state == OutboxState.EXPIRED


async def test_the_message_kind_speaks_the_recipients_language_when_it_is_sent(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    payload = {"key": "help.emergency", "buttons": [[{"key": "cmd.help", "data": "help:open"}]]}
    karin = await recipient(db, emulator, 41_010, language="sv")
    john = await recipient(db, emulator, 41_011, language="en")
    switcher = await recipient(db, emulator, 41_012, language="sv")
    for person in (karin, john, switcher):
        await queue(db, f"lang:{person}", person, due_at=daytime, payload=payload)
    async with db.session() as session:
        await users.set_language(session, user=await user_row(db, switcher), language="en")
    assert (await dispatcher.run_once()).sent == 3
    (sv,) = emulator.chat_messages(41_010)
    (en,) = emulator.chat_messages(41_011)
    (switched,) = emulator.chat_messages(41_012)
    assert sv.text.startswith("Vid en nödsituation") and "<b>112</b>" in (sv.html or "")
    assert en.text.startswith("In an emergency")
    assert switched.text == en.text, "the language at send time wins"
    assert sv.buttons == [[(t("sv", "cmd.help"), "help:open")]]
    assert en.buttons == [[(t("en", "cmd.help"), "help:open")]] != sv.buttons


async def _nothing_to_say(context: RenderContext) -> Outgoing | None:
    return None


async def _calendar(context: RenderContext) -> Outgoing | None:
    body = f"BEGIN:VCALENDAR\r\nUID:{context.notification.id}\r\nEND:VCALENDAR\r\n".encode()
    return Outgoing(text="<b>📅</b>", document=("meeting.ics", body, "text/calendar"))


async def _broken(context: RenderContext) -> Outgoing | None:
    raise scheduler.RenderError("meeting is gone")


scheduler.register("test.nothing", _nothing_to_say)
scheduler.register("test.calendar", _calendar)
scheduler.register("test.broken", _broken)


async def test_renderers_can_cancel_send_documents_and_fail(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    anna = await recipient(db, emulator, 41_013)
    await queue(db, "answered", anna, due_at=daytime, kind="test.nothing")
    await queue(db, "invite", anna, due_at=daytime, kind="test.calendar")
    await queue(db, "broken", anna, due_at=daytime, kind="test.broken")
    await queue(db, "bad payload", anna, due_at=daytime, payload={"values": {}})
    await queue(db, "nobody knows", anna, due_at=daytime, kind="test.unregistered")
    report = await dispatcher.run_once()
    assert (report.cancelled, report.sent, report.failed) == (1, 1, 3)
    assert (await stored(db, "answered")).state == OutboxState.CANCELLED
    assert (await stored(db, "broken")).last_error == "RenderError: meeting is gone"
    assert (await stored(db, "bad payload")).state == OutboxState.FAILED
    assert (await stored(db, "nobody knows")).last_error == "unknown kind"
    (document,) = emulator.chat_messages(41_013)
    assert document.document is not None
    assert (document.document.file_name, document.document.mime_type) == (
        "meeting.ics",
        "text/calendar",
    )
    assert document.document.data.startswith(b"BEGIN:VCALENDAR")


# -- Telegram says no ---------------------------------------------------------------------


async def test_a_broadcast_to_300_chats_stays_under_a_strict_30_per_second_limit(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    emulator.set_rate_limit(per_second=30)
    chats = range(600_000, 600_300)
    async with db.session() as session:
        people = [User(telegram_id=chat, first_name=f"P{chat}", language="sv") for chat in chats]
        session.add_all(people)
        await session.flush()
        for person in people:
            emulator.add_user(person.telegram_id, person.first_name)
            assert person.id is not None
            await outbox.enqueue(
                session,
                key=f"broadcast:{person.telegram_id}",
                recipient_id=person.id,
                kind="message",
                due_at=daytime,
                payload=EMERGENCY,
            )
    started = time.perf_counter()
    report = await drain([dispatcher], db, expected=300, timeout=60)
    elapsed = time.perf_counter() - started
    print(f"\n300-chat broadcast: {elapsed:.1f} s, {emulator.rejected_429} answered 429")
    assert report.sent == 300
    assert [len(emulator.chat_messages(chat)) for chat in chats] == [1] * 300
    assert emulator.rejected_429 == 0
    assert elapsed < 30


async def test_one_chat_gets_at_most_one_message_per_second(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    emulator.set_rate_limit(per_second=30, per_chat_per_second=1)
    anna = await recipient(db, emulator, 41_020)
    for number in range(3):
        await queue(db, f"burst:{number}", anna, due_at=daytime)
    await queue(db, "other", await recipient(db, emulator, 41_021), due_at=daytime)
    started = time.perf_counter()
    report = await dispatcher.run_once()
    assert report.sent == 4
    assert time.perf_counter() - started >= 1.9
    assert emulator.rejected_429 == 0
    assert len(emulator.chat_messages(41_020)) == 3


@pytest.fixture
async def bare_app(
    make_settings: Callable[..., Settings], db: Database, clock: TravellingClock
) -> AsyncIterator[AnyApplication]:
    """The bot without PTB's AIORateLimiter, whose own retries would hide a 429 from us."""
    application = build_application(
        make_settings(), token=TOKEN, database=db, clock=clock, rate_limit=False
    )
    await application.initialize()
    yield application
    await application.shutdown()


async def test_flood_control_reschedules_without_burning_an_attempt(
    bare_app: AnyApplication, db: Database, emulator: BotAPIEmulator, clock: TravellingClock
) -> None:
    daytime = advance_to(clock, 12)
    dispatcher = Dispatcher(bare_app)
    anna = await recipient(db, emulator, 41_030)
    await queue(db, "flooded", anna, due_at=daytime)
    emulator.fail_next("sendMessage", 429, retry_after=1)
    first = await dispatcher.run_once()
    assert (first.retried, first.sent) == (1, 0)
    row = await stored(db, "flooded")
    assert (row.state, row.attempts, row.last_error) == (OutboxState.PENDING, 0, "RetryAfter")
    assert timedelta(seconds=1) <= row.due_at - daytime < timedelta(seconds=5)
    assert dispatcher.pacer.rate < dispatcher.pacer.max_rate, "the pace slowed down"
    clock.advance(timedelta(seconds=1))
    started = time.perf_counter()
    assert (await dispatcher.run_once()).sent == 1
    assert time.perf_counter() - started < 2.5
    assert len(emulator.chat_messages(41_030)) == 1
    assert sends_to(emulator, 41_030) == 2
    row = await stored(db, "flooded")
    assert (row.state, row.attempts) == (OutboxState.SENT, 1)


async def test_a_blocked_chat_fails_its_rows_and_marks_the_user_while_others_get_theirs(
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
) -> None:
    anna, bo, cilla = [await recipient(db, emulator, c) for c in (41_040, 41_041, 41_042)]
    emulator.block_chat(41_041)
    for person in (anna, bo, cilla):
        await queue(db, f"now:{person}", person, due_at=daytime)
    await queue(db, "bo:later", bo, due_at=daytime + timedelta(hours=1))
    report = await dispatcher.run_once()
    assert (report.sent, report.failed) == (2, 1)
    assert [len(emulator.chat_messages(c)) for c in (41_040, 41_041, 41_042)] == [1, 0, 1]
    assert (await stored(db, f"now:{bo}")).last_error == "Forbidden"
    assert (await user_row(db, bo)).blocked_at is not None
    clock.advance(timedelta(hours=1))
    assert (await dispatcher.run_once()).failed == 1
    assert sends_to(emulator, 41_041) == 1, "no second attempt at a chat that blocked us"


async def test_a_bad_request_fails_the_row_at_once(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    anna = await recipient(db, emulator, 41_045)
    await queue(db, "refused", anna, due_at=daytime)
    emulator.fail_next("sendMessage", 400, description="Bad Request: secret text here")
    assert (await dispatcher.run_once()).failed == 1
    row = await stored(db, "refused")
    assert (row.state, row.last_error, row.attempts) == (OutboxState.FAILED, "BadRequest", 1)


async def test_server_errors_back_off_and_give_up_after_six_attempts(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
) -> None:
    # Pacing is not under test here; without the 1 s per chat the retries run at once.
    eager = Dispatcher(bot_app, per_chat_interval=0)
    anna = await recipient(db, emulator, 41_050)
    await queue(db, "recovers", anna, due_at=daytime)
    emulator.fail_next("sendMessage", 500)
    assert (await eager.run_once()).retried == 1
    row = await stored(db, "recovers")
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "NetworkError")
    assert row.due_at - daytime >= timedelta(seconds=10)
    assert (await eager.run_once()).claimed == 0, "not before the backoff"
    clock.advance(timedelta(seconds=11))
    assert (await eager.run_once()).sent == 1
    assert (await stored(db, "recovers")).attempts == 2

    await queue(db, "doomed", anna, due_at=clock.now())
    emulator.fail_next("sendMessage", 502, count=6)
    delays = []
    for attempt in range(1, 7):
        report = await eager.run_once()
        row = await stored(db, "doomed")
        assert row.attempts == attempt
        if attempt < 6:
            assert report.retried == 1 and row.state == OutboxState.PENDING
            delays.append(row.due_at - clock.now())
            clock.advance(row.due_at - clock.now())
    assert (report.failed, row.state) == (1, OutboxState.FAILED)
    assert all(later > earlier for earlier, later in itertools.pairwise(delays))
    assert len(emulator.chat_messages(41_050)) == 1


# -- crashes, restarts, several processes -------------------------------------------------


async def test_a_row_stuck_in_sending_after_a_crash_is_sent_once_after_stale_after(
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
) -> None:
    anna = await recipient(db, emulator, 41_060)
    await queue(db, "mid-send", anna, due_at=daytime)
    async with db.session() as session:  # claimed, then kill -9 before anything was recorded
        claimed = await outbox.claim_due(
            session, now=clock.now(), limit=10, stale_after=dispatcher.stale_after
        )
    assert [n.idempotency_key for n in claimed] == ["mid-send"]
    assert (await dispatcher.run_once()).claimed == 0, "a live claim is left alone"
    clock.advance(dispatcher.stale_after + timedelta(seconds=1))
    assert (await dispatcher.run_once()).sent == 1
    for _ in range(2):
        assert (await dispatcher.run_once()).claimed == 0
    assert len(emulator.chat_messages(41_060)) == 1
    assert (await stored(db, "mid-send")).attempts == 2


async def test_a_sent_row_is_never_sent_again_after_a_restart(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    database_url: str,
    emulator: BotAPIEmulator,
    clock: TravellingClock,
    daytime: datetime,
) -> None:
    anna = await recipient(db, emulator, 41_061)
    await queue(db, "once", anna, due_at=daytime)
    assert (await dispatcher.run_once()).sent == 1
    fresh_engine = Database(database_url)
    try:
        restarted = Dispatcher(bot_app, database=fresh_engine)
        assert (await restarted.run_once()).claimed == 0
        clock.advance(timedelta(days=2))
        assert (await restarted.run_once()).claimed == 0
    finally:
        await fresh_engine.dispose()
    assert len(emulator.chat_messages(41_061)) == 1


async def test_two_dispatchers_on_two_engines_send_each_row_exactly_once(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    database_url: str,
    emulator: BotAPIEmulator,
    daytime: datetime,
) -> None:
    chats = range(700_000, 700_050)
    for chat in chats:
        await queue(db, f"race:{chat}", await recipient(db, emulator, chat), due_at=daytime)
    engines = [Database(database_url), Database(database_url)]
    try:
        rivals = [Dispatcher(bot_app, database=engine) for engine in engines]
        report = await drain(rivals, db, expected=50, timeout=30)
    finally:
        for engine in engines:
            await engine.dispose()
    assert report.sent == 50
    assert [len(emulator.chat_messages(chat)) for chat in chats] == [1] * 50
    assert [sends_to(emulator, chat) for chat in chats] == [1] * 50


# -- the installed job --------------------------------------------------------------------


async def test_the_installed_job_sends_due_rows_by_itself(
    bot_app: AnyApplication, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    installed = scheduler.installed(bot_app)
    assert installed.job is not None
    aps_job = installed.job.job
    assert aps_job.next_run_time is not None, "scheduled, not paused"
    assert aps_job.misfire_grace_time == scheduler.MISFIRE_GRACE_SECONDS == 30
    assert (aps_job.coalesce, aps_job.max_instances) == (True, 1)
    anna = await recipient(db, emulator, 41_070)
    await queue(db, "by-itself", anna, due_at=daytime)
    (message,) = await emulator.wait_for_messages(41_070, 1, timeout=5)
    assert "112" in message.text


async def test_a_burst_of_kicks_sends_what_was_queued_once_without_waiting_for_a_tick(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    anna = await recipient(db, emulator, 41_071)
    await queue(db, "kicked", anna, due_at=daytime)
    for _ in range(3):
        scheduler.kick(dispatcher.application)
    await emulator.wait_for_messages(41_071, 1, timeout=2)
    await dispatcher.pause()  # lets a kicked run still in flight finish
    assert len(emulator.chat_messages(41_071)) == 1
    assert (await stored(db, "kicked")).state == OutboxState.SENT


# -- fan-out ------------------------------------------------------------------------------


async def many_recipients(db: Database, emulator: BotAPIEmulator, chats: range) -> list[int]:
    async with db.session() as session:
        people = [User(telegram_id=chat, first_name=f"P{chat}", language="sv") for chat in chats]
        session.add_all(people)
        await session.flush()
    for chat in chats:
        emulator.add_user(chat, f"P{chat}")
    return [person.id for person in people if person.id is not None]


async def test_one_run_keeps_claiming_while_rows_are_due(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    daytime: datetime,
) -> None:
    chats = range(710_000, 710_150)
    for person in await many_recipients(db, emulator, chats):
        await queue(db, f"fan-out:{person}", person, due_at=daytime)
    fast = Dispatcher(bot_app, rate=1000)  # more than one claim of `batch_size` (100) rows
    report = await fast.run_once()
    assert (report.claimed, report.sent) == (150, 150)
    assert [len(emulator.chat_messages(chat)) for chat in chats] == [1] * 150


async def test_the_installed_dispatcher_sends_several_at_once_but_one_chat_in_due_order(
    dispatcher: Dispatcher, db: Database, emulator: BotAPIEmulator, daytime: datetime
) -> None:
    emulator.set_rate_limit(per_second=30, per_chat_per_second=1)
    emulator.set_delay(0.1, "sendMessage")  # a round trip, so sends overlap when they may
    chats = range(720_000, 720_012)
    for person in await many_recipients(db, emulator, chats):
        await queue(
            db, f"second:{person}", person, due_at=daytime, payload={"key": "common.cancelled"}
        )
        await queue(db, f"first:{person}", person, due_at=daytime - timedelta(minutes=1))
    report = await dispatcher.run_once()
    assert report.sent == 24
    assert emulator.rejected_429 == 0
    assert 1 < emulator.most_in_flight <= dispatcher.concurrency
    expected = [t("sv", "help.emergency"), t("sv", "common.cancelled")]
    for chat in chats:
        assert [m.html for m in emulator.chat_messages(chat)] == expected


async def test_a_fan_out_records_its_sends_in_batches(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    daytime: datetime,
) -> None:
    emulator.set_delay(0.02, "sendMessage")
    chats = range(730_000, 730_040)
    for person in await many_recipients(db, emulator, chats):
        await queue(db, f"batched:{person}", person, due_at=daytime)
    marks: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE outbox") and "sent_at" in statement:
            marks.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        report = await Dispatcher(bot_app, rate=1000, concurrency=8).run_once()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert report.sent == 40
    assert 1 <= len(marks) <= 40 // 2, f"{len(marks)} UPDATEs recorded 40 sends"
    async with db.session() as session:
        states = (await session.exec(select(Notification.state).distinct())).all()
    assert states == [OutboxState.SENT]


async def test_a_slow_run_never_sends_its_own_claims_twice(
    bot_app: AnyApplication,
    dispatcher: Dispatcher,
    db: Database,
    emulator: BotAPIEmulator,
    daytime: datetime,
) -> None:
    # Sends slower than the stale time: while a claimed row waits its turn, the run's
    # next claim finds it "stale" and takes it again. Those copies must be dropped.
    emulator.set_delay(0.15, "sendMessage")
    chats = range(740_000, 740_012)
    for person in await many_recipients(db, emulator, chats):
        await queue(db, f"slow:{person}", person, due_at=daytime)
    slow = Dispatcher(
        bot_app,
        rate=1000,
        per_chat_interval=0,  # so a second copy would not queue behind its original
        concurrency=1,
        batch_size=4,
        stale_after=timedelta(seconds=0.4),
    )
    reports = [await slow.run_once()]
    while sum(r.sent for r in reports) < len(chats):  # a dropped copy is recovered by a later run
        await asyncio.sleep(0.45)
        reports.append(await slow.run_once())
        assert len(reports) < 20, reports
    assert [len(emulator.chat_messages(chat)) for chat in chats] == [1] * len(chats)
