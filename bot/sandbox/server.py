"""`mentorbot sandbox`: the whole mentorship in a browser, without Telegram or a token.

One process, one port: the Bot API emulator (which the real bot polls as if it
were Telegram), the emulator's control API (which the page uses to act as the
people in the chat) and the page itself under `/`. The bot gets its own SQLite
file and a `TravellingClock`, so experiments never touch a real database.

Time travel exists only here: `mentorbot run` builds the bot with `SystemClock`,
and the routes that move the clock are mounted by this module alone. A jump steps
through every moment on the way at which the bot would have done something (a row
falling due, an hourly planner pass) and acts there, in order, as the running bot
would have: see `SandboxServer._journey`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
import signal
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import func, or_
from sqlalchemy.pool import StaticPool
from sqlmodel import col, select
from telegram import Update

from bot import planning, scheduler, services
from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.sandbox import seed
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Language, Settings
from storage import outbox
from storage.db import Database, upgrade
from storage.models import Notification, OutboxState, User

log = logging.getLogger("mentorbot.sandbox")

JSONDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Shaped like a real token (the emulator and PTB check the shape); it opens nothing.
SANDBOX_TOKEN = "123456789:sandbox-not-a-real-token"
DATABASE_FILE = "sandbox.sqlite3"
# A scratch copy on which a planner pass is tried before the real one (see `Rehearsal`).
REHEARSAL_FILE = "sandbox-rehearsal.sqlite3"
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")
STATIC_DIR = Path(__file__).with_name("static")
STATIC_TYPES = {"app.js": "text/javascript", "style.css": "text/css"}
# The page builds every node itself, so nothing inline and nothing from elsewhere is needed.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(weeks=1)}
# The sandbox day starts mid-morning: quiet hours (21-08 by default) would hold
# back every reminder a newcomer travels to if the clock started at night.
MORNING = time(10, 0)
# Enough dispatcher runs to drain what falls due at one moment; a bounded number,
# so a row that keeps failing cannot keep the request open.
MAX_RUNS = 10
# The bot runs its planners hourly (see `bot.app`); a jump considers a pass of them
# at every such hour on the way.
PLANNING_INTERVAL = timedelta(hours=1)
# How far "next notification" looks ahead: every active mentorship has a check-in
# due within any two months, so only a pair with nothing left at all meets the end.
NEXT_HORIZON = timedelta(days=62)
# Moments a single jump may stop at: every hour of the horizon plus the rows due on
# the way, with room to spare; only a runaway loop would reach it.
MAX_STOPS = 5000
# What the page calls each kind of scheduled message.
KIND_LABELS = {
    "message": "message",
    "meeting_request": "meeting request",
    "meeting_invite": "meeting invitation",
    "meeting_cancelled": "meeting cancelled",
    "meeting_reminder": "meeting reminder",
    "agenda_prompt": "agenda prompt",
    "agenda_to_mentor": "agenda for the mentor",
    "mentor_prep": "mentor's preparation",
    "meeting_evaluation": "meeting evaluation",
    "book_nudge": "nudge to book a meeting",
    "checkin_prompt": "monthly check-in",
    "checkin_reminder": "check-in reminder",
    "checkin_shared": "shared check-in",
    "closing_prompt": "closing prompt",
    "closing_feedback_shared": "shared closing feedback",
    "lookback_text": "look-back",
    "lookback_chart": "look-back chart",
    "lookback_document": "look-back document",
    "intro_decision_reminder": "intro decision reminder",
    "contract_review": "contract to review",
    "goal_review": "goal to review",
    "goal_deadline": "goal deadline",
    "goals_later_reminder": "reminder to set the goals agreed for later",
    "diary_shared": "shared diary entry",
    "retention_reminder": "reminder before old texts are erased",
    "announcement": "announcement from the coordinator",
    "announcement_report": "count of a delivered announcement",
}
# Why a row ended without being sent, from the state and `last_error` the dispatcher
# and the cancelling use cases leave (see `bot.scheduler`, `storage.outbox`).
REASONS = {
    (OutboxState.EXPIRED, "expired"): "its time had passed before it could be sent",
    (OutboxState.EXPIRED, "quiet hours"): "quiet hours lasted past the time it applied",
    (OutboxState.CANCELLED, "not relevant"): "it no longer applied when it fell due",
    (OutboxState.CANCELLED, None): "what it was about changed or ended",
    (OutboxState.FAILED, "recipient blocked"): "the recipient has blocked the bot",
    (OutboxState.FAILED, "Forbidden"): "the recipient has blocked the bot",
}
SETTLED = (
    OutboxState.SENT,
    OutboxState.EXPIRED,
    OutboxState.CANCELLED,
    OutboxState.FAILED,
)
MAX_NAME = 64
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class SandboxPerson:
    """Someone whose chat with the bot has a pane. The role is only a label on the pane:
    the bot learns roles from /new, like everybody else's."""

    user_id: int
    first_name: str
    language_code: Language
    role: str | None = None

    @property
    def label(self) -> str:
        return f"{self.first_name} ({self.role})" if self.role else self.first_name

    def to_dict(self) -> JSONDict:
        return {
            "user_id": self.user_id,
            "first_name": self.first_name,
            "language_code": self.language_code,
            "role": self.role,
            "label": self.label,
        }


DEFAULT_PEOPLE = (
    SandboxPerson(1001, "Astrid", "sv", "adept"),
    SandboxPerson(1002, "Mikael", "sv", "mentor"),
    # The programme's coordinator: in the sandbox's ADMIN_IDS (see `SandboxServer._start`).
    SandboxPerson(1003, "Karin", "sv", "coordinator"),
)
CAST = seed.Cast(adept=1001, mentor=1002, coordinator=1003)


@dataclass(frozen=True, slots=True)
class Watch:
    """The outbox as a jump starts: whatever settles from here on happened on the jump."""

    open_ids: frozenset[int]  # rows still pending or being sent
    last_id: int  # rows above it are queued during the jump


@dataclass(slots=True)
class Journey:
    """Where a jump stopped on its way."""

    stops: int = 0


def _unlink_sqlite(path: Path) -> None:
    for suffix in SQLITE_SUFFIXES:
        Path(f"{path}{suffix}").unlink(missing_ok=True)


class Rehearsal:
    """Tries a planner pass on a scratch copy of the sandbox's database.

    Whether the planners would do anything at a moment is known only by running
    them, and a real pass writes what it plans with that moment's time on it. A pass
    on a copy says it without leaving a trace, so a jump can look a week ahead in one
    pass instead of one per hour, and find the first hour that plans something by
    halving (`bot.planning`: a pass that plans nothing at a moment plans nothing
    before it either).
    """

    def __init__(self, source: Path, scratch: Path, settings: Settings) -> None:
        self.source = source
        self.scratch = scratch
        self.settings = settings

    def _copy(self) -> None:
        # SQLite's online backup: a consistent snapshot, the WAL included, while the
        # bot goes on using the original.
        _unlink_sqlite(self.scratch)
        with (
            contextlib.closing(sqlite3.connect(self.source)) as source,
            contextlib.closing(sqlite3.connect(self.scratch)) as copy,
        ):
            source.backup(copy)

    async def plans_anything(self, moment: datetime) -> bool:
        """Whether a planner pass as of `moment` would write anything now."""
        await asyncio.to_thread(self._copy)
        # One connection for every session of the pass: SQLite's total_changes() then
        # counts every row the planners inserted, updated or deleted, and nothing that
        # only looked (a message queued before is not queued again, and counts 0).
        scratch = Database(f"sqlite:///{self.scratch.resolve()}", poolclass=StaticPool)
        try:
            await planning.run_all(scratch, self.settings, moment)
            async with scratch.session() as session:
                changes = (await session.exec(select(func.total_changes()))).one()
        finally:
            await scratch.dispose()
        return int(changes) > 0

    async def first_pass(self, after: datetime, until: datetime) -> datetime | None:
        """The first hourly pass after `after`, up to `until`, that would plan something."""
        passes = int((until - after) / PLANNING_INTERVAL)
        if passes < 1 or not await self.plans_anything(after + passes * PLANNING_INTERVAL):
            return None
        quiet, planning_pass = 0, passes  # pass `quiet` plans nothing, `planning_pass` does
        while planning_pass - quiet > 1:
            middle = (quiet + planning_pass) // 2
            if await self.plans_anything(after + middle * PLANNING_INTERVAL):
                planning_pass = middle
            else:
                quiet = middle
        return after + planning_pass * PLANNING_INTERVAL

    def remove(self) -> None:
        _unlink_sqlite(self.scratch)


def reason(state: str, last_error: str | None) -> str:
    """Why a row was not sent, in the page's words."""
    found = REASONS.get((OutboxState(state), last_error))
    if found is not None:
        return found
    return f"{state}: {last_error}" if last_error else state


def next_morning(now: datetime, zone: ZoneInfo) -> datetime:
    """The first `MORNING` in `zone` after `now`."""
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), MORNING, tzinfo=zone)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), MORNING, tzinfo=zone)
    return candidate


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def _bad_request(problem: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=json.dumps({"error": problem}), content_type="application/json")


class SandboxServer:
    """The emulator, the real bot and the page, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "127.0.0.1",
        port: int = 8080,
        start: datetime | None = None,
    ) -> None:
        self.settings = settings
        self.host = host
        self.database_path = settings.data_dir / DATABASE_FILE
        self.database_url = f"sqlite:///{self.database_path.resolve()}"
        self.rehearsal = Rehearsal(self.database_path, settings.data_dir / REHEARSAL_FILE, settings)
        self.clock = TravellingClock(start or next_morning(datetime.now(UTC), settings.zone))
        self.emulator = BotAPIEmulator(host, port)
        self.emulator.add_routes(self._mount)
        self.people: list[SandboxPerson] = list(DEFAULT_PEOPLE)
        # Tells an open page that the sandbox restarted (and its chats are gone).
        self.instance = secrets.token_hex(8)
        self.application: AnyApplication | None = None
        # What people typed, per chat: the emulator's message list holds the bot's side only.
        self._typed: dict[int, dict[int, JSONDict]] = {}
        self._transcript: asyncio.Task[None] | None = None
        self._travelling = asyncio.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.emulator.port

    @property
    def _reachable_host(self) -> str:
        # A wildcard bind is reachable on loopback too, and that is the address to use.
        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
        return f"[{host}]" if ":" in host else host

    @property
    def url(self) -> str:
        return f"http://{self._reachable_host}:{self.port}/"

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        await asyncio.to_thread(self._fresh_database)

        events = self.emulator.subscribe()
        self._transcript = asyncio.create_task(self._record_typed(events), name="sandbox-log")
        await self.emulator.start()
        for person in self.people:
            self.emulator.add_user(
                person.user_id, person.first_name, language_code=person.language_code
            )

        bot_settings = self.settings.model_copy(
            update={
                "database_url": self.database_url,
                "telegram_api_url": f"{self.url}bot",
                "admin_ids": sorted({*self.settings.admin_ids, CAST.coordinator}),
            }
        )
        application = build_application(bot_settings, token=SANDBOX_TOKEN, clock=self.clock)
        self.application = application
        await application.initialize()
        await seed.seed(
            services.of_app(application).db,
            cast=CAST,
            names={person.user_id: person.first_name for person in DEFAULT_PEOPLE},
            now=self.clock.now(),
        )
        if application.post_init:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES
        )
        await seed.greet(application.bot, cast=CAST)

    def _fresh_database(self) -> None:
        # A fresh database each start: the emulator keeps chats in memory only, so a
        # kept database would remember conversations no pane can show any more.
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        _unlink_sqlite(self.database_path)
        self.rehearsal.remove()
        upgrade(self.database_url)

    async def stop(self) -> None:
        """Stop the bot first (it polls the emulator), then the server; safe to call twice."""
        application, self.application = self.application, None
        try:
            if application is not None:
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                await application.shutdown()
                if application.post_shutdown:
                    await application.post_shutdown(application)
        finally:
            if self._transcript is not None:
                self._transcript.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._transcript
                self._transcript = None
            await self.emulator.stop()
            self.rehearsal.remove()

    async def _record_typed(self, events: asyncio.Queue[JSONDict | None]) -> None:
        try:
            while (event := await events.get()) is not None:
                # An edit replaces the text shown for that message (the bot ignores it).
                if event["event"] not in ("user_message", "user_edit"):
                    continue
                message = event["data"]["message"]
                self._typed.setdefault(int(event["data"]["chat_id"]), {})[
                    int(message["message_id"])
                ] = {
                    "from": "user",
                    "message_id": message["message_id"],
                    "date": message.get("date"),
                    "text": message.get("text", ""),
                }
        finally:
            self.emulator.unsubscribe(events)

    # -- routes ----------------------------------------------------------------------------

    def _mount(self, app: web.Application) -> None:
        app.middlewares.append(self._guard)
        router = app.router
        router.add_get("/", self._page)
        router.add_get("/static/{name}", self._static)
        router.add_get("/sandbox/info", self._info)
        router.add_get("/sandbox/people", self._list_people)
        router.add_post("/sandbox/people", self._add_person)
        router.add_get("/sandbox/chats/{chat_id}/history", self._history)
        router.add_get("/sandbox/time", self._time)
        router.add_post("/sandbox/time", self._travel)

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The control API can act as anybody, so only this page may use it; the emulated
        Bot API (`/bot<token>/...`) reads every chat and sends as the bot, so it gets the
        same checks.

        A Host check stops DNS rebinding while bound to loopback; an Origin check stops
        other sites from posting. The bot's own calls pass both: it talks to the loopback
        address and, not being a browser, sends no Origin.
        """
        if _is_loopback(self.host):
            name = (request.url.host or "").strip("[]")
            if name not in LOOPBACK_NAMES:
                raise web.HTTPForbidden(text="the sandbox answers on its loopback address only")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            origin = request.headers.get("Origin")
            if origin is not None and origin != f"{request.scheme}://{request.host}":
                raise web.HTTPForbidden(text="requests from other sites are refused")
        # The emulated Bot API takes its parameters from the query string too, so even a
        # GET (an <img> on another site, which sends no Origin) could send as the bot.
        fetched_from = request.headers.get("Sec-Fetch-Site")
        if request.path.startswith("/bot") and fetched_from not in (None, "same-origin", "none"):
            raise web.HTTPForbidden(text="requests from other sites are refused")
        return await handler(request)

    async def _page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=(STATIC_DIR / "index.html").read_bytes(),
            content_type="text/html",
            charset="utf-8",
            headers={
                "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_TYPES:
            raise web.HTTPNotFound()
        return web.Response(
            body=(STATIC_DIR / name).read_bytes(),
            content_type=STATIC_TYPES[name],
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"},
        )

    async def _info(self, request: web.Request) -> web.Response:
        return _json(
            {
                "instance": self.instance,
                "bot_username": self.emulator.bot_username,
                "bot_name": self.emulator.bot_first_name,
                "zone": self.settings.timezone,
                "people": [person.to_dict() for person in self.people],
            }
        )

    async def _list_people(self, request: web.Request) -> web.Response:
        return _json([person.to_dict() for person in self.people])

    async def _add_person(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        name = " ".join(str(body.get("first_name", "")).split())
        language = body.get("language_code", "sv")
        if not 0 < len(name) <= MAX_NAME:
            raise _bad_request(f"a name needs 1 to {MAX_NAME} characters")
        if language not in ("sv", "en"):
            raise _bad_request("language_code must be sv or en")
        person = SandboxPerson(max(p.user_id for p in self.people) + 1, name, language)
        self.people.append(person)
        self.emulator.add_user(person.user_id, person.first_name, language_code=language)
        return _json(person.to_dict())

    async def _history(self, request: web.Request) -> web.Response:
        try:
            chat_id = int(request.match_info["chat_id"])
        except ValueError:
            raise _bad_request("chat_id must be a number") from None
        items = [
            {"from": "bot", **message.to_dict()}
            for message in self.emulator.chat_messages(chat_id)
            if not message.deleted
        ]
        items.extend(self._typed.get(chat_id, {}).values())
        items.sort(key=lambda item: int(item["message_id"]))
        return _json(items)

    async def _time(self, request: web.Request) -> web.Response:
        return _json(await self._time_payload())

    async def _travel(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        step = body.get("step")
        if step != "next" and step not in STEPS:
            raise _bad_request("step must be hour, day, week or next")
        dispatcher = self._dispatcher()
        async with self._travelling:
            before = self.clock.now()
            # The periodic tick would send on its own between our stops; paused, every
            # send of the jump happens at the stop it belongs to. Watched once a run in
            # flight has finished, so what it sent is not counted as the jump's.
            await dispatcher.pause()
            try:
                watch = await self._watch()
                if step == "next":
                    journey = await self._journey(before + NEXT_HORIZON, until_delivered=True)
                else:
                    target = before + STEPS[str(step)]
                    journey = await self._journey(target, until_delivered=False)
            finally:
                dispatcher.resume()
            outcomes = await self._settled(watch)
            payload = await self._time_payload()
        delivered = [o for o in outcomes if o["state"] == OutboxState.SENT]
        missed = [o for o in outcomes if o["state"] != OutboxState.SENT]
        payload["travelled_seconds"] = int((self.clock.now() - before).total_seconds())
        payload["sent"] = len(delivered)
        payload["delivered"] = delivered
        payload["not_delivered"] = missed
        if step == "next":
            payload["horizon_days"] = NEXT_HORIZON.days
        log.info(
            "time travel (%s): +%d s, %d stop(s), %d notification(s) sent, %d not sent",
            step,
            payload["travelled_seconds"],
            journey.stops,
            len(delivered),
            len(missed),
        )
        return _json(payload)

    # -- time travel -----------------------------------------------------------------------

    def _dispatcher(self) -> scheduler.Dispatcher:
        if self.application is None:
            raise web.HTTPServiceUnavailable(text="the bot is not running")
        return scheduler.installed(self.application)

    async def _plan(self, now: datetime) -> int:
        """One pass of the bot's hourly planners, as of `now`."""
        dispatcher = self._dispatcher()
        return await planning.run_all(dispatcher.db, dispatcher.settings, now)

    async def _next_due(self) -> datetime | None:
        async with self._dispatcher().db.session() as session:
            return await outbox.next_due(session)

    async def _journey(self, target: datetime, *, until_delivered: bool) -> Journey:
        """Step through the moments up to `target` at which the bot would act, in order.

        Such a moment is when the earliest pending row falls due, or an hourly pass
        of the planners before it that plans something (tried on a copy first, see
        `Rehearsal`). At each one the clock is set there, and the planners and the
        dispatcher run until nothing more is due then: a reminder goes out at its
        own time instead of expiring on arrival, and a check-in the planners open
        goes out within the hour, as in the running bot. "Next" (`until_delivered`)
        ends at the first delivery, or goes nowhere when there is none before
        `target`; any other jump ends at `target`.
        """
        journey = Journey()
        moment = self.clock.now()
        while journey.stops < MAX_STOPS:
            due = await self._next_due()
            until = target if due is None else min(due, target)
            planned = await self.rehearsal.first_pass(moment, until)
            if planned is not None:
                moment = planned
            elif due is not None and due <= target:
                moment = max(due, moment)
            else:
                break
            sent = await self._stop_at(moment, journey)
            if until_delivered and sent:
                return journey
        if not until_delivered:
            await self._stop_at(target, journey)
        return journey

    async def _stop_at(self, moment: datetime, journey: Journey) -> int:
        """Set the clock to `moment` and do what the bot does there; how many were sent."""
        wait = moment - self.clock.now()
        if wait > timedelta(0):
            self.clock.advance(wait)
        journey.stops += 1
        dispatcher = self._dispatcher()
        sent = 0
        for _ in range(MAX_RUNS):
            await self._plan(self.clock.now())
            # Sending may queue more for now (a partner's notice), hence the loop.
            report = await dispatcher.run_once()
            sent += report.sent
            if report.claimed == 0:
                break
        return sent

    async def _watch(self) -> Watch:
        # Read-only queries for the page's report; nothing here is part of the bot.
        async with self._dispatcher().db.session() as session:
            open_ids = await session.exec(
                select(Notification.id).where(
                    col(Notification.state).in_((OutboxState.PENDING, OutboxState.SENDING))
                )
            )
            last_id = (await session.exec(select(func.max(Notification.id)))).one()
        return Watch(frozenset(i for i in open_ids if i is not None), last_id or 0)

    async def _settled(self, watch: Watch) -> list[JSONDict]:
        """What settled since `watch`, in the order it happened: sent, or why not.

        Kinds, times, states and reasons only: what a message said is gone from a
        settled row (see `storage.outbox`), and the page has every chat anyway.
        """
        zone = self.settings.zone
        async with self._dispatcher().db.session() as session:
            rows = await session.exec(
                select(Notification, User.telegram_id)
                .join(User, col(User.id) == col(Notification.recipient_id))
                .where(
                    or_(
                        col(Notification.id).in_(watch.open_ids),
                        col(Notification.id) > watch.last_id,
                    ),
                    col(Notification.state).in_(SETTLED),
                )
            )
            found = list(rows)
        outcomes: list[tuple[datetime, int, JSONDict]] = []
        for row, chat_id in found:
            sent = row.state == OutboxState.SENT
            at = row.sent_at if sent and row.sent_at is not None else row.due_at
            outcome: JSONDict = {
                "at": at.astimezone(zone).isoformat(),
                "kind": row.kind,
                "what": KIND_LABELS.get(row.kind, row.kind.replace("_", " ")),
                "chat_id": chat_id,
                "state": str(row.state),
            }
            if not sent:
                outcome["reason"] = reason(row.state, row.last_error)
            outcomes.append((at, row.id or 0, outcome))
        outcomes.sort(key=lambda item: (item[0], item[1]))
        return [outcome for _, _, outcome in outcomes]

    async def _time_payload(self) -> JSONDict:
        zone = self.settings.zone
        due = await self._next_due()
        return {
            "now": self.clock.now().astimezone(zone).isoformat(),
            "zone": self.settings.timezone,
            "next_due": due.astimezone(zone).isoformat() if due is not None else None,
        }

    @staticmethod
    async def _body(request: web.Request) -> JSONDict:
        # JSON only: a cross-site form cannot send it without a CORS preflight we never answer.
        if request.content_type != "application/json":
            raise _bad_request("expected application/json")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _bad_request("expected a JSON object")
        return body


async def _serve(settings: Settings, host: str, port: int) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    server = SandboxServer(settings, host=host, port=port)
    await server.start()
    try:
        print(
            f"mentorbot sandbox: open {server.url} in a browser (Ctrl-C stops it)\n"
            f"  bot time starts at {server.clock.now().astimezone(settings.zone):%Y-%m-%d %H:%M} "
            f"{settings.timezone}; database {server.database_path}",
            flush=True,
        )
        if not _is_loopback(host):
            print(
                "  warning: anyone who can reach this address can act as anybody in the sandbox",
                flush=True,
            )
        await stopping.wait()
    finally:
        await server.stop()
    print("mentorbot sandbox: stopped", flush=True)


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Run the sandbox until SIGINT or SIGTERM."""
    asyncio.run(_serve(settings, host, port))
