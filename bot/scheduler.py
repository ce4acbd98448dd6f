"""The outbox dispatcher: the only code that turns due outbox rows into Telegram sends.

Everything the bot says on its own initiative is a row in `outbox` (see
`storage.outbox`). A PTB repeating job calls `Dispatcher.run_once`, which claims
due rows a couple of seconds of sending ahead, checks they still apply
(expiry, blocked recipient, quiet hours), renders each batch in the
recipients' current languages, sends several at once at a pace Telegram
accepts, and records the outcomes in batches (see `_Ledger`). It keeps claiming
while rows are due, so a fan-out goes out at the pacer's rate. The database
stays the source of truth, so a restart never loses a message, and a crash
repeats at most the sends in flight (`concurrency`, 1 if configured so).

Feature modules add kinds with `register(kind, renderer)`. A renderer returns
the message, or None when it no longer applies (the row is then cancelled),
or raises `RenderError` when it can never be rendered (the row fails), or
`RenderLater` when it is not time yet (the row waits, as in quiet hours).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import warnings
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CallbackContext, ExtBot, Job
from telegram.warnings import PTBDeprecationWarning

from bot import services, tls
from bot.clock import Clock
from bot.domain.goals import excerpt
from bot.domain.quiet_hours import in_quiet_hours, next_allowed
from bot.errors import describe
from bot.i18n import N_, t
from bot.settings import Settings
from bot.telegram_http import AiohttpRequest
from bot.textsplit import split_html, utf16_len
from bot.usecases import notify
from bot.usecases.goals import headline
from bot.usecases.pairing import display_name
from storage import mentorships, outbox, users
from storage import updates as handled_updates
from storage.db import Database, create_engine
from storage.models import GoalRevision, Notification, User

log = logging.getLogger("mentorbot.scheduler")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Telegram allows about 30 messages per second per bot and one per second per
# private chat. Just under the cap: a second in which the requests arrive a little
# bunched up (network and event-loop jitter) must still stay at 30.
SENDS_PER_SECOND = 29.0
TELEGRAM_CAP = 30
# A send waits until the one `window` sends before it is at least a second and
# this much behind it at Telegram's end (see `Pacer`).
WINDOW_MARGIN = 0.01
# Sends in flight at once: enough to keep the pace with ~250 ms per API call, and
# the most a crash can repeat (a send is in flight until its outcome is written).
CONCURRENCY = 8
CAPTION_LIMIT = 1000
PER_CHAT_INTERVAL = 1.0
# Several workers on one PostgreSQL: only the one holding this session-level advisory
# lock sends, so Telegram's limits are kept by one pacer. The two-number form of the
# key never meets the one-number keys that lock people (storage.updates).
LEADER_LOCK = (0x6D656E74, 0x6F72)
# How often the others try to take over, and how often the leader checks it still leads.
LEADER_RETRY_SECONDS = 3.0
# Claimed update ids older than this are dropped (Telegram gives up redelivering long before).
HANDLED_UPDATES_KEPT = timedelta(days=1)
# A network error or 5xx is retried with exponential backoff; the sixth failure is final.
MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_LONGEST = timedelta(minutes=15)
# Longer than any batch takes to send, so a live dispatcher's rows are never taken as stale.
STALE_AFTER = timedelta(minutes=5)
# A flood-control pause longer than this puts the remaining claimed rows back
# to pending instead of keeping them in `sending` while we wait.
LONGEST_WAIT_IN_RUN = 5.0
# A run keeps claiming while rows are due for at most this long, then hands over
# to a fresh run at once, so `pause` and a shutdown never wait for a whole fan-out.
RUN_BUDGET = 30.0
# Rows are claimed this many seconds of sending ahead (at most a quarter of the
# stale time) and claimed again when half of that is left: the pacer, not the
# claiming, sets the pace, and a claimed row waits seconds, not minutes.
CLAIM_AHEAD = 2.0
# Outcomes are written in batches (one UPDATE for every sent id): when half the
# sends in flight have an outcome to write, or after this long.
MARK_EVERY = 0.2
# APScheduler's default grace of 1 s silently drops a run that starts late on a busy loop.
MISFIRE_GRACE_SECONDS = 30
JOB_NAME = "outbox-dispatcher"
FORGET_JOB_NAME = "forget-handled-updates"
_KEY = "outbox_dispatcher"


# -- rendering ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send. `text` is Telegram HTML (the caption when a document is sent)."""

    text: str
    buttons: list[list[tuple[str, str]]] | None = None  # rows of (text, callback data)
    document: tuple[str, bytes, str] | None = None  # (file name, content, MIME type)
    photo: bytes | None = None  # a PNG or JPEG shown in the chat; `text` is its caption


@dataclass(frozen=True, slots=True)
class RenderContext:
    session: AsyncSession
    notification: Notification
    recipient: User
    settings: Settings
    now: datetime


Renderer = Callable[[RenderContext], Awaitable[Outgoing | None]]


class RenderError(Exception):
    """The row can never be rendered (malformed payload, missing data): it fails at once."""


class RenderLater(Exception):
    """Not yet: what the row reports is still under way (an announcement's count waits for
    its last delivery). The row goes back to pending until `due_at`, no attempt counted."""

    def __init__(self, due_at: datetime) -> None:
        super().__init__("not yet")
        self.due_at = due_at


_RENDERERS: dict[str, Renderer] = {}


def register(kind: str, renderer: Renderer) -> None:
    """Make `renderer` responsible for rows of `kind` (at most 32 characters)."""
    if len(kind) > 32:
        raise ValueError(f"outbox kind {kind!r} is longer than the column (32)")
    existing = _RENDERERS.get(kind)
    if existing is not None and existing is not renderer:
        raise ValueError(f"outbox kind {kind!r} already has a renderer")
    _RENDERERS[kind] = renderer


def renderer_for(kind: str) -> Renderer | None:
    return _RENDERERS.get(kind)


async def resolve(session: AsyncSession, values: dict[str, Any]) -> dict[str, Any] | None:
    """A queued message's values with every reference read from its source (see `notify`).

    Read through the ORM, so encrypted columns arrive decrypted; nothing read here
    is written back to the outbox. None when a quoted text is gone (replaced by a
    new version, erased, purged): the notice no longer applies and is not sent.
    """
    resolved: dict[str, Any] = {}
    for name, value in notify.from_json(values).items():
        if isinstance(value, notify.NameOf):
            person = await session.get(User, value.user_id)
            if person is None:
                raise RenderError("a person named in the message is gone")
            resolved[name] = display_name(person)
        elif isinstance(value, notify.GoalHeadline):
            revision = (
                await session.get(GoalRevision, value.revision_id)
                if value.revision_id is not None
                else None
            )
            resolved[name] = headline(revision)
        elif isinstance(value, notify.TextOf):
            source = notify.QUOTABLE.get(value.table)
            if source is None or value.column not in source[1]:
                raise RenderError("the message quotes a column notices may not quote")
            row = await session.get(source[0], value.row_id)
            quoted = getattr(row, value.column, None) if row is not None else None
            if not isinstance(quoted, str) or not quoted.strip():
                return None
            resolved[name] = quoted if value.limit is None else excerpt(quoted, value.limit)
        else:
            resolved[name] = value
    return resolved


async def render_message(context: RenderContext) -> Outgoing | None:
    """The built-in "message" kind.

    Payload: {"key": i18n key, "values": {...}, "buttons": [[{"key": i18n key, "data": ...}]]}.
    Translated when sent, not when queued, so a language changed since is honoured;
    names and quoted texts in `values` are references, read now (see `resolve`).
    """
    payload = context.notification.payload
    language = context.recipient.language
    try:
        key = payload["key"]
        values = await resolve(context.session, payload.get("values") or {})
        if values is None:
            return None
        button_rows = payload.get("buttons") or []
        text = t(language, key, **values)
        buttons = [
            [(t(language, button["key"]), str(button["data"])) for button in row]
            for row in button_rows
        ]
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise RenderError(f"malformed message payload: {type(exc).__name__}") from exc
    return Outgoing(text=text, buttons=buttons or None)


register("message", render_message)


async def tell_partner_unreachable(
    session: AsyncSession, *, row: Notification, now: datetime
) -> None:
    """A reminder that cannot reach someone is news for their partner, once a day."""
    if row.mentorship_id is None or row.kind == "message":
        return
    seen = await mentorships.pairing(
        session, mentorship_id=row.mentorship_id, user_id=row.recipient_id
    )
    if seen is None or seen.partner is None:
        return
    blocked = await users.get(session, user_id=row.recipient_id)
    if blocked is None:
        return
    await notify.tell(
        session,
        recipient=seen.partner,
        key=N_("common.partner_unreachable"),
        values={"name": notify.name_of(blocked)},
        dedupe=f"unreachable:{row.mentorship_id}:{row.recipient_id}:{now.date().isoformat()}",
        now=now,
        mentorship_id=row.mentorship_id,
    )


# -- pacing -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Turn:
    """One send let through: when, and when Telegram answered it (None while in flight)."""

    granted: float
    answered: float | None = None


class Pacer:
    """Spaces sends out: at most `rate` per second overall and one per chat per `per_chat` s.

    A token bucket holding a single token, on purpose: the burst a bigger bucket
    lets through is exactly what a strict server answers with 429. Senders queue
    for their turn, on a schedule of one per 1/rate seconds that a late wake-up
    does not push back (so the pace is `rate`, not a little under it) and that a
    stalled loop restarts (so the senders that waited do not all go at once).

    Telegram counts a send when it arrives, in a sliding window of a second, and
    arrivals bunch up when one request is slow and the next ones are not (a new
    connection, a busy moment at either end). So a send also waits until the
    send `window` turns before it was answered more than a second before this
    one can be (its send time plus the quickest recent round trips): a slow
    request delays one later send a little instead of drawing a 429.

    Flood control halves the rate and holds every send for `retry_after`; each
    success wins a little of the rate back. Runs on the event loop's monotonic
    clock, not the bot's Clock: it paces real requests, and time travel in the
    sandbox must not let a burst through.
    """

    def __init__(self, rate: float = SENDS_PER_SECOND, per_chat: float = PER_CHAT_INTERVAL) -> None:
        self.max_rate = rate
        self.rate = rate
        self.per_chat = per_chat
        # What the server allows in a second: Telegram's cap, or more when paced faster
        # (a test, a bot with a higher limit).
        self.window = max(TELEGRAM_CAP, math.ceil(rate) + 1)
        self._turns: deque[_Turn] = deque(maxlen=self.window)
        self._next_turn = 0.0
        self._queue = asyncio.Lock()  # senders waiting for their turn, first come first served
        self._held_until = 0.0
        self._chat_ready: dict[int, float] = {}

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def hold_remaining(self) -> float:
        return max(0.0, self._held_until - self._now())

    def flood(self, retry_after: float) -> None:
        now = self._now()
        if self._held_until <= now:
            # One flood is one signal: the other sends in flight when it came are
            # answered 429 as well and must not halve the rate again each.
            self.rate = max(1.0, self.rate / 2)
        self._held_until = max(self._held_until, now + retry_after)

    def succeeded(self) -> None:
        self.rate = min(self.max_rate, self.rate + self.max_rate / 50)

    async def wait_for_chat(self, chat_id: int) -> None:
        """Until `chat_id` may receive again and no flood hold is on (before taking a
        place among the sends in flight, so a busy chat never holds one while it waits)."""
        while True:
            wait = max(self._chat_ready.get(chat_id, 0.0), self._held_until) - self._now()
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        turn = await self._acquire(chat_id)
        try:
            yield
        finally:
            # Counted from the end of the request, so network jitter cannot put two
            # messages to one chat within the same second at Telegram's end.
            turn.answered = self._now()
            self._chat_ready[chat_id] = turn.answered + self.per_chat

    def _window_ready(self, now: float) -> float:
        """When a send may go without making `window` arrivals within one second."""
        if len(self._turns) < self.window:
            return 0.0
        oldest = self._turns[0]  # the send `window` turns before this one
        if oldest.answered is None:
            return now + 0.005  # still in flight: look again in a moment
        trips = sorted(t.answered - t.granted for t in self._turns if t.answered is not None)
        quick = trips[len(trips) // 10]
        return oldest.answered + 1.0 + WINDOW_MARGIN - quick

    async def _acquire(self, chat_id: int) -> _Turn:
        while True:
            # The chat first, outside the queue, so one busy chat never holds up the others.
            await self.wait_for_chat(chat_id)
            async with self._queue:
                while True:
                    now = self._now()
                    ready = max(self._next_turn, self._held_until, self._window_ready(now))
                    if ready <= now:
                        break
                    await asyncio.sleep(ready - now)
                if self._chat_ready.get(chat_id, 0.0) <= now:
                    interval = 1.0 / self.rate
                    # On schedule, however late this wake-up was; but never more than a
                    # quarter turn of catching up, so a stall or an idle spell starts afresh.
                    self._next_turn = max(self._next_turn + interval, now + interval * 0.75)
                    turn = _Turn(granted=now)
                    self._turns.append(turn)
                    break
        if len(self._chat_ready) > 10_000:
            current = self._now()
            self._chat_ready = {c: r for c, r in self._chat_ready.items() if r > current}
        return turn


# -- dispatching --------------------------------------------------------------------------


class Outcome(StrEnum):
    SENT = "sent"
    RETRIED = "retried"
    EXPIRED = "expired"
    FAILED = "failed"
    CANCELLED = "cancelled"
    DEFERRED = "deferred"


@dataclass(slots=True)
class DispatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    expired: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)

    def add(self, other: DispatchReport) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def _parse_hhmm(value: str | None) -> time | None:
    if not value:
        return None
    try:
        return time.fromisoformat(value)
    except ValueError:
        return None


def _zone(name: str, fallback: ZoneInfo) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def _retry_after_seconds(error: RetryAfter) -> float:
    # PTB 22 warns that `retry_after` turns from int into timedelta; accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, 0.0)


Change = Callable[[AsyncSession], Awaitable[None]]


def _mark(change: Callable[..., Awaitable[None]], row: Notification, **values: Any) -> Change:
    """`change` (an `outbox` function) applied to `row` when the ledger writes its batch."""

    async def apply(session: AsyncSession) -> None:
        await change(session, notification_id=row.id, **values)

    return apply


async def _prefetch(session: AsyncSession, rows: list[Notification]) -> list[Any]:
    """Load what the batch's "message" rows refer to with one query per table.

    `resolve` then finds the people, goal versions and quoted rows in the
    session instead of reading them one by one. The caller keeps the returned
    objects for as long as it renders: the session holds them only weakly.
    """
    wanted: dict[type[SQLModel], set[int]] = {}
    for row in rows:
        values = row.payload.get("values") if row.kind == "message" else None
        if not isinstance(values, dict):
            continue
        try:
            references = notify.from_json(values).values()
        except (KeyError, TypeError, ValueError, AttributeError):
            continue  # rendering the row reports it
        for value in references:
            if isinstance(value, notify.NameOf):
                wanted.setdefault(User, set()).add(value.user_id)
            elif isinstance(value, notify.GoalHeadline) and value.revision_id is not None:
                wanted.setdefault(GoalRevision, set()).add(value.revision_id)
            elif isinstance(value, notify.TextOf) and value.table in notify.QUOTABLE:
                wanted.setdefault(notify.QUOTABLE[value.table][0], set()).add(value.row_id)
    loaded: list[Any] = []
    for model, ids in wanted.items():
        key = model.__table__.c.id  # type: ignore[attr-defined]
        loaded.extend((await session.exec(select(model).where(key.in_(sorted(ids))))).all())
    return loaded


class _Ledger:
    """The outcomes of one run, written in batches: one transaction, one UPDATE for
    every sent id in it, the other outcomes row by row in the same transaction.

    `sent` returns only once the row is recorded, and the sender keeps its place
    among the sends in flight until then: so no more than `concurrency` messages
    are ever delivered but not recorded, which is all a crash can repeat. A batch
    is written when `batch` outcomes wait or `linger` seconds after the first.
    """

    def __init__(self, db: Database, clock: Clock, *, batch: int, linger: float) -> None:
        self._db = db
        self._clock = clock
        self._batch = batch
        self._linger = linger
        self._sent: list[int] = []
        self._changes: list[Change] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._queued = asyncio.Event()
        self._full = asyncio.Event()
        self._closing = False
        self._writer: asyncio.Task[None] | None = None

    def _waiting(self) -> int:
        return len(self._sent) + len(self._changes)

    def _wake(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_batches(), name="outbox-ledger")
        self._queued.set()
        if self._waiting() >= self._batch:
            self._full.set()

    def add(self, change: Change) -> None:
        """Write `change` with the next batch; the run's end waits for it."""
        self._changes.append(change)
        self._wake()

    async def sent(self, notification_id: int) -> None:
        """Record a delivered row as sent; returns once that is committed (or failed)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sent.append(notification_id)
        self._waiters.append(waiter)
        self._wake()
        await waiter

    async def close(self) -> None:
        """Write whatever is left, at once."""
        self._closing = True
        self._queued.set()
        self._full.set()
        if self._writer is not None:
            await self._writer

    async def _write_batches(self) -> None:
        while True:
            if not self._waiting():
                if self._closing:
                    return
                self._queued.clear()
                await self._queued.wait()
                continue
            if not self._closing and self._waiting() < self._batch:
                self._full.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self._linger)
            sent, changes, waiters = self._sent, self._changes, self._waiters
            self._sent, self._changes, self._waiters = [], [], []
            try:
                await self._write(sent, changes)
            finally:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)

    async def _write(self, sent: list[int], changes: list[Change]) -> None:
        try:
            async with self._db.session() as session:
                if sent:
                    await outbox.mark_sent_many(
                        session, notification_ids=sent, now=self._clock.now()
                    )
                for change in changes:
                    await change(session)
            return
        except Exception as exc:
            log.error(
                "outbox: %d outcomes not written together, writing them one by one: %s",
                len(sent) + len(changes),
                describe(exc),
            )
        # One by one, so that one outcome that cannot be written keeps no other unwritten.
        if sent:
            try:
                async with self._db.session() as session:
                    await outbox.mark_sent_many(
                        session, notification_ids=sent, now=self._clock.now()
                    )
            except Exception as exc:
                # Delivered but not recorded: the stale-claim recovery sends them once more.
                log.error("outbox: %d sent but not recorded: %s", len(sent), describe(exc))
        for change in changes:
            try:
                async with self._db.session() as session:
                    await change(session)
            except Exception as exc:
                # The row stays in `sending`; the stale-claim recovery deals with it again.
                log.error("outbox: an outcome was not recorded: %s", describe(exc))


@dataclass(slots=True)
class _Ready:
    """A claimed, checked and rendered row waiting for its turn."""

    row: Notification
    chat_id: int
    outgoing: Outgoing
    claimed_at: float  # the event loop's clock


@dataclass(slots=True)
class _Run:
    """What one `run_once` shares between its claiming loop and its senders."""

    report: DispatchReport
    gate: asyncio.Semaphore  # the sends in flight
    ledger: _Ledger
    # One chain of rows per recipient, sent in due order by one task.
    chains: dict[int, deque[_Ready]] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    backlog: int = 0  # rows handed to chains, not yet dealt with
    room: asyncio.Event = field(default_factory=asyncio.Event)
    blocked: set[int] = field(default_factory=set)  # chats that answered Forbidden

    def done_one(self) -> None:
        self.backlog -= 1
        self.room.set()

    async def wait_for_room(self, most: int) -> None:
        while self.backlog > most:
            self.room.clear()
            await self.room.wait()

    async def finish(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.ledger.close()


class Leadership:
    """Whether this process is the one that sends: always on SQLite (one process);
    on PostgreSQL, while it holds `LEADER_LOCK` on a connection of its own.

    The connection is outside the pool: a session-level lock must not travel back
    into it. When the leader dies, PostgreSQL sees its connection close and drops
    the lock; another worker takes it at its next try, within `LEADER_RETRY_SECONDS`.
    A running application gives the lead up when it stops (PTB waits for the task
    that holds it); outside one, a dispatcher leads only for the run at hand.
    """

    def __init__(
        self, db: Database, application: AnyApplication, retry: float = LEADER_RETRY_SECONDS
    ) -> None:
        self.db = db
        self.application = application
        self.retry = retry
        self._engine: AsyncEngine | None = None
        self._connection: AsyncConnection | None = None
        self._last_try = -math.inf

    @property
    def held(self) -> bool:
        return self.db.dialect != "postgresql" or self._connection is not None

    async def lead(self) -> bool:
        """True when this process may send now; tries (again) every `retry` seconds."""
        if self.db.dialect != "postgresql":
            return True
        now = asyncio.get_running_loop().time()
        if now - self._last_try < self.retry:
            return self._connection is not None
        self._last_try = now
        if self._connection is not None:
            try:
                await self._connection.execute(text("SELECT 1"))
                await self._connection.commit()
                return True
            except Exception as exc:  # the server dropped us, and with it the lock
                log.warning("outbox: lost the leader connection: %s", describe(exc))
                await self.release()
                self._last_try = now
        return await self._try()

    async def _try(self) -> bool:
        if self._engine is None:
            self._engine = create_engine(self.db.url, poolclass=NullPool)
        connection: AsyncConnection | None = None
        try:
            connection = await self._engine.connect()
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:a, :b)"),
                    {"a": LEADER_LOCK[0], "b": LEADER_LOCK[1]},
                )
            ).scalar()
            await connection.commit()  # the lock outlives the transaction, by design
        except Exception as exc:
            log.warning("outbox: could not try to lead: %s", describe(exc))
            got = False
        if not got or connection is None:
            if connection is not None:
                await connection.close()
            return False
        self._connection = connection
        log.info("outbox: this worker now sends for every worker")
        if self.application.running:
            self.application.create_task(self._hold(connection), name="outbox-leader")
        return True

    async def _hold(self, connection: AsyncConnection) -> None:
        """Keep the lead while the application runs; give it up as it stops."""
        # PTB has no event for "stopping"; `running` turns False first thing in stop().
        while self.application.running and self._connection is connection:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        if self._connection is connection:
            await self.release()

    async def release(self) -> None:
        """Give the lead up (closing the connection drops the lock); the next run may try again."""
        connection, self._connection = self._connection, None
        self._last_try = -math.inf
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close()

    async def close(self) -> None:
        await self.release()
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


class Dispatcher:
    """Sends due outbox rows; safe to run in several processes against one database.

    On PostgreSQL only the elected leader (`Leadership`) claims and sends, so the
    global and per-chat limits hold for all workers together; the others' runs
    return at once. A leader that dies mid-send leaves its rows in `sending`, and
    the next leader takes them after `stale_after`.
    """

    def __init__(
        self,
        application: AnyApplication,
        *,
        database: Database | None = None,
        batch_size: int = 100,
        run_budget: float = RUN_BUDGET,
        stale_after: timedelta = STALE_AFTER,
        rate: float = SENDS_PER_SECOND,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        concurrency: int = CONCURRENCY,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        found = services.of_app(application)
        self.application = application
        self.db = database or found.db
        self.clock = found.clock
        self.settings = found.settings
        self.batch_size = batch_size
        self.run_budget = run_budget
        self.stale_after = stale_after
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.pacer = Pacer(rate, per_chat_interval)
        self.job: Job[Any] | None = None
        self._running = asyncio.Lock()
        self.bot: ExtBot[Any] = application.bot
        limiter = getattr(application.bot, "rate_limiter", None)
        if limiter is not None:
            # PTB's limiter retries a 429 inside the call and stalls every reply while
            # it waits; the outbox paces itself and reschedules instead, so it sends
            # through a bot of its own without the limiter.
            sending = AiohttpRequest(
                connection_pool_size=concurrency + 2, ssl_context=tls.context()
            )
            self.bot = ExtBot(
                token=application.bot.token,
                base_url=self.settings.telegram_api_url,
                base_file_url=self.settings.telegram_file_url,
                defaults=application.bot.defaults,
                request=sending,
                get_updates_request=sending,  # never polls: no client of its own for that
            )
        self._bot_ready = self.bot is application.bot
        self._bot_starting = asyncio.Lock()
        self._kick_pending = False
        self._ticked: asyncio.Task[Any] | None = None
        # Rows this process claimed in the running run. A claim that looks stale to
        # the database (a slow machine, a slow write) may be claimed again by this
        # very process; those copies are dropped, so one process never sends twice.
        self._held: set[int] = set()
        self.leadership = Leadership(self.db, application)

    async def run_once(self) -> DispatchReport:
        """Send what is due, claiming again while rows are due; runs never overlap.

        Claims `CLAIM_AHEAD` seconds of sending at a time and claims the next
        batch while that one goes out, so the pacer sets the pace; up to
        `concurrency` sends are in flight. After `run_budget` seconds the run
        stops claiming and a fresh run follows at once (`kick`).
        """
        report = DispatchReport()
        async with self._running:
            # Whatever was queued before this claim is covered by it.
            self._kick_pending = False
            if not await self.leadership.lead():
                return report  # the leader's next tick sends what this worker queued
            try:
                budget_spent = await self._run(report)
            finally:
                if not self.application.running:
                    await self.leadership.release()
        if budget_spent:
            self.kick()
        return report

    async def _run(self, report: DispatchReport) -> bool:
        """One run as the leader; True when it stopped for the budget."""
        run = _Run(
            report=report,
            gate=asyncio.Semaphore(self.concurrency),
            ledger=_Ledger(
                self.db, self.clock, batch=max(1, self.concurrency // 2), linger=MARK_EVERY
            ),
        )
        try:
            return await self._claim_and_send(run)
        finally:
            # Every outcome of the run is written by now (`_Run.finish`).
            self._held.clear()

    async def _claim_and_send(self, run: _Run) -> bool:
        """The claiming loop of a run; True when it stopped for the budget, not for lack of rows."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        # A run started by the running bot ends when the bot stops (PTB waits for it).
        ends_with_the_bot = self.application.running
        ahead = min(CLAIM_AHEAD, self.stale_after.total_seconds() / 4)
        try:
            while True:
                if ends_with_the_bot and not self.application.running:
                    return False
                if loop.time() - started >= self.run_budget:
                    return True
                if self.pacer.hold_remaining() > LONGEST_WAIT_IN_RUN:
                    return False  # flood control: the rows wait as pending for a later run
                size = math.ceil(self.pacer.rate * ahead)
                size = max(1, min(self.batch_size, max(self.concurrency, size)))
                await run.wait_for_room(size // 2)
                async with self.db.session() as session:
                    claimed = await outbox.claim_due(
                        session, now=self.clock.now(), limit=size, stale_after=self.stale_after
                    )
                if not claimed:
                    return False
                claimed = [row for row in claimed if row.id not in self._held]
                self._held.update(row.id for row in claimed if row.id is not None)
                run.report.claimed += len(claimed)
                at = loop.time()
                for row, prepared in await self._prepare_all(claimed, run.ledger):
                    if isinstance(prepared, Outcome):
                        run.report.count(prepared)
                    else:
                        self._hand_over(run, _Ready(row, *prepared, claimed_at=at))
        finally:
            # However the loop ended, what it claimed is sent or recorded before the run ends.
            await run.finish()

    def _hand_over(self, run: _Run, item: _Ready) -> None:
        """Queue `item` behind its recipient's earlier rows, or start a chain for them."""
        recipient = item.row.recipient_id
        chain = run.chains.get(recipient)
        if chain is not None and self.pacer.per_chat * len(chain) > self._longest_queue():
            # Its turn would come so late that another process could take the claim
            # for lost: back to pending, due when this chat is free again.
            wait = timedelta(seconds=self.pacer.per_chat * len(chain))
            run.ledger.add(
                _mark(
                    outbox.reschedule,
                    item.row,
                    due_at=max(item.row.due_at, self.clock.now() + wait),
                    count_attempt=False,
                    error=None,
                )
            )
            run.report.count(Outcome.DEFERRED)
            return
        run.backlog += 1
        if chain is not None:
            chain.append(item)
            return
        run.chains[recipient] = deque([item])
        task = asyncio.create_task(self._chain(run, recipient), name="outbox-chain")
        run.tasks.add(task)
        task.add_done_callback(run.tasks.discard)

    def _longest_queue(self) -> float:
        """Seconds a claimed row may wait for its turn: half of the stale time."""
        return self.stale_after.total_seconds() / 2

    async def _chain(self, run: _Run, recipient: int) -> None:
        """One recipient's rows in due order, one after the other."""
        chain = run.chains[recipient]
        try:
            while chain:
                item = chain[0]
                try:
                    outcome = await self._send(run, item)
                except Exception as exc:
                    # Not expected (`_send` records every failure it knows); the row
                    # stays in `sending` and the stale-claim recovery sends it later.
                    log.error(
                        "outbox %s id=%s left for recovery: %s",
                        item.row.kind,
                        item.row.id,
                        describe(exc),
                    )
                    outcome = Outcome.RETRIED
                chain.popleft()
                run.report.count(outcome)
                run.done_one()
        finally:
            for _ in chain:
                run.done_one()  # only when cancelled: the claimed rows are recovered later
            del run.chains[recipient]

    @property
    def busy(self) -> bool:
        return self._running.locked()

    async def close(self) -> None:
        await self.leadership.close()
        if self.bot is not self.application.bot:
            await self.bot.shutdown()

    def kick(self) -> None:
        """Run soon instead of at the next tick, e.g. right after a handler queued a notice.

        A burst of kicks before the run starts claiming makes a single run.
        """
        if self._kick_pending:
            return
        self._kick_pending = True
        self.application.create_task(self.run_once(), name="outbox-kick")

    def tick(self) -> None:
        """The periodic job: a run in the background, unless one is on (it claims what is due).

        In the background, so a long fan-out does not hold the job past its next tick.
        """
        if (
            self.busy
            or self._kick_pending
            or (self._ticked is not None and not self._ticked.done())
        ):
            return
        self._ticked = self.application.create_task(self.run_once(), name="outbox-tick")

    async def pause(self) -> None:
        """Stop the periodic runs and wait for one in flight to finish (kicks still run)."""
        if self.job is not None:
            self.job.enabled = False
        if self._ticked is not None and not self._ticked.done():
            await asyncio.wait([self._ticked])
        async with self._running:
            pass

    def resume(self) -> None:
        if self.job is not None:
            self.job.enabled = True

    # -- a batch of rows --------------------------------------------------------------

    async def _prepare_all(
        self, rows: list[Notification], ledger: _Ledger
    ) -> list[tuple[Notification, Outcome | tuple[int, Outgoing]]]:
        """Check and render a claimed batch in one session: its recipients in one query,
        what its messages name in one query per table, each row in a savepoint."""
        now = self.clock.now()
        done: list[tuple[Notification, Outcome | tuple[int, Outgoing]]] = []
        try:
            async with self.db.session() as session:
                people = await outbox.recipients(
                    session, user_ids={row.recipient_id for row in rows}
                )
                held = await _prefetch(session, rows)
                for row in rows:
                    user = people.get(row.recipient_id)
                    done.append(
                        (row, await self._check_and_render(session, row, user, now, ledger))
                    )
                del held  # alive until here: the session holds what it loaded weakly
        except Exception as exc:
            # The session itself failed (most likely the database): the rest backs off.
            log.error("outbox: a batch could not be rendered: %s", describe(exc))
            for row in rows[len(done) :]:
                done.append((row, self._transient(row, exc, ledger)))
        return done

    async def _check_and_render(
        self,
        session: AsyncSession,
        row: Notification,
        user: User | None,
        now: datetime,
        ledger: _Ledger,
    ) -> Outcome | tuple[int, Outgoing]:
        assert row.id is not None
        if row.expires_at is not None and row.expires_at <= now:
            ledger.add(_mark(outbox.mark_expired, row, reason="expired"))
            log.info("outbox %s id=%s expired: past expires_at before sending", row.kind, row.id)
            return Outcome.EXPIRED
        if row.attempts > self.max_attempts:
            # Claimed again and again without an outcome: something kills the sender.
            ledger.add(_mark(outbox.mark_failed, row, error="too many attempts"))
            log.warning("outbox %s id=%s failed: too many attempts", row.kind, row.id)
            return Outcome.FAILED
        if user is None or user.blocked_at is not None:
            ledger.add(self._unreachable(row, error="recipient blocked"))
            log.info("outbox %s id=%s failed: recipient has blocked the bot", row.kind, row.id)
            return Outcome.FAILED
        zone, start, end = self._quiet_window(user)
        if in_quiet_hours(now, zone, start, end):
            allowed = next_allowed(now, zone, start, end)
            if row.expires_at is not None and allowed >= row.expires_at:
                ledger.add(_mark(outbox.mark_expired, row, reason="quiet hours"))
                log.info("outbox %s id=%s expired: quiet hours last past it", row.kind, row.id)
                return Outcome.EXPIRED
            ledger.add(
                _mark(outbox.reschedule, row, due_at=allowed, count_attempt=False, error=None)
            )
            log.debug("outbox %s id=%s deferred to the end of quiet hours", row.kind, row.id)
            return Outcome.DEFERRED
        renderer = _RENDERERS.get(row.kind)
        if renderer is None:
            ledger.add(_mark(outbox.mark_failed, row, error="unknown kind"))
            log.error("outbox %s id=%s failed: no renderer for this kind", row.kind, row.id)
            return Outcome.FAILED
        context = RenderContext(
            session=session, notification=row, recipient=user, settings=self.settings, now=now
        )
        try:
            # The savepoint undoes whatever a failing renderer wrote, and only that:
            # the other rows of the batch share the session.
            async with session.begin_nested():
                outgoing = await renderer(context)
        except RenderLater as later:
            # Claimable again once the reschedule is written, in this very run too.
            self._held.discard(row.id)
            ledger.add(
                _mark(outbox.reschedule, row, due_at=later.due_at, count_attempt=False, error=None)
            )
            log.debug("outbox %s id=%s not yet: again later", row.kind, row.id)
            return Outcome.DEFERRED
        except RenderError as exc:
            ledger.add(_mark(outbox.mark_failed, row, error=f"RenderError: {exc}"[:200]))
            log.error("outbox %s id=%s cannot be rendered: %s", row.kind, row.id, describe(exc))
            return Outcome.FAILED
        except Exception as exc:
            return self._transient(row, exc, ledger)
        if outgoing is None:
            ledger.add(_mark(outbox.mark_cancelled, row, reason="not relevant"))
            log.info("outbox %s id=%s cancelled: no longer relevant", row.kind, row.id)
            return Outcome.CANCELLED
        return user.telegram_id, outgoing

    def _quiet_window(self, user: User) -> tuple[ZoneInfo, time, time]:
        zone = _zone(user.timezone, self.settings.zone)
        start, end = _parse_hhmm(user.quiet_start), _parse_hhmm(user.quiet_end)
        if start is None or end is None:
            return zone, self.settings.quiet_hours_start, self.settings.quiet_hours_end
        return zone, start, end

    def _unreachable(
        self, row: Notification, *, error: str, telegram_id: int | None = None
    ) -> Change:
        """Fail a row whose recipient blocked the bot, and tell their partner (once a day)."""

        async def apply(session: AsyncSession) -> None:
            assert row.id is not None
            if telegram_id is not None:
                await users.mark_blocked(session, telegram_id=telegram_id)
            await outbox.mark_failed(session, notification_id=row.id, error=error)
            await tell_partner_unreachable(session, row=row, now=self.clock.now())

        return apply

    # -- one row ----------------------------------------------------------------------

    async def _send(self, run: _Run, item: _Ready) -> Outcome:
        row, chat_id = item.row, item.chat_id
        assert row.id is not None
        if chat_id in run.blocked:
            run.ledger.add(self._unreachable(row, error="recipient blocked"))
            log.info("outbox %s id=%s failed: recipient has blocked the bot", row.kind, row.id)
            return Outcome.FAILED
        if asyncio.get_running_loop().time() - item.claimed_at > self._longest_queue():
            # Held up so long (flood control, a slow chat) that another process could
            # take the claim for lost: back to pending, claimed afresh.
            run.ledger.add(
                _mark(
                    outbox.reschedule,
                    row,
                    due_at=self.clock.now() + timedelta(seconds=self.pacer.per_chat),
                    count_attempt=False,
                    error=None,
                )
            )
            return Outcome.DEFERRED
        held = self.pacer.hold_remaining()
        if held > LONGEST_WAIT_IN_RUN:
            run.ledger.add(
                _mark(
                    outbox.reschedule,
                    row,
                    due_at=self.clock.now() + timedelta(seconds=held),
                    count_attempt=False,
                    error="flood control",
                )
            )
            return Outcome.DEFERRED
        await self.pacer.wait_for_chat(chat_id)
        async with run.gate:
            try:
                async with self.pacer.slot(chat_id):
                    await self._deliver(chat_id, item.outgoing)
            except RetryAfter as exc:
                seconds = _retry_after_seconds(exc)
                self.pacer.flood(seconds)
                run.ledger.add(
                    _mark(
                        outbox.reschedule,
                        row,
                        due_at=self.clock.now() + timedelta(seconds=seconds),
                        count_attempt=False,
                        error="RetryAfter",
                    )
                )
                log.warning(
                    "outbox %s id=%s hit flood control; again in %.0f s at %.1f/s",
                    row.kind,
                    row.id,
                    seconds,
                    self.pacer.rate,
                )
                return Outcome.RETRIED
            except Forbidden:
                run.blocked.add(chat_id)
                run.ledger.add(self._unreachable(row, error="Forbidden", telegram_id=chat_id))
                log.info("outbox %s id=%s failed: the recipient blocked the bot", row.kind, row.id)
                return Outcome.FAILED
            except BadRequest:
                # Telegram's description may quote the text, so only the class is kept.
                run.ledger.add(_mark(outbox.mark_failed, row, error="BadRequest"))
                log.warning(
                    "outbox %s id=%s failed: Telegram refused it (BadRequest)", row.kind, row.id
                )
                return Outcome.FAILED
            except Exception as exc:
                return self._transient(row, exc, run.ledger)
            self.pacer.succeeded()
            # Still holding its place among the sends in flight: a send is in flight
            # until its outcome is written (see `_Ledger`).
            await run.ledger.sent(row.id)
        return Outcome.SENT

    async def _ready_bot(self) -> ExtBot[Any]:
        if not self._bot_ready:
            async with self._bot_starting:
                if not self._bot_ready:
                    await self.bot.initialize()
                    self._bot_ready = True
        return self.bot

    async def _deliver(self, chat_id: int, outgoing: Outgoing) -> None:
        markup = (
            InlineKeyboardMarkup(
                [
                    [InlineKeyboardButton(text, callback_data=data) for text, data in row]
                    for row in outgoing.buttons
                ]
            )
            if outgoing.buttons
            else None
        )
        bot = await self._ready_bot()
        if outgoing.document is None and outgoing.photo is None:
            # Long texts (a 4,000-character agenda inside a template) go out in pieces;
            # the buttons belong under the last one.
            pieces = split_html(outgoing.text)
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                await bot.send_message(chat_id, piece, reply_markup=markup if last else None)
            return
        # A caption holds 1,024 characters; a longer text follows as its own message.
        fits = utf16_len(outgoing.text) <= CAPTION_LIMIT
        caption = outgoing.text if fits and outgoing.text else None
        if outgoing.photo is not None:
            await bot.send_photo(
                chat_id, outgoing.photo, caption=caption, reply_markup=markup if fits else None
            )
        else:
            assert outgoing.document is not None
            name, content, mime = outgoing.document
            document = InputFile(content, filename=name)
            document.mimetype = mime
            await bot.send_document(
                chat_id, document, caption=caption, reply_markup=markup if fits else None
            )
        if not fits:
            for index, piece in enumerate(pieces := split_html(outgoing.text)):
                last = index == len(pieces) - 1
                await bot.send_message(chat_id, piece, reply_markup=markup if last else None)

    def _transient(self, row: Notification, error: BaseException, ledger: _Ledger) -> Outcome:
        """Network trouble, a 5xx or an unexpected error: back off, give up after the last try."""
        name = type(error).__name__
        if row.attempts >= self.max_attempts:
            ledger.add(_mark(outbox.mark_failed, row, error=f"{name} (gave up)"))
            log.warning(
                "outbox %s id=%s failed after %d attempts: %s",
                row.kind,
                row.id,
                row.attempts,
                describe(error),
            )
            return Outcome.FAILED
        delay = min(BACKOFF_FIRST * 2 ** max(row.attempts - 1, 0), BACKOFF_LONGEST)
        ledger.add(
            _mark(
                outbox.reschedule,
                row,
                due_at=self.clock.now() + delay,
                count_attempt=True,
                error=name,
            )
        )
        log.warning(
            "outbox %s id=%s attempt %d failed (%s); again in %d s",
            row.kind,
            row.id,
            row.attempts,
            describe(error),
            delay.total_seconds(),
        )
        return Outcome.RETRIED


# -- wiring -------------------------------------------------------------------------------


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    job = context.job
    assert job is not None and isinstance(job.data, Dispatcher)
    job.data.tick()


async def forget_handled_updates(db: Database, now: datetime) -> int:
    """Drop update ids claimed more than a day before `now` (hourly)."""
    async with db.session() as session:
        return await handled_updates.forget(session, before=now - HANDLED_UPDATES_KEPT)


async def _forget_tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    from storage.types import utcnow

    # Claims carry the real time (storage.updates), whatever the bot's clock says.
    await forget_handled_updates(services.of(context).db, utcnow())


def install(application: AnyApplication, *, interval: float = 1.0) -> Dispatcher:
    """Run the dispatcher every `interval` seconds on PTB's JobQueue (starts with the app)."""
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError(
            "the outbox needs PTB's JobQueue: install python-telegram-bot[job-queue]"
        )
    settings = services.of_app(application).settings
    dispatcher = Dispatcher(
        application,
        rate=settings.outbox_rate,
        concurrency=settings.outbox_concurrency,
        stale_after=timedelta(seconds=settings.outbox_stale_seconds),
    )
    dispatcher.job = job_queue.run_repeating(
        _tick,
        interval=interval,
        name=JOB_NAME,
        data=dispatcher,
        job_kwargs={
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            # After a stall, one catch-up run is enough: each run looks at every due row.
            "coalesce": True,
            "max_instances": 1,
        },
    )
    # Every worker runs it; the second one in an hour finds nothing to drop.
    job_queue.run_repeating(
        _forget_tick,
        interval=3600,
        first=900,
        name=FORGET_JOB_NAME,
        job_kwargs={"misfire_grace_time": 3600, "coalesce": True, "max_instances": 1},
    )
    application.bot_data[_KEY] = dispatcher
    return dispatcher


def kick(application: AnyApplication) -> None:
    """Send what was just queued without waiting for the next tick."""
    installed(application).kick()


def installed(application: AnyApplication) -> Dispatcher:
    """The dispatcher `install` attached to `application`."""
    found = application.bot_data[_KEY]
    assert isinstance(found, Dispatcher)
    return found
