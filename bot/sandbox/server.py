"""`mentorbot sandbox`: the whole mentorship in a browser, without Telegram or a token.

One process, one port: the Bot API emulator (which the real bot polls as if it
were Telegram), the emulator's control API (which the page uses to act as the
people in the chat) and the page itself under `/`. The bot gets its own SQLite
file and a `TravellingClock`, so experiments never touch a real database.

Time travel exists only here: `mentorbot run` builds the bot with `SystemClock`,
and the routes that move the clock are mounted by this module alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from telegram import Update

from bot import scheduler
from bot.app import AnyApplication, build_application
from bot.clock import TravellingClock
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Language, Settings
from storage import outbox
from storage.db import upgrade

log = logging.getLogger("mentorbot.sandbox")

JSONDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Shaped like a real token (the emulator and PTB check the shape); it opens nothing.
SANDBOX_TOKEN = "123456789:sandbox-not-a-real-token"
DATABASE_FILE = "sandbox.sqlite3"
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
# Enough runs to drain what a week's jump makes due; a bounded number, so a row
# that keeps failing cannot keep the request open.
MAX_RUNS = 10
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
)


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
            }
        )
        application = build_application(bot_settings, token=SANDBOX_TOKEN, clock=self.clock)
        self.application = application
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=0, timeout=10, allowed_updates=Update.ALL_TYPES
        )

    def _fresh_database(self) -> None:
        # A fresh database each start: the emulator keeps chats in memory only, so a
        # kept database would remember conversations no pane can show any more.
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.database_path}{suffix}").unlink(missing_ok=True)
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
        async with self._travelling:
            before = self.clock.now()
            if step == "next":
                report = await self._to_next_notification()
            else:
                self.clock.advance(STEPS[str(step)])
                report = await self._dispatch()
            payload = await self._time_payload()
        payload["travelled_seconds"] = int((self.clock.now() - before).total_seconds())
        payload["sent"] = report.sent
        log.info(
            "time travel (%s): +%d s, %d notification(s) sent",
            step,
            payload["travelled_seconds"],
            report.sent,
        )
        return _json(payload)

    # -- time travel -----------------------------------------------------------------------

    def _dispatcher(self) -> scheduler.Dispatcher:
        if self.application is None:
            raise web.HTTPServiceUnavailable(text="the bot is not running")
        return scheduler.installed(self.application)

    async def _dispatch(self) -> scheduler.DispatchReport:
        """Send what the new time made due right away instead of at the next tick."""
        dispatcher = self._dispatcher()
        total = scheduler.DispatchReport()
        for _ in range(MAX_RUNS):
            report = await dispatcher.run_once()
            total.add(report)
            if report.claimed == 0:
                break
        return total

    async def _next_due(self) -> datetime | None:
        async with self._dispatcher().db.session() as session:
            return await outbox.next_due(session)

    async def _to_next_notification(self) -> scheduler.DispatchReport:
        """Jump to the next pending notification and send it.

        A notification that falls in quiet hours is deferred to the morning rather
        than sent, so the jump goes on until something is delivered or nothing is left.
        """
        total = scheduler.DispatchReport()
        for _ in range(MAX_RUNS):
            due = await self._next_due()
            if due is None:
                break
            wait = due - self.clock.now()
            if wait > timedelta(0):
                self.clock.advance(wait)
            report = await self._dispatch()
            total.add(report)
            if report.sent:
                break
        return total

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
