"""The outbox dispatcher: the only code that turns due outbox rows into Telegram sends.

Everything the bot says on its own initiative is a row in `outbox` (see
`storage.outbox`). A PTB repeating job calls `Dispatcher.run_once`, which claims
due rows, checks they still apply (expiry, blocked recipient, quiet hours),
renders them in the recipient's current language, sends them at a pace
Telegram accepts, and records the outcome right after each send. The database
stays the source of truth, so a restart neither loses nor repeats a message
(a crash mid-send repeats at most that one message).

Feature modules add kinds with `register(kind, renderer)`. A renderer returns
the message, or None when it no longer applies (the row is then cancelled),
or raises `RenderError` when it can never be rendered (the row fails).
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import Application, CallbackContext, ExtBot, Job
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot import services
from bot.domain.goals import excerpt
from bot.domain.quiet_hours import in_quiet_hours, next_allowed
from bot.errors import describe
from bot.i18n import N_, t
from bot.settings import Settings
from bot.textsplit import split_html, utf16_len
from bot.usecases import notify
from bot.usecases.goals import headline
from bot.usecases.pairing import display_name
from storage import mentorships, outbox, users
from storage.db import Database
from storage.models import GoalRevision, Notification, User

log = logging.getLogger("mentorbot.scheduler")

AnyApplication = Application[Any, Any, Any, Any, Any, Any]

# Telegram allows about 30 messages per second per bot and one per second per
# private chat; staying below leaves room for the replies handlers send.
SENDS_PER_SECOND = 25.0
CAPTION_LIMIT = 1000
PER_CHAT_INTERVAL = 1.0
# A network error or 5xx is retried with exponential backoff; the sixth failure is final.
MAX_ATTEMPTS = 6
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_LONGEST = timedelta(minutes=15)
# Longer than any batch takes to send, so a live dispatcher's rows are never taken as stale.
STALE_AFTER = timedelta(minutes=5)
# A flood-control pause longer than this puts the remaining claimed rows back
# to pending instead of keeping them in `sending` while we wait.
LONGEST_WAIT_IN_RUN = 5.0
# APScheduler's default grace of 1 s silently drops a run that starts late on a busy loop.
MISFIRE_GRACE_SECONDS = 30
JOB_NAME = "outbox-dispatcher"
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


class Pacer:
    """Spaces sends out: at most `rate` per second overall and one per chat per `per_chat` s.

    A token bucket holding a single token, on purpose: the burst a bigger bucket
    lets through is exactly what a strict server answers with 429. Flood control
    halves the rate and holds every send for `retry_after`; each success wins a
    little of the rate back. Runs on the event loop's monotonic clock, not the
    bot's Clock: it paces real requests, and time travel in the sandbox must not
    let a burst through.
    """

    def __init__(self, rate: float = SENDS_PER_SECOND, per_chat: float = PER_CHAT_INTERVAL) -> None:
        self.max_rate = rate
        self.rate = rate
        self.per_chat = per_chat
        self._next_slot = 0.0
        self._held_until = 0.0
        self._chat_ready: dict[int, float] = {}

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def hold_remaining(self) -> float:
        return max(0.0, self._held_until - self._now())

    def flood(self, retry_after: float) -> None:
        self._held_until = max(self._held_until, self._now() + retry_after)
        self.rate = max(1.0, self.rate / 2)

    def succeeded(self) -> None:
        self.rate = min(self.max_rate, self.rate + self.max_rate / 50)

    @asynccontextmanager
    async def slot(self, chat_id: int) -> AsyncIterator[None]:
        await self._acquire(chat_id)
        try:
            yield
        finally:
            # Counted from the end of the request, so network jitter cannot put two
            # messages to one chat within the same second at Telegram's end.
            self._chat_ready[chat_id] = self._now() + self.per_chat

    async def _acquire(self, chat_id: int) -> None:
        late_wakeups = 0
        while True:
            now = self._now()
            ready = max(self._chat_ready.get(chat_id, 0.0), self._held_until)
            if ready > now:
                await asyncio.sleep(ready - now)
                continue
            # The global slot is reserved only once the chat may receive, so one busy
            # chat never holds the slots of everybody else.
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self.rate
            if slot > now:
                await asyncio.sleep(slot - now)
                # After a stalled loop every reserved sleeper wakes at once; sending
                # then would be a burst, so they queue up again (a bounded number of times).
                if self._now() - slot > 2.0 / self.rate and late_wakeups < 3:
                    late_wakeups += 1
                    continue
            if self._held_until <= self._now():
                break
        if len(self._chat_ready) > 10_000:
            current = self._now()
            self._chat_ready = {c: r for c, r in self._chat_ready.items() if r > current}


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


class Dispatcher:
    """Sends due outbox rows; safe to run in several processes against one database."""

    def __init__(
        self,
        application: AnyApplication,
        *,
        database: Database | None = None,
        batch_size: int = 100,
        run_budget: float = 0.8,
        stale_after: timedelta = STALE_AFTER,
        rate: float = SENDS_PER_SECOND,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        concurrency: int = 8,
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
            self.bot = ExtBot(
                token=application.bot.token,
                base_url=self.settings.telegram_api_url,
                base_file_url=self.settings.telegram_file_url,
                defaults=application.bot.defaults,
                request=HTTPXRequest(connection_pool_size=concurrency + 2),
            )
        self._bot_ready = self.bot is application.bot
        self._kick_pending = False

    async def run_once(self) -> DispatchReport:
        """Claim one batch of due rows and deal with each; runs never overlap."""
        report = DispatchReport()
        async with self._running:
            # Whatever was queued before this claim is covered by it.
            self._kick_pending = False
            # No more than one run's worth of sending, so a run usually ends
            # before the next tick and the rows never sit long in `sending`.
            limit = max(1, min(self.batch_size, int(self.pacer.rate * self.run_budget)))
            async with self.db.session() as session:
                claimed = await outbox.claim_due(
                    session, now=self.clock.now(), limit=limit, stale_after=self.stale_after
                )
            report.claimed = len(claimed)
            by_recipient: dict[int, list[Notification]] = {}
            for row in claimed:
                by_recipient.setdefault(row.recipient_id, []).append(row)
            gate = asyncio.Semaphore(self.concurrency)

            async def deliver_all(rows: list[Notification]) -> None:
                # One recipient's rows in due order, one after the other.
                async with gate:
                    for row in rows:
                        report.count(await self._process(row))

            await asyncio.gather(*(deliver_all(rows) for rows in by_recipient.values()))
        return report

    @property
    def busy(self) -> bool:
        return self._running.locked()

    async def close(self) -> None:
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

    async def pause(self) -> None:
        """Stop the periodic runs and wait for one in flight to finish (kicks still run)."""
        if self.job is not None:
            self.job.enabled = False
        async with self._running:
            pass

    def resume(self) -> None:
        if self.job is not None:
            self.job.enabled = True

    # -- one row ----------------------------------------------------------------------

    async def _process(self, row: Notification) -> Outcome:
        try:
            prepared = await self._prepare(row)
            if isinstance(prepared, Outcome):
                return prepared
            chat_id, outgoing = prepared
            return await self._send(row, chat_id, outgoing)
        except Exception as exc:
            # Most likely the database; the row stays in `sending` and the
            # stale-claim recovery sends it later.
            log.error("outbox %s id=%s left for recovery: %s", row.kind, row.id, describe(exc))
            return Outcome.RETRIED

    async def _prepare(self, row: Notification) -> Outcome | tuple[int, Outgoing]:
        assert row.id is not None
        now = self.clock.now()
        try:
            async with self.db.session() as session:
                return await self._check_and_render(session, row, now)
        except RenderError as exc:
            await self._record(outbox.mark_failed, row, error=f"RenderError: {exc}"[:200])
            log.error("outbox %s id=%s cannot be rendered: %s", row.kind, row.id, describe(exc))
            return Outcome.FAILED
        except Exception as exc:
            return await self._transient(row, exc)

    async def _check_and_render(
        self, session: AsyncSession, row: Notification, now: datetime
    ) -> Outcome | tuple[int, Outgoing]:
        assert row.id is not None
        if row.expires_at is not None and row.expires_at <= now:
            await outbox.mark_expired(session, notification_id=row.id, reason="expired")
            log.info("outbox %s id=%s expired: past expires_at before sending", row.kind, row.id)
            return Outcome.EXPIRED
        if row.attempts > self.max_attempts:
            # Claimed again and again without an outcome: something kills the sender.
            await outbox.mark_failed(session, notification_id=row.id, error="too many attempts")
            log.warning("outbox %s id=%s failed: too many attempts", row.kind, row.id)
            return Outcome.FAILED
        user = await users.get(session, user_id=row.recipient_id)
        if user is None or user.blocked_at is not None:
            await outbox.mark_failed(session, notification_id=row.id, error="recipient blocked")
            await tell_partner_unreachable(session, row=row, now=now)
            log.info("outbox %s id=%s failed: recipient has blocked the bot", row.kind, row.id)
            return Outcome.FAILED
        zone, start, end = self._quiet_window(user)
        if in_quiet_hours(now, zone, start, end):
            allowed = next_allowed(now, zone, start, end)
            if row.expires_at is not None and allowed >= row.expires_at:
                await outbox.mark_expired(session, notification_id=row.id, reason="quiet hours")
                log.info("outbox %s id=%s expired: quiet hours last past it", row.kind, row.id)
                return Outcome.EXPIRED
            await outbox.reschedule(
                session, notification_id=row.id, due_at=allowed, count_attempt=False, error=None
            )
            log.debug("outbox %s id=%s deferred to the end of quiet hours", row.kind, row.id)
            return Outcome.DEFERRED
        renderer = _RENDERERS.get(row.kind)
        if renderer is None:
            await outbox.mark_failed(session, notification_id=row.id, error="unknown kind")
            log.error("outbox %s id=%s failed: no renderer for this kind", row.kind, row.id)
            return Outcome.FAILED
        context = RenderContext(
            session=session, notification=row, recipient=user, settings=self.settings, now=now
        )
        # A RenderError leaves through the session, which rolls back whatever the
        # renderer wrote; `_prepare` records the failure in a fresh transaction.
        outgoing = await renderer(context)
        if outgoing is None:
            await outbox.mark_cancelled(session, notification_id=row.id, reason="not relevant")
            log.info("outbox %s id=%s cancelled: no longer relevant", row.kind, row.id)
            return Outcome.CANCELLED
        return user.telegram_id, outgoing

    def _quiet_window(self, user: User) -> tuple[ZoneInfo, time, time]:
        zone = _zone(user.timezone, self.settings.zone)
        start, end = _parse_hhmm(user.quiet_start), _parse_hhmm(user.quiet_end)
        if start is None or end is None:
            return zone, self.settings.quiet_hours_start, self.settings.quiet_hours_end
        return zone, start, end

    async def _send(self, row: Notification, chat_id: int, outgoing: Outgoing) -> Outcome:
        assert row.id is not None
        held = self.pacer.hold_remaining()
        if held > LONGEST_WAIT_IN_RUN:
            await self._record(
                outbox.reschedule,
                row,
                due_at=self.clock.now() + timedelta(seconds=held),
                count_attempt=False,
                error="flood control",
            )
            return Outcome.DEFERRED
        try:
            async with self.pacer.slot(chat_id):
                await self._deliver(chat_id, outgoing)
        except RetryAfter as exc:
            seconds = _retry_after_seconds(exc)
            self.pacer.flood(seconds)
            await self._record(
                outbox.reschedule,
                row,
                due_at=self.clock.now() + timedelta(seconds=seconds),
                count_attempt=False,
                error="RetryAfter",
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
            async with self.db.session() as session:
                await users.mark_blocked(session, telegram_id=chat_id)
                await outbox.mark_failed(session, notification_id=row.id, error="Forbidden")
                await tell_partner_unreachable(session, row=row, now=self.clock.now())
            log.info("outbox %s id=%s failed: the recipient blocked the bot", row.kind, row.id)
            return Outcome.FAILED
        except BadRequest:
            # Telegram's description may quote the text, so only the class is kept.
            await self._record(outbox.mark_failed, row, error="BadRequest")
            log.warning(
                "outbox %s id=%s failed: Telegram refused it (BadRequest)", row.kind, row.id
            )
            return Outcome.FAILED
        except Exception as exc:
            return await self._transient(row, exc)
        self.pacer.succeeded()
        try:
            async with self.db.session() as session:
                await outbox.mark_sent(session, notification_id=row.id, now=self.clock.now())
        except Exception as exc:
            # Delivered but not recorded: the stale-claim recovery will send it once more.
            log.error("outbox %s id=%s sent but not recorded: %s", row.kind, row.id, describe(exc))
        return Outcome.SENT

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
        bot = self.bot
        if not self._bot_ready:
            await bot.initialize()
            self._bot_ready = True
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

    async def _transient(self, row: Notification, error: BaseException) -> Outcome:
        """Network trouble, a 5xx or an unexpected error: back off, give up after the last try."""
        name = type(error).__name__
        if row.attempts >= self.max_attempts:
            await self._record(outbox.mark_failed, row, error=f"{name} (gave up)")
            log.warning(
                "outbox %s id=%s failed after %d attempts: %s",
                row.kind,
                row.id,
                row.attempts,
                describe(error),
            )
            return Outcome.FAILED
        delay = min(BACKOFF_FIRST * 2 ** max(row.attempts - 1, 0), BACKOFF_LONGEST)
        await self._record(
            outbox.reschedule,
            row,
            due_at=self.clock.now() + delay,
            count_attempt=True,
            error=name,
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

    async def _record(
        self, change: Callable[..., Awaitable[None]], row: Notification, **values: Any
    ) -> None:
        async with self.db.session() as session:
            await change(session, notification_id=row.id, **values)


# -- wiring -------------------------------------------------------------------------------


async def _tick(context: CallbackContext[Any, Any, Any, Any]) -> None:
    job = context.job
    assert job is not None and isinstance(job.data, Dispatcher)
    if job.data.busy:
        # A kicked run is sending; it claims what is due, so this tick has nothing to add.
        return
    await job.data.run_once()


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
        run_budget=interval * 0.8,
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
