"""`mentorbot sandbox` without a browser: the process, its HTTP routes and time travel."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import func
from sqlmodel import select

from bot import services
from bot.app import build_application
from bot.clock import SystemClock
from bot.domain.checkins import anniversary
from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator
from bot.sandbox.server import DEFAULT_PEOPLE, SandboxServer, next_morning
from bot.settings import Settings
from storage.models import CheckIn, Mentorship, Notification
from tests.factories import ActivePair, active_pair
from tests.harness import Person
from tests.test_meetings_e2e import book, in_days

STOCKHOLM = ZoneInfo("Europe/Stockholm")
JSONDict = dict[str, Any]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[SandboxServer]:
    settings = Settings(MENTORBOT_DATA_DIR=str(tmp_path / "data"), TIMEZONE="Europe/Stockholm")
    server = SandboxServer(settings, port=0)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        yield session


async def test_the_sandbox_command_serves_the_page_and_stops_on_ctrl_c(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "BOT_TOKEN", "TELEGRAM_API_URL"))
    }
    # A production database that cannot be reached: the sandbox must not even try it.
    env.update(
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/production",
        MENTORBOT_DATA_DIR=str(tmp_path),
        LOG_LEVEL="INFO",
    )
    log = tmp_path / "sandbox.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "sandbox",
            "--port",
            str(port),
            env=env,
            stdout=sink,
            stderr=sink,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        # The address is printed once the bot is polling and its menus are registered.
        deadline = asyncio.get_running_loop().time() + 30
        while f"{base}/" not in log.read_text():
            assert process.returncode is None, log.read_text()
            assert asyncio.get_running_loop().time() < deadline, log.read_text()
            await asyncio.sleep(0.1)
        async with http.get(f"{base}/") as answer:
            assert answer.status == 200
            assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
            page = await answer.text()
        assert "<title>mentorbot sandbox</title>" in page and "/static/app.js" in page
        async with http.get(f"{base}/control/commands", params={"language_code": "sv"}) as answer:
            commands = {c["command"]: c["description"] for c in await answer.json()}
        assert commands["start"] == t("sv", "cmd.start")
        assert commands["new"] == t("sv", "cmd.new")

        started = asyncio.get_running_loop().time()
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 10)
        assert code == 0, log.read_text()
        assert asyncio.get_running_loop().time() - started < 5
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    output = log.read_text()
    assert "stopped" in output and "Traceback" not in output
    assert (tmp_path / "sandbox.sqlite3").exists()
    assert "sandbox-not-a-real-token" not in output


def test_the_sandbox_day_starts_at_ten_in_the_morning() -> None:
    evening = datetime(2025, 3, 4, 22, 30, tzinfo=STOCKHOLM)
    assert next_morning(evening, STOCKHOLM) == datetime(2025, 3, 5, 10, 0, tzinfo=STOCKHOLM)
    early = datetime(2025, 3, 4, 6, 0, tzinfo=STOCKHOLM).astimezone(UTC)
    assert next_morning(early, STOCKHOLM) == datetime(2025, 3, 4, 10, 0, tzinfo=STOCKHOLM)


def test_the_production_bot_cannot_travel_in_time(tmp_path: Path) -> None:
    settings = Settings(MENTORBOT_DATA_DIR=str(tmp_path), DATABASE_URL=None)
    application = build_application(settings, token="123456:production-like")
    assert isinstance(services.of_app(application).clock, SystemClock)
    # The emulator alone (what tests and a local Bot API setup use) has no time routes either.
    paths = {resource.canonical for resource in BotAPIEmulator().app.router.resources()}
    assert not any(path.startswith("/sandbox") for path in paths)


async def test_the_sandbox_uses_its_own_database_and_three_swedish_people(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    assert sandbox.database_path.name == "sandbox.sqlite3"
    assert sandbox.database_path.exists()
    async with http.get(f"{sandbox.url}sandbox/info") as answer:
        info = await answer.json()
    assert [p["label"] for p in info["people"]] == [
        "Astrid (adept)",
        "Mikael (mentor)",
        "Karin (coordinator)",
    ]
    assert {p["language_code"] for p in info["people"]} == {"sv"}
    assert info["bot_username"] == "mentorship_companion_bot"
    local = datetime.fromisoformat(
        (await (await http.get(f"{sandbox.url}sandbox/time")).json())["now"]
    )
    assert local.astimezone(STOCKHOLM).hour == 10


async def test_a_person_can_be_added_with_a_name_and_a_language(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.url}sandbox/people"
    async with http.post(url, json={"first_name": "  Sam  ", "language_code": "en"}) as answer:
        assert answer.status == 200
        sam = await answer.json()
    assert sam == {
        "user_id": 1004,
        "first_name": "Sam",
        "language_code": "en",
        "role": None,
        "label": "Sam",
    }
    assert any(u["id"] == 1004 and u["language_code"] == "en" for u in sandbox.emulator.users())
    for bad in (
        {"first_name": "", "language_code": "sv"},
        {"first_name": "X", "language_code": "de"},
    ):
        async with http.post(url, json=bad) as answer:
            assert answer.status == 400
    async with http.get(url) as answer:
        assert [p["first_name"] for p in await answer.json()] == [
            "Astrid",
            "Mikael",
            "Karin",
            "Sam",
        ]


async def test_other_sites_cannot_use_the_control_api(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    send = {"user_id": DEFAULT_PEOPLE[0].user_id, "text": "/start"}
    async with http.post(
        f"{sandbox.url}control/send", json=send, headers={"Origin": "https://evil.example"}
    ) as answer:
        assert answer.status == 403
    # DNS rebinding: a foreign host name resolving to 127.0.0.1.
    async with http.get(
        f"{sandbox.url}sandbox/info", headers={"Host": f"evil.example:{sandbox.port}"}
    ) as answer:
        assert answer.status == 403
    # A form post (no preflight) to a sandbox route is refused for not being JSON.
    async with http.post(f"{sandbox.url}sandbox/time", data={"step": "week"}) as answer:
        assert answer.status == 400
    async with http.get(f"{sandbox.url}static/..%2Fserver.py") as answer:
        assert answer.status == 404
    assert sandbox.emulator.chat_messages(DEFAULT_PEOPLE[0].user_id) == []


async def test_time_travel_moves_the_clock_and_next_jumps_to_the_reminder(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    url = f"{sandbox.url}sandbox/time"
    async with http.post(url, json={"step": "next"}) as answer:
        nothing = await answer.json()
    assert nothing["next_due"] is None and nothing["sent"] == 0
    assert nothing["travelled_seconds"] < 5
    async with http.post(url, json={"step": "hour"}) as answer:
        hour = await answer.json()
    assert 3600 <= hour["travelled_seconds"] < 3605
    async with http.post(url, json={"step": "yesterday"}) as answer:
        assert answer.status == 400

    # Pair two people through the emulator, as the page would.
    astrid = Person(sandbox.emulator, DEFAULT_PEOPLE[0].user_id, "Astrid", "sv")
    mikael = Person(sandbox.emulator, DEFAULT_PEOPLE[1].user_id, "Mikael", "sv")
    await astrid.ask("/new")
    await astrid.press("Jag är adept – bjud in min mentor")
    link = await astrid.expect("t.me/")
    code = link.text.rsplit("start=", 1)[1].split()[0]
    await mikael.send(f"/start {code}")
    await mikael.expect("Astrid")
    await mikael.press("Tacka ja ✅")
    await mikael.expect("introduktionsmöte med Astrid")
    await astrid.expect("Före mötet")
    astrid.mark_read()
    mikael.mark_read()

    async with http.get(url) as answer:
        due = datetime.fromisoformat((await answer.json())["next_due"])
    async with http.post(url, json={"step": "next"}) as answer:
        jumped = await answer.json()
    assert jumped["sent"] >= 1
    assert timedelta(days=3, hours=23) < timedelta(seconds=jumped["travelled_seconds"])
    assert datetime.fromisoformat(jumped["now"]) >= due
    assert "En vänlig påminnelse" in (await astrid.expect("En vänlig påminnelse")).text
    assert "En vänlig påminnelse" in (await mikael.expect("En vänlig påminnelse")).text


async def test_history_holds_what_people_typed_and_what_the_bot_answered(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    astrid = Person(sandbox.emulator, DEFAULT_PEOPLE[0].user_id, "Astrid", "sv")
    await astrid.ask("<b>hej</b>")
    async with http.get(f"{sandbox.url}sandbox/chats/{astrid.user_id}/history") as answer:
        history = await answer.json()
    assert history[0] == {
        "from": "user",
        "message_id": 1,
        "date": history[0]["date"],
        "text": "<b>hej</b>",
    }
    assert history[1]["from"] == "bot" and history[1]["message_id"] == 2


async def _active_pair(sandbox: SandboxServer) -> tuple[Person, Person, ActivePair]:
    """Astrid (adept) and Mikael (mentor) in an active mentorship in the sandbox's database."""
    assert sandbox.application is not None
    db = services.of_app(sandbox.application).db
    astrid = Person(sandbox.emulator, DEFAULT_PEOPLE[0].user_id, "Astrid", "sv")
    mikael = Person(sandbox.emulator, DEFAULT_PEOPLE[1].user_id, "Mikael", "sv")
    return astrid, mikael, await active_pair(db, sandbox.clock, astrid, mikael)


async def _jump(http: aiohttp.ClientSession, sandbox: SandboxServer, step: str) -> JSONDict:
    async with http.post(f"{sandbox.url}sandbox/time", json={"step": step}) as answer:
        assert answer.status == 200, await answer.text()
        result: JSONDict = await answer.json()
    return result


def _at(outcome: JSONDict) -> datetime:
    return datetime.fromisoformat(outcome["at"])


async def test_a_week_over_a_booked_meeting_delivers_its_reminders_in_order(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    astrid, mikael, _pair = await _active_pair(sandbox)
    start = in_days(sandbox.clock, 4, 14)
    await book(astrid, mikael, start, "📹 Videosamtal")
    request = await mikael.expect("Astrid föreslår ett möte")
    await mikael.press("Bekräfta ✅", message_id=request.message_id)
    await astrid.expect("Möte bekräftat")
    await mikael.expect("Möte bekräftat")
    astrid.mark_read()
    mikael.mark_read()

    week = await _jump(http, sandbox, "week")

    assert 7 * 86400 <= week["travelled_seconds"] < 7 * 86400 + 60
    astrid_id, mikael_id = astrid.user_id, mikael.user_id
    delivered = [(o["kind"], o["chat_id"]) for o in week["delivered"]]
    # Each at its own time, in the order the bot sends them, none expired on arrival.
    assert delivered[:1] == [("agenda_prompt", astrid_id)]
    assert sorted(delivered[1:4]) == sorted(
        [
            ("meeting_reminder", astrid_id),
            ("meeting_reminder", mikael_id),
            ("mentor_prep", mikael_id),
        ]
    )
    assert sorted(delivered[4:6]) == [
        ("meeting_reminder", astrid_id),
        ("meeting_reminder", mikael_id),
    ]
    assert sorted(delivered[6:]) == [
        ("meeting_evaluation", astrid_id),
        ("meeting_evaluation", mikael_id),
    ]
    for outcome, due in zip(
        week["delivered"],
        [start - timedelta(hours=48)]
        + [start - timedelta(hours=24)] * 3
        + [start - timedelta(hours=1)] * 2
        + [start + timedelta(minutes=60)] * 2,
        strict=True,
    ):
        assert due <= _at(outcome) < due + timedelta(minutes=1), outcome
    assert week["not_delivered"] == [] and week["sent"] == 8

    # The chats hold them in the same order.
    texts = [m.text or m.caption or "" for m in astrid.messages]
    order = ["Vad vill du ta upp", "I morgon: ert möte med Mikael", "Snart: ert möte med Mikael"]
    order.append("Hur gick mötet med Mikael")
    found = [next(i for i, text in enumerate(texts) if fragment in text) for fragment in order]
    assert found == sorted(found)
    await mikael.expect("Inför ditt möte med Astrid")
    await mikael.expect("Hur gick mötet med Astrid")


async def test_a_jump_past_the_first_month_delivers_the_check_in_to_both(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    astrid, mikael, pair = await _active_pair(sandbox)
    assert sandbox.application is not None
    async with services.of_app(sandbox.application).db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None and mentorship.started_at is not None
        due = anniversary(mentorship.started_at, 1, STOCKHOLM)

    delivered: list[JSONDict] = []
    for _ in range(5):
        delivered.extend((await _jump(http, sandbox, "week"))["delivered"])

    prompts = [o for o in delivered if o["kind"] == "checkin_prompt"]
    assert sorted(o["chat_id"] for o in prompts) == [astrid.user_id, mikael.user_id]
    # Within the hour the bot's planner would have opened it.
    assert all(due <= _at(o) < due + timedelta(hours=1) for o in prompts)
    for person in (astrid, mikael):
        await person.expect("Dags för din månadsavstämning")
    # Unanswered, it is reminded of three days later; and the pair, who booked nothing,
    # is nudged to book four weeks after the start.
    reminders = [o for o in delivered if o["kind"] == "checkin_reminder"]
    prompted = {o["chat_id"]: _at(o) for o in prompts}
    assert all(_at(r) - prompted[r["chat_id"]] >= timedelta(days=3) for r in reminders)
    assert len(reminders) == 2
    nudges = [o for o in delivered if o["kind"] == "book_nudge"]
    assert nudges and nudges[0]["chat_id"] == astrid.user_id
    assert _at(nudges[0]) - mentorship.started_at >= timedelta(days=28)
    assert _at(nudges[0]) - mentorship.started_at < timedelta(days=28, hours=1)


async def test_next_notification_jumps_to_what_the_planners_create(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    astrid, _mikael, _pair = await _active_pair(sandbox)
    async with http.get(f"{sandbox.url}sandbox/time") as answer:
        assert (await answer.json())["next_due"] is None  # nothing queued yet

    jumped = await _jump(http, sandbox, "next")

    # The first thing the bot would send unasked: the nudge to book, four weeks in.
    assert [o["kind"] for o in jumped["delivered"]] == ["book_nudge"]
    assert timedelta(days=26) < timedelta(seconds=jumped["travelled_seconds"]) < timedelta(days=28)
    await astrid.expect("boka nästa möte")


async def test_what_was_not_sent_is_reported_with_the_rule_that_stopped_it(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    astrid, mikael, _pair = await _active_pair(sandbox)
    # At 08:00 the hour-before reminder falls in quiet hours (21-08), which end too late.
    start = in_days(sandbox.clock, 3, 8)
    await book(astrid, mikael, start, "📹 Videosamtal")
    request = await mikael.expect("Astrid föreslår ett möte")
    await mikael.press("Bekräfta ✅", message_id=request.message_id)
    await astrid.expect("Möte bekräftat")
    await mikael.expect("Möte bekräftat")

    week = await _jump(http, sandbox, "week")

    missed = week["not_delivered"]
    assert sorted(o["chat_id"] for o in missed) == [astrid.user_id, mikael.user_id]
    for outcome in missed:
        assert (outcome["kind"], outcome["state"]) == ("meeting_reminder", "expired")
        assert outcome["reason"] == "quiet hours lasted past the time it applied"
        assert _at(outcome) == start - timedelta(hours=1)
    # The rest still arrived, the evaluation after the meeting among them.
    kinds = [o["kind"] for o in week["delivered"]]
    assert kinds.count("meeting_reminder") == 2 and kinds.count("meeting_evaluation") == 2


async def test_trying_the_planners_ahead_leaves_the_database_as_it_was(
    sandbox: SandboxServer,
) -> None:
    _astrid, _mikael, pair = await _active_pair(sandbox)
    assert sandbox.application is not None
    db = services.of_app(sandbox.application).db
    now = sandbox.clock.now()

    assert not await sandbox.rehearsal.plans_anything(now + timedelta(days=20))
    # A month on, a pass would open the check-ins; tried on the copy, nothing is written.
    assert await sandbox.rehearsal.plans_anything(now + timedelta(days=33))
    async with db.session() as session:
        assert (await session.exec(select(func.count()).select_from(Notification))).one() == 0
        # The seeded history of earlier pairs has check-ins; this pair has none yet.
        of_pair = select(func.count()).where(CheckIn.mentorship_id == pair.mentorship_id)
        assert (await session.exec(of_pair)).one() == 0
    first = await sandbox.rehearsal.first_pass(now, now + timedelta(days=40))
    assert first is not None
    # The first hourly pass after the nudge to book falls due: four weeks after the start.
    async with db.session() as session:
        mentorship = await session.get(Mentorship, pair.mentorship_id)
        assert mentorship is not None and mentorship.started_at is not None
    since = first - mentorship.started_at
    assert timedelta(days=28) < since <= timedelta(days=28, hours=1)
