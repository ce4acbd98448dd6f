"""The realistic conversation benchmark: pairs in an active mentorship writing goals,
diary entries and check-in answers through the real bot, against a bare PTB echo bot
on the same emulator in the same run.

    python benchmarks/conversation.py [--pairs 25] [--cycles 2] [--open-updates 600]
                                      [--repeat 2] [--startup-runs 3]
                                      [--database-url URL | --both] [--quick]

Every person (both people of every pair) goes round three episodes, each started
the way people start them, so every update of the mix reads and writes the
database:

  goal      /goal, four SMART answers (goal answer x4), the draft discarded (button)
  diary     /diary, "write" (button), the entry (diary entry)
  check-in  /checkin, two answers (check-in answer x2), a rating (button), a note to
            the partner (check-in answer), "keep everything private" (button)

An update is complete when the bot's reply to it arrives at the emulator. For each
bot this measures, one bot after the other on one emulator, after a warm-up cycle
(imports, caches):

  closed loop  everyone sends their next update as soon as the last one is answered;
               updates per second, and CPU time of this process per update
  open loop    Poisson arrivals at half of that bot's closed-loop capacity, each
               taken by a person who is not waiting for a reply; p50/p99 latency
               from the arrival (so a queue counts), not from the send
  SQL          statements, commits and connection checkouts on our engine, per
               update kind (attributed through a context variable set for each
               update; what the dispatcher a handler kicks does counts for that
               update; periodic jobs are "background")

Our bot runs twice, with encryption at rest and with the cipher replaced by the
identity in this process only, so the table shows what encryption costs. That
difference is small next to the drift of a machine (and whichever runs first in
the process pays a little more), so every bot runs `--repeat` times (default 2),
alternating the order of the two, and the table shows medians. Then
`mentorbot run` and a bare PTB polling bot are each spawned as processes: time from
spawn to their first getUpdates at the emulator, and their idle RSS. Before the
first spawn, every module either bot imports is byte-compiled into a temporary
cache that both processes use (PYTHONPYCACHEPREFIX), so both start like installed
programs: otherwise our sources, run from a checkout (and never cached where
PYTHONDONTWRITEBYTECODE is set), would be compiled on every spawn while the
libraries come with their .pyc files.

Notes for reading the numbers: both bots and the emulator share this process and
its CPU, so "CPU ms" includes the emulator's and the driver's share (the same for
both bots); on PostgreSQL the server's CPU is not in it. Our bot runs without the
30/s reply limiter (that is Telegram's cap, not our cost; throughput.py shows it).
Each bot run gets a fresh database: a temporary SQLite file, or on PostgreSQL a
database created on the given server and dropped afterwards. The driver resets a
finished check-in with one UPDATE of its own (outside the counted engine) so it can
be answered again.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import itertools
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from common import TOKEN, AnyApp, echo_app, seed_pairs, start, stop
from sqlalchemy import event, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import col, select
from telegram import Update

from bot.app import build_application
from bot.clock import SystemClock
from bot.i18n import t
from bot.sandbox.emulator import BotAPIEmulator, SentMessage, parse_html
from bot.settings import Settings
from bot.usecases.checkins import key_prefix, plan_checkins
from storage import crypto, outbox
from storage.crypto import KeyRing
from storage.db import Database, async_url, upgrade
from storage.models import CheckIn, DiaryEntry, User

HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
GOAL, DIARY, CHECKIN = "goal answer", "diary entry", "check-in answer"
COMMAND, BUTTON, ECHO = "command", "button", "echo"
KINDS = (GOAL, DIARY, CHECKIN, COMMAND, BUTTON)
BACKGROUND = "background"
SV_MONTHS = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
STOCKHOLM = ZoneInfo("Europe/Stockholm")
LANGUAGE = "sv"


# -- the script ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One update a person sends, and how to recognise the bot's answer to it.

    Answers are recognised by step counters ("2/4"), the buttons' callback data or,
    for answers with neither, how their translated text begins (`marker`), so
    rewording a text does not break the benchmark.
    """

    kind: str
    text: str | None = None  # typed text or a command; else press `button`
    button: str | None = None  # regex over the callback data of the last answer's buttons
    expect: str = ""  # the answer's text contains this...
    expect_button: str | None = None  # ...and has a button whose data matches this
    ends_checkin: bool = False


def _has_button(message: SentMessage, pattern: str) -> str | None:
    for row in message.buttons:
        for _, data in row:
            if data is not None and re.fullmatch(pattern, data):
                return data
    return None


def _matches(step: Step, message: SentMessage) -> bool:
    if step.expect and step.expect not in (message.text or message.caption or ""):
        return False
    return step.expect_button is None or _has_button(message, step.expect_button) is not None


def marker(key: str, *names: str) -> str:
    """How a translated text begins as people see it (tags gone), up to its first value
    or line break: the answers that carry no counter and no button are known by it."""
    hole = "⟨value⟩"
    shown, _ = parse_html(t(LANGUAGE, key, **dict.fromkeys(names, hole)))
    return shown.split(hole)[0].split("\n")[0].strip()


def goal_episode(n: int, today: date) -> list[Step]:
    target = today + timedelta(days=45 + n % 60)
    return [
        Step(COMMAND, "/goal", expect="1/4"),
        Step(GOAL, f"Leda teamets veckoplanering själv och utan manus, del {n}", expect="2/4"),
        Step(GOAL, "Svårt att mäta, men jag märker det när teamet frågar mig först.", expect="3/4"),
        Step(
            GOAL, "Min chef stöttar det och jag har en timme i veckan att förbereda.", expect="4/4"
        ),
        Step(GOAL, f"{target.day} {SV_MONTHS[target.month - 1]}", expect_button=r"g:dis:\d+"),
        Step(BUTTON, button=r"g:dis:\d+", expect=marker("goal.discarded")),
    ]


def diary_episode(n: int, today: date) -> list[Step]:
    return [
        Step(COMMAND, "/diary", expect_button="d:write"),
        Step(BUTTON, button="d:write", expect=marker("diary.ask")),
        Step(
            DIARY,
            f"Anteckning {n}: att fråga i stället för att svara direkt gav ett bättre samtal.",
            expect_button=r"d:mine:0",
        ),
    ]


def checkin_episode(n: int, today: date) -> list[Step]:
    return [
        Step(COMMAND, "/checkin", expect="1/4"),
        Step(CHECKIN, f"Vi hittar tid och samtalen är ärliga ({n}).", expect="2/4"),
        Step(
            CHECKIN, "Jag vill förbereda mig bättre inför varje möte.", expect_button=r"ci:rate:.*"
        ),
        Step(BUTTON, button=r"ci:rate:\d+:4", expect_button=r"ci:skip:\d+"),
        Step(CHECKIN, "Tack för att du lyssnar så noga.", expect_button=r"ci:share:\d+:none"),
        Step(
            BUTTON,
            button=r"ci:share:\d+:none",
            expect=marker("checkins.done.none", "name"),
            ends_checkin=True,
        ),
    ]


EPISODES = (goal_episode, diary_episode, checkin_episode)
UPDATES_PER_CYCLE = sum(len(make(0, date.today())) for make in EPISODES)


def our_script(index: int, today: date) -> Iterator[Step]:
    """Endless episodes; each person starts at another one, so the mix stays even."""
    for n in itertools.count():
        yield from EPISODES[(index + n) % len(EPISODES)](n, today)


def echo_script(index: int, today: date) -> Iterator[Step]:
    for n in itertools.count():
        yield Step(ECHO, f"hej {index} {n}", expect=f"hej {index} {n}")


# -- people and updates ----------------------------------------------------------------------


class Flow(Exception):
    """The bot did not answer as the script expects: the numbers would mean nothing."""


class Mailbox:
    """Wakes the person a bot message is for, and nobody else.

    The emulator's `wait_for_messages` wakes every waiter on every message: with
    fifty people waiting, that is driver work large enough to show in the echo
    bot's CPU per update.
    """

    def __init__(self, emulator: BotAPIEmulator) -> None:
        self.emulator = emulator
        self._events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._queue = emulator.subscribe()
        self._router = asyncio.create_task(self._route())

    async def _route(self) -> None:
        while (item := await self._queue.get()) is not None:
            if item["event"] == "message":
                self._events[int(item["data"]["chat_id"])].set()

    async def wait(self, chat_id: int, count: int, seconds: float) -> list[SentMessage]:
        """The chat's messages once there are `count`; TimeoutError after `seconds`."""
        deadline = time.perf_counter() + seconds
        event = self._events[chat_id]
        while True:
            event.clear()
            messages = self.emulator.chat_messages(chat_id)
            if len(messages) >= count:
                return messages
            await asyncio.wait_for(event.wait(), max(deadline - time.perf_counter(), 0.0))

    async def close(self) -> None:
        self.emulator.unsubscribe(self._queue)
        self._router.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._router


@dataclass
class Person:
    mailbox: Mailbox
    user_id: int
    script: Iterator[Step]
    kinds: dict[str, str]  # update key (see `update_key`) -> its kind, for the counter
    rewind: Callable[[int], Awaitable[None]] | None = None  # resets a finished check-in
    last: SentMessage | None = None

    @property
    def emulator(self) -> BotAPIEmulator:
        return self.mailbox.emulator

    async def perform(self, patience: float = 60.0) -> tuple[str, float]:
        """Send the next update, wait for its answer; (kind, when it arrived)."""
        step = next(self.script)
        before = len(self.emulator.chat_messages(self.user_id))
        # Queuing an update does not yield to the bot, so its kind is known before it is
        # fetched.
        if step.text is not None:
            message = await self.emulator.send_text(self.user_id, step.text)
            self.kinds[f"m:{self.user_id}:{message['message_id']}"] = step.kind
        else:
            assert step.button is not None
            data = self.last and _has_button(self.last, step.button)
            if not data or self.last is None:
                raise Flow(f"no button {step.button!r} to press for {step.kind}")
            query = await self.emulator.press_button(self.user_id, self.last.message_id, data)
            self.kinds[f"q:{query}"] = step.kind
        # Messages the bot sends on its own (a booking nudge) may come first: skipped.
        seen, deadline = before, time.perf_counter() + patience
        while True:
            try:
                messages = await self.mailbox.wait(
                    self.user_id, seen + 1, deadline - time.perf_counter()
                )
            except TimeoutError:
                got = [(m.text or "")[:100] for m in self.emulator.chat_messages(self.user_id)]
                sent = step.text or step.button
                raise Flow(
                    f"no answer to {step.kind} {sent!r} matched; got {got[before:]}"
                ) from None
            arrived = time.perf_counter()
            found = next((m for m in messages[before:] if _matches(step, m)), None)
            if found is not None:
                self.last = found
                break
            seen = len(messages)
        if step.ends_checkin and self.rewind is not None:
            await self.rewind(self.user_id)
        return step.kind, arrived


# -- counting SQL ----------------------------------------------------------------------------


def update_key(update: object) -> str:
    """The message or button press an update carries, as the driver recorded it."""
    if isinstance(update, Update):
        if update.callback_query is not None:
            return f"q:{update.callback_query.id}"
        if update.message is not None:
            return f"m:{update.message.chat.id}:{update.message.message_id}"
    return ""


_kind: contextvars.ContextVar[str] = contextvars.ContextVar("update_kind", default=BACKGROUND)


@dataclass
class Tally:
    updates: int = 0
    statements: int = 0
    commits: int = 0
    checkouts: int = 0


@dataclass
class Counter:
    """SQL per update kind on one engine. An update's kind (looked up by its message or
    button press) lives in a context variable set around the update processor, so
    the tasks the update starts (the outbox kick) inherit it."""

    tallies: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    on: bool = False

    def attach(self, db: Database) -> None:
        engine = db.engine.sync_engine

        def statement(*_: Any) -> None:
            if self.on:
                self.tallies[_kind.get()].statements += 1

        def commit(*_: Any) -> None:
            if self.on:
                self.tallies[_kind.get()].commits += 1

        def checkout(*_: Any) -> None:
            if self.on:
                self.tallies[_kind.get()].checkouts += 1

        event.listen(engine, "before_cursor_execute", statement)
        event.listen(engine, "commit", commit)
        event.listen(engine.pool, "checkout", checkout)

    def wrap(self, app: AnyApp, kinds: dict[str, str]) -> None:
        """Around the update processor, the outermost place an update passes through:
        a unit of work opened there counts for the update too."""
        processor = app.update_processor
        original = processor.process_update

        async def process_update(update: object, coroutine: Awaitable[Any]) -> None:
            kind = kinds.pop(update_key(update), "other")
            token = _kind.set(kind)
            try:
                if self.on:
                    self.tallies[kind].updates += 1
                await original(update, coroutine)
            finally:
                _kind.reset(token)

        processor.process_update = process_update  # type: ignore[misc, method-assign]

    def start(self) -> None:
        self.tallies.clear()
        self.on = True


# -- encryption on and off -------------------------------------------------------------------


# One key for this process: the rows the driver seeds and the bot must agree on it.
KEYRING_KEY = KeyRing.generate_key()
KEYRING = KeyRing.from_strings(KEYRING_KEY)
crypto.configure(KEYRING)


@contextlib.contextmanager
def cipher(enabled: bool) -> Iterator[None]:
    """Encryption as built, or (enabled=False) the identity in its place, in this
    process only: there is no plaintext mode in the bot and there must not be one."""
    if enabled:
        yield
        return
    saved = KeyRing.encrypt, KeyRing.decrypt
    KeyRing.encrypt = lambda self, plaintext, label: plaintext  # type: ignore[method-assign]
    KeyRing.decrypt = lambda self, token, label: token  # type: ignore[method-assign]
    try:
        yield
    finally:
        KeyRing.encrypt, KeyRing.decrypt = saved  # type: ignore[method-assign]


async def check_cipher(db: Database, encrypted: bool) -> None:
    """The stored diary texts are ciphertexts exactly when encryption was meant to be on:
    otherwise the on/off comparison compares nothing."""
    async with db.engine.connect() as connection:
        stored = await connection.scalar(
            text(f"SELECT text FROM {DiaryEntry.__tablename__} LIMIT 1")
        )
    if stored is None or str(stored).startswith(crypto.PREFIX) != encrypted:
        raise Flow(f"encryption was meant to be {'on' if encrypted else 'off'}, it was not")


def settings_for(emulator: BotAPIEmulator, url: str, data_dir: str) -> Settings:
    return Settings(
        TELEGRAM_API_URL=emulator.base_url,
        DATABASE_URL=url,
        MENTORBOT_DATA_DIR=data_dir,
        ENCRYPTION_KEY=KEYRING_KEY,
    )


# -- databases -------------------------------------------------------------------------------


class Databases:
    """Fresh databases for one run: SQLite files, or PostgreSQL databases this creates
    on `server` and drops at the end. The schema is migrated once, into a template
    that every fresh database is copied from."""

    def __init__(self, server: str | None, workdir: Path) -> None:
        self.server = server
        self.workdir = workdir
        self.made: list[str] = []
        self.counter = itertools.count()
        self.template: str | None = None

    @property
    def label(self) -> str:
        if self.server is None:
            return "SQLite"
        return f"PostgreSQL ({make_url(self.server).host or 'local'})"

    def _name(self, number: int) -> str:
        return f"mentorbot_bench_{os.getpid()}_{number}"

    def _url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        return make_url(self.server).set(database=name).render_as_string(hide_password=False)

    async def _create(self, name: str, template: str | None = None) -> None:
        if self.server is None:
            if template is not None:
                await asyncio.to_thread(_copy_sqlite, self._path(template), self._path(name))
            return
        clause = f' TEMPLATE "{template}"' if template is not None else ""
        await self._admin(f'CREATE DATABASE "{name}"{clause}')
        self.made.append(name)

    def _path(self, name: str) -> Path:
        return self.workdir / f"{name}.sqlite3"

    async def fresh(self) -> str:
        if self.template is None:
            template = self._name(next(self.counter))
            await self._create(template)
            url = self._url(template)
            await asyncio.to_thread(partial(upgrade, url, keyring=KEYRING))
            self.template = template
        name = self._name(next(self.counter))
        await self._create(name, self.template)
        return self._url(name)

    async def _admin(self, statement: str) -> None:
        assert self.server is not None
        engine = create_async_engine(async_url(self.server), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.exec_driver_sql(statement)
        finally:
            await engine.dispose()

    async def drop_all(self) -> None:
        for name in reversed(self.made):
            await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()


def _copy_sqlite(source: Path, target: Path) -> None:
    # The backup API copies a consistent database whatever state its WAL is in.
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


# -- one bot, measured -----------------------------------------------------------------------


@dataclass
class Result:
    label: str
    updates: int
    rate: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float
    tallies: dict[str, Tally] | None = None
    p50_ms_by_kind: dict[str, float] = field(default_factory=dict)

    def per_update(self, what: str) -> float | None:
        if self.tallies is None:
            return None
        total = sum(getattr(t, what) for t in self.tallies.values())
        return total / self.updates


@dataclass(frozen=True)
class Plan:
    pairs: int
    cycles: int
    warmup_cycles: int
    open_updates: int
    repeat: int
    startup_runs: int
    seed: int = 16


async def closed_loop(people: Sequence[Person], steps: int) -> tuple[int, float, float]:
    """(updates, seconds, CPU seconds) with everyone sending `steps` updates back to back."""

    async def go(person: Person) -> None:
        for _ in range(steps):
            await person.perform()

    cpu, started = time.process_time(), time.perf_counter()
    await asyncio.gather(*(go(p) for p in people))
    return len(people) * steps, time.perf_counter() - started, time.process_time() - cpu


async def open_loop(
    people: Sequence[Person], rate: float, count: int, rng: random.Random
) -> list[tuple[str, float]]:
    """(kind, latency in s) of `count` Poisson arrivals at `rate`/s, measured from each
    arrival; an arrival finding everyone busy waits for the first person free."""
    idle: asyncio.Queue[Person] = asyncio.Queue()
    for person in people:
        idle.put_nowait(person)
    latencies: list[tuple[str, float]] = []

    async def arrival(at: float) -> None:
        person = await idle.get()
        try:
            kind, arrived = await person.perform()
            latencies.append((kind, arrived - at))
        finally:
            idle.put_nowait(person)

    tasks = []
    at = time.perf_counter()
    for _ in range(count):
        at += rng.expovariate(rate)
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(arrival(at)))
    await asyncio.gather(*tasks)
    return latencies


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


async def measure(
    label: str,
    app: AnyApp,
    people: list[Person],
    plan: Plan,
    counter: Counter | None = None,
) -> Result:
    await start(app)
    try:
        if plan.warmup_cycles:
            await closed_loop(people, plan.warmup_cycles * UPDATES_PER_CYCLE)
        if counter is not None:
            counter.start()
        updates, seconds, cpu = await closed_loop(people, plan.cycles * UPDATES_PER_CYCLE)
        if counter is not None:
            counter.on = False
        rate = updates / seconds
        timed = await open_loop(people, rate / 2, plan.open_updates, random.Random(plan.seed))
    finally:
        await stop(app)
    latencies = [seconds for _, seconds in timed]
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, seconds in timed:
        by_kind[kind].append(seconds)
    return Result(
        label,
        updates,
        rate,
        statistics.median(latencies) * 1000,
        _percentile(latencies, 0.99) * 1000,
        cpu / updates * 1000,
        dict(counter.tallies) if counter is not None else None,
        {kind: statistics.median(values) * 1000 for kind, values in by_kind.items()},
    )


def _ids(first: int, pairs: int) -> list[tuple[int, int]]:
    return [(first + 2 * i, first + 2 * i + 1) for i in range(pairs)]


async def measure_echo(mailbox: Mailbox, plan: Plan, first: int) -> Result:
    emulator = mailbox.emulator
    kinds: dict[str, str] = {}
    today = date.today()
    people = []
    for index, uid in enumerate(uid for pair in _ids(first, plan.pairs) for uid in pair):
        emulator.add_user(uid, f"Echo{uid}", language_code="sv")
        people.append(Person(mailbox, uid, echo_script(index, today), kinds))
    return await measure("bare PTB echo bot", echo_app(emulator), people, plan)


async def open_checkins(db: Database, *, now: datetime) -> dict[int, int]:
    """Make the monthly check-in due for everyone, the way the hourly job does;
    returns Telegram id -> check-in id."""
    async with db.session() as session:
        await plan_checkins(session, now=now)
        rows = list(
            await session.exec(
                select(CheckIn, User.telegram_id).join(User, col(User.id) == col(CheckIn.user_id))
            )
        )
        # The prompts would arrive in the middle of the measurement; /checkin finds
        # the due check-in without them.
        keys = [key_prefix(checkin) + end for checkin, _ in rows for end in ("prompt", "reminder")]
        await outbox.cancel(session, keys=keys)
    return {telegram_id: checkin.id for checkin, telegram_id in rows if checkin.id is not None}


def rewinder(db: Database, checkins: dict[int, int]) -> Callable[[int], Awaitable[None]]:
    """Unanswers a person's check-in, so their next episode can answer it again."""

    async def rewind(telegram_id: int) -> None:
        async with db.session() as session:
            await session.exec(
                update(CheckIn)
                .where(col(CheckIn.id) == checkins[telegram_id])
                .values(
                    works_well=None,
                    could_improve=None,
                    rating=None,
                    note_to_partner=None,
                    shared=False,
                    note_shared=False,
                    answered_at=None,
                )
                # No evaluation in Python: encrypted columns refuse comparisons.
                .execution_options(synchronize_session=False)
            )

    return rewind


async def measure_ours(
    mailbox: Mailbox,
    plan: Plan,
    databases: Databases,
    first: int,
    *,
    encrypted: bool,
) -> Result:
    emulator = mailbox.emulator
    url = await databases.fresh()
    label = "mentorbot, encryption " + ("on" if encrypted else "off")
    with cipher(encrypted), tempfile.TemporaryDirectory() as data_dir:
        # The driver's own engine: what it writes is not counted as the bot's SQL.
        driver_db, bot_db = Database(url), Database(url)
        try:
            now = SystemClock().now()
            ids = _ids(first, plan.pairs)
            await seed_pairs(driver_db, ids, now=now)
            rewind = rewinder(driver_db, await open_checkins(driver_db, now=now))
            kinds: dict[str, str] = {}
            today = now.astimezone(STOCKHOLM).date()
            people = []
            for index, uid in enumerate(uid for pair in ids for uid in pair):
                emulator.add_user(uid, f"Person{uid}", language_code="sv")
                people.append(Person(mailbox, uid, our_script(index, today), kinds, rewind))
            app = build_application(
                settings_for(emulator, url, data_dir),
                token=TOKEN,
                database=bot_db,
                rate_limit=False,
                keyring=KEYRING,
            )
            counter = Counter()
            counter.attach(bot_db)
            counter.wrap(app, kinds)
            result = await measure(label, app, people, plan, counter)
            await check_cipher(driver_db, encrypted)
            return result
        finally:
            await driver_db.dispose()
            await bot_db.dispose()


# -- start-up --------------------------------------------------------------------------------


@dataclass
class Startup:
    label: str
    seconds: float
    rss_mb: float


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def spawn_until_polling(
    emulator: BotAPIEmulator, label: str, command: list[str], env: dict[str, str], log: Path
) -> Startup:
    """Seconds from spawn to the process's first getUpdates, and its RSS a second later."""

    def polls() -> int:
        return sum(1 for method, _ in emulator.calls if method == "getupdates")

    before = polls()
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=sink, stderr=sink)
    try:
        while polls() == before:
            if process.returncode is not None or time.perf_counter() - started > 60:
                raise RuntimeError(f"{label} did not start polling: {_tail(log)}")
            await asyncio.sleep(0.002)
        seconds = time.perf_counter() - started
        await asyncio.sleep(1.0)
        rss = _rss_mb(process.pid)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
    return Startup(label, seconds, rss)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def _mentorbot() -> list[str]:
    script = Path(sys.executable).with_name("mentorbot")
    return [str(script), "run"] if script.exists() else [sys.executable, "-m", "bot.cli", "run"]


def _sources_to_compile() -> list[str]:
    """Every Python source this process has imported (stdlib, libraries, our code), and
    all of our packages: a superset of what either spawned bot imports, since this
    process has built and run the bot and the echo bot."""
    sources = {
        module.__file__
        for module in list(sys.modules.values())
        if isinstance(getattr(module, "__file__", None), str) and module.__file__.endswith(".py")
    }
    for package in ("bot", "conversations", "storage"):
        sources.update(str(path) for path in (HERE.parent / package).rglob("*.py"))
    return sorted(source for source in sources if Path(source).is_file())


async def precompile(prefix: Path) -> int:
    """Byte-compile both bots' imports into `prefix`, a cache both spawned processes use
    (`PYTHONPYCACHEPREFIX`), so they start like installed programs.

    Without it the race is unfair: a library installed by pip comes with its `.pyc`
    files, while our sources (run from a checkout, and here with
    PYTHONDONTWRITEBYTECODE=1) would be compiled on every spawn. With a prefix set,
    Python reads `.pyc` files only from under it, for the bare bot's imports too.
    """
    sources = _sources_to_compile()
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(prefix))
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "compileall", "-q", "-j", "0", "-i", "-"),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate("\n".join(sources).encode())
    # compileall exits 1 when a file does not compile (a template among a library's
    # files, say): the rest is compiled, and such a file is never imported.
    if process.returncode not in (0, 1):
        raise RuntimeError(f"compileall failed: {output.decode(errors='replace')[-2000:]}")
    return len(sources)


async def measure_startup(
    emulator: BotAPIEmulator, databases: Databases, runs: int
) -> tuple[Startup, Startup, int]:
    """Both bots' start-up, and how many sources were byte-compiled for them first."""
    url = await databases.fresh()  # already at the newest schema, as on any restart
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))}
    results: dict[str, list[Startup]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "pycache"
        compiled = await precompile(prefix)
        env = dict(base, BOT_TOKEN=TOKEN, TELEGRAM_API_URL=emulator.base_url, DATABASE_URL=url)
        env.update(MENTORBOT_DATA_DIR=tmp, LOG_LEVEL="WARNING", PYTHONPYCACHEPREFIX=str(prefix))
        env["ENCRYPTION_KEY"] = KEYRING_KEY
        bare = [sys.executable, str(HERE / "bare_bot.py")]
        for _ in range(runs):
            for label, command in (("bare PTB bot", bare), ("mentorbot run", _mentorbot())):
                log = Path(tmp) / "bot.log"
                results[label].append(await spawn_until_polling(emulator, label, command, env, log))

    def median(label: str) -> Startup:
        got = results[label]
        return Startup(
            label,
            statistics.median(s.seconds for s in got),
            statistics.median(s.rss_mb for s in got),
        )

    return median("bare PTB bot"), median("mentorbot run"), compiled


# -- the report ------------------------------------------------------------------------------


def combine(results: Sequence[Result]) -> Result:
    """The median of each figure over repeated runs of one bot (SQL counts: the first
    run's; they do not depend on timing)."""
    first = results[0]
    kinds = {kind for r in results for kind in r.p50_ms_by_kind}
    return Result(
        first.label,
        first.updates,
        statistics.median(r.rate for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        statistics.median(r.cpu_ms for r in results),
        first.tallies,
        {
            kind: statistics.median(
                r.p50_ms_by_kind[kind] for r in results if kind in r.p50_ms_by_kind
            )
            for kind in kinds
        },
    )


def _fmt(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _change(new: float, old: float) -> str:
    return f"{(new / old - 1) * 100:+.1f} %"


def report(database: str, plan: Plan, echo: Result, ours: Sequence[Result], out: list[str]) -> None:
    out.append("")
    repeats = f", median of {plan.repeat} runs each" if plan.repeat > 1 else ""
    out.append(
        f"{database}: {plan.pairs} pairs ({2 * plan.pairs} people), {echo.updates} updates "
        f"closed loop, {plan.open_updates} open-loop arrivals at half capacity{repeats}"
    )
    header = (
        f"{'bot':<30} {'upd/s':>7} {'×echo':>6} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms/upd':>10} {'×echo':>6} {'SQL/upd':>8} {'commits/upd':>11}"
    )
    out.append(header)
    out.append("-" * len(header))
    for result in (echo, *ours):
        out.append(
            f"{result.label:<30} {result.rate:7.1f} {result.rate / echo.rate:6.2f} "
            f"{result.p50_ms:7.1f} {result.p99_ms:7.1f} {result.cpu_ms:10.2f} "
            f"{result.cpu_ms / echo.cpu_ms:6.2f} {_fmt(result.per_update('statements')):>8} "
            f"{_fmt(result.per_update('commits')):>11}"
        )
    on, off = ours
    out.append(
        f"encryption on vs off: time per update (1/throughput) {_change(off.rate, on.rate)},"
        f" CPU per update {_change(on.cpu_ms, off.cpu_ms)},"
        f" p50 {_change(on.p50_ms, off.p50_ms)}, p99 {_change(on.p99_ms, off.p99_ms)}"
    )
    out.append("")
    sub = (
        f"{'per update kind':<30} {'kind':<16} {'updates':>7} {'SQL':>6} {'commits':>7} "
        f"{'conns':>6} {'p50 ms':>7}"
    )
    out.append(sub)
    out.append("-" * len(sub))
    for result in ours:
        assert result.tallies is not None
        for kind in (*KINDS, "other", BACKGROUND):
            tally = result.tallies.get(kind)
            if tally is None:
                continue
            if kind == BACKGROUND:
                # Periodic jobs and leftovers, spread over every update of the loop.
                divisor, shown = result.updates, f"({result.updates})"
            else:
                divisor, shown = max(tally.updates, 1), str(tally.updates)
            out.append(
                f"{result.label:<30} {kind:<16} {shown:>7} "
                f"{tally.statements / divisor:6.1f} {tally.commits / divisor:7.1f} "
                f"{tally.checkouts / divisor:6.1f} {_fmt(result.p50_ms_by_kind.get(kind)):>7}"
            )


def report_startup(bare: Startup, ours: Startup, runs: int, compiled: int, out: list[str]) -> None:
    out.append("")
    out.append(
        f"both bots byte-compiled first ({compiled} sources, one PYTHONPYCACHEPREFIX for both),"
        " so both start like installed programs"
    )
    title = f"start-up (median of {runs})"
    header = f"{title:<30} {'to getUpdates s':>15} {'idle RSS MB':>11}"
    out.append(header)
    out.append("-" * len(header))
    for item in (bare, ours):
        out.append(f"{item.label:<30} {item.seconds:15.2f} {item.rss_mb:11.1f}")
    out.append(
        f"{'ratio mentorbot / bare':<30} {ours.seconds / bare.seconds:15.2f} "
        f"{ours.rss_mb / bare.rss_mb:11.2f}"
    )


async def run_database(
    mailbox: Mailbox, plan: Plan, databases: Databases, ids: Iterator[int], out: list[str]
) -> None:
    echoes: list[Result] = []
    ours: dict[bool, list[Result]] = defaultdict(list)
    variants = (True, False)  # the report expects this order: on, then off
    for repeat in range(plan.repeat):
        echoes.append(await measure_echo(mailbox, plan, next(ids)))
        # Alternating the order cancels a drift of the machine between the two.
        for encrypted in variants if repeat % 2 == 0 else variants[::-1]:
            ours[encrypted].append(
                await measure_ours(mailbox, plan, databases, next(ids), encrypted=encrypted)
            )
    report(databases.label, plan, combine(echoes), [combine(ours[v]) for v in variants], out)


async def run(plan: Plan, servers: Sequence[str | None]) -> list[str]:
    out: list[str] = []
    emulator = BotAPIEmulator()
    await emulator.start()
    mailbox = Mailbox(emulator)
    # Telegram ids: a fresh block of people for every bot run.
    ids = itertools.count(100_000, 10_000)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for number, server in enumerate(servers):
                databases = Databases(server, Path(workdir))
                try:
                    await run_database(mailbox, plan, databases, ids, out)
                    if number == 0 and plan.startup_runs:
                        bare, mine, compiled = await measure_startup(
                            emulator, databases, plan.startup_runs
                        )
                        report_startup(bare, mine, plan.startup_runs, compiled, out)
                finally:
                    await databases.drop_all()
    finally:
        await mailbox.close()
        await emulator.stop()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=25)
    parser.add_argument("--cycles", type=int, default=2, help="episode cycles per person")
    parser.add_argument("--open-updates", type=int, default=600, help="open-loop arrivals")
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per bot, alternating on/off (median shown)"
    )
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to run on (the benchmark creates and drops its own databases)",
    )
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    parser.add_argument("--quick", action="store_true", help="a tiny run for smoke tests")
    args = parser.parse_args(argv)
    if args.database_url and not args.database_url.startswith("postgres"):
        parser.error("--database-url must be a postgresql:// server (SQLite is the default)")
    if args.quick:
        plan = Plan(pairs=1, cycles=1, warmup_cycles=0, open_updates=10, repeat=1, startup_runs=1)
    else:
        plan = Plan(
            args.pairs, args.cycles, 1, args.open_updates, max(args.repeat, 1), args.startup_runs
        )
    servers: list[str | None] = (
        [None, args.database_url or DEFAULT_POSTGRES] if args.both else [args.database_url]
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    started = time.strftime("%Y-%m-%d %H:%M")
    lines = asyncio.run(run(plan, servers))
    print(
        f"conversation benchmark {started}, {os.uname().nodename}, {os.cpu_count()} CPUs, "
        f"Python {sys.version.split()[0]}, load average at start {load}"
    )
    if args.quick:
        print("quick mode: a smoke test, far too small for its numbers to mean anything")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
