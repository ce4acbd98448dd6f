"""An in-process emulator of the Telegram Bot API served over real HTTP on localhost.

The bot under test talks to it exactly as it talks to Telegram (PTB is only given another
``base_url``), so everything between the handlers and the wire - parameter encoding, error
mapping, retries, long polling - is exercised.  Tests and the sandbox page act as users through
the Python API or the JSON interface under ``/control/``.

The emulator is deliberately as strict as Telegram where bots typically get things wrong: the
HTML parser follows tdlib's ``parse_html`` (same messages and byte offsets), limits are the
documented ones and edits/deletes/callback answers fail the way the real API fails.  It is
stricter than Telegram in one place: a bare ``&`` is rejected (Telegram keeps it literally)
because it almost always means user text was not escaped.  Only HTML is modelled; text sent with
Markdown parse modes is stored verbatim without entities.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web

JSONDict = dict[str, Any]

TOKEN_RE = re.compile(r"(\d+):[A-Za-z0-9_-]+")
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
RATE_LIMITED = frozenset(
    {
        "sendmessage",
        "senddocument",
        "sendphoto",
        "editmessagetext",
        "editmessagereplymarkup",
        "editmessagecaption",
    }
)
CHAT_BOUND = RATE_LIMITED | {"sendchataction"}
# Form values arrive as raw strings; these must stay strings even when they look like JSON
# numbers (a callback_query_id or a text of "42" would otherwise turn into ints).
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "callback_query_id",
        "parse_mode",
        "url",
        "secret_token",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "query",
        "action",
        "inline_message_id",
        "ip_address",
        "emoji",
        "document",
        "photo",
        "file_id",
        "business_connection_id",
        "message_effect_id",
        "sticker",
        "custom_title",
    }
)
INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """An answer with ``ok: false``; raised anywhere inside a method handler."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class EntityParseError(ValueError):
    """tdlib's wording, without the Bot API's "Bad Request: can't parse entities: " prefix."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ---------------------------------------------------------------------------------------------
# HTML parse mode, ported from the structure of tdlib's parse_html so that accepted input,
# error messages and byte offsets match what Telegram answers.

_SPACES = frozenset(" \t\r\n\v\0")
_MARKUP = re.compile("[&<]")
_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_LINK_RE = re.compile(
    r"^(?:(?:https?|tg|ton)://\S+|[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}\S*)$", re.IGNORECASE
)


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Returns (character, position after the entity) or None when ``&`` starts no entity."""
    end = pos + 1
    if text.startswith("&#", pos):
        end += 1
        hexadecimal = text.startswith("x", end) or text.startswith("X", end)
        end += hexadecimal
        digits = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
        start = end
        while end < len(text) and text[end] in digits:
            end += 1
        if end == start or end - pos >= 10:
            return None
        code = int(text[start:end], 16 if hexadecimal else 10)
        if code == 0 or code >= 0x10FFFF:
            return None
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, check "
                "for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        if text[pos + 1 : end] not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[text[pos + 1 : end]]
    if text.startswith(";", end):
        end += 1
    return char, end


def parse_html(text: str, *, strict_ampersand: bool = True) -> tuple[str, list[JSONDict]]:
    """Converts Telegram HTML into (plain text, Bot API entities with UTF-16 offsets)."""

    def at(i: int) -> str:
        return text[i] if i < len(text) else "\0"

    def byte_offset(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    out: list[str] = []
    u16 = 0
    entities: list[JSONDict] = []
    # (tag name, argument, UTF-16 offset where the tag opened, index into out)
    stack: list[tuple[str, str, int, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded[0])
                u16 += utf16_len(decoded[0])
                i = decoded[1]
                continue
            if strict_ampersand:
                raise EntityParseError(
                    f'Character "&" must be escaped as "&amp;" at byte offset {byte_offset(i)}'
                )
        if char != "<":
            # Plain text up to the next tag or entity, in one piece: the emulator parses
            # every message a bot sends, and per character it cost more than the bot.
            stop = _MARKUP.search(text, i + 1)
            end = len(text) if stop is None else stop.start()
            out.append(text[i:end])
            u16 += utf16_len(text[i:end])
            i = end
            continue
        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if i >= len(text):
                raise EntityParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            tag = text[begin + 1 : i].lower()
            if tag not in _TAGS:
                raise EntityParseError(
                    f'Unsupported start tag "{tag}" at byte offset {byte_offset(begin)}'
                )
            argument = ""
            while at(i) != ">":
                while at(i) in _SPACES and i < len(text):
                    i += 1
                if at(i) == ">":
                    break
                if i >= len(text):
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {byte_offset(begin)}"
                    )
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attr = text[attr_begin:i].lower()
                if not attr:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte '
                        f"offset {byte_offset(begin)}"
                    )
                while at(i) in _SPACES and i < len(text):
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attr == "expandable":
                        argument = "expandable"
                        continue
                    raise EntityParseError(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {byte_offset(begin)}"
                    )
                i += 1
                while at(i) in _SPACES and i < len(text):
                    i += 1
                if i >= len(text):
                    raise EntityParseError(
                        f'Unclosed start tag "{tag}" at byte offset {byte_offset(begin)}'
                    )
                value: list[str] = []
                if at(i) not in "'\"":
                    token_begin = i
                    while at(i).isascii() and (at(i).isalnum() or at(i) in ".-"):
                        i += 1
                    value.append(text[token_begin:i].lower())
                    if at(i) not in _SPACES and at(i) != ">":
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset "
                            f"{byte_offset(token_begin)}"
                        )
                else:
                    quote = at(i)
                    i += 1
                    while i < len(text) and at(i) != quote:
                        decoded = _decode_entity(text, i) if at(i) == "&" else None
                        if decoded is not None:
                            value.append(decoded[0])
                            i = decoded[1]
                        else:
                            value.append(at(i))
                            i += 1
                    i += at(i) == quote
                if i >= len(text):
                    raise EntityParseError(
                        f"Unclosed start tag at byte offset {byte_offset(begin)}"
                    )
                attr_value = "".join(value)
                if tag == "a" and attr == "href":
                    argument = attr_value
                elif tag == "code" and attr == "class" and attr_value.startswith("language-"):
                    argument = attr_value.removeprefix("language-")
                elif tag == "span" and attr == "class" and attr_value.startswith("tg-"):
                    argument = attr_value.removeprefix("tg-")
                elif tag == "tg-emoji" and attr == "emoji-id":
                    argument = attr_value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}'
                )
            if tag == "tg-emoji" and not argument.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            stack.append((tag, argument, u16, len(out)))
            i += 1
            continue
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
        i += 1
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_tag = text[begin + 2 : i].lower()
        while at(i) in _SPACES and i < len(text):
            i += 1
        if at(i) != ">":
            raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
        tag, argument, offset, out_index = stack.pop()
        if end_tag and end_tag != tag:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{tag}>", '
                f'found "</{end_tag}>"'
            )
        i += 1
        length = u16 - offset
        if length <= 0:
            continue
        entity: JSONDict = {"offset": offset, "length": length}
        if tag in _SIMPLE:
            entity["type"] = _SIMPLE[tag]
        elif tag == "a":
            url = argument or "".join(out[out_index:])
            if not _LINK_RE.match(url):
                continue
            entity.update(type="text_link", url=url)
        elif tag == "code":
            entity["type"] = "code"
            if argument:
                entity["language"] = argument
        elif tag == "pre":
            entity["type"] = "pre"
            inner = entities[-1] if entities else None
            if (
                inner is not None
                and inner["type"] == "code"
                and inner["offset"] == offset
                and inner["length"] == length
            ):
                entities.pop()
                if "language" in inner:
                    entity["language"] = inner["language"]
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if argument else "blockquote"
        else:
            entity.update(type="custom_emoji", custom_emoji_id=argument)
        entities.append(entity)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return _trim("".join(out), entities)


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram strips surrounding whitespace from message texts and clips entities with it."""
    stripped = text.strip()
    if stripped == text:
        return text, sorted(entities, key=lambda e: (e["offset"], -e["length"]))
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    limit = utf16_len(stripped)
    clipped: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - shift, 0)
        end = min(entity["offset"] + entity["length"] - shift, limit)
        if end > start:
            clipped.append({**entity, "offset": start, "length": end - start})
    return stripped, sorted(clipped, key=lambda e: (e["offset"], -e["length"]))


# ---------------------------------------------------------------------------------------------
# What the bot sent, as tests see it.


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_name: str
    mime_type: str
    data: bytes


@dataclass
class SentMessage:
    message_id: int
    chat_id: int
    date: int
    kind: str = "text"  # "text" | "document" | "photo"
    text: str = ""
    html: str | None = None
    parse_mode: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    edit_date: int | None = None
    deleted: bool = False
    caption: str | None = None
    file: StoredFile | None = None

    @property
    def document(self) -> StoredFile | None:
        return self.file if self.kind == "document" else None

    @property
    def photo(self) -> bytes | None:
        return self.file.data if self.kind == "photo" and self.file else None

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [[(b["text"], b.get("callback_data", b.get("url"))) for b in row] for row in rows]

    def to_dict(self) -> JSONDict:
        data: JSONDict = {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "kind": self.kind,
            "date": self.date,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "text": self.text,
            "html": self.html,
            "parse_mode": self.parse_mode,
            "entities": self.entities,
            "caption": self.caption,
            "reply_markup": self.reply_markup,
            "buttons": [[list(button) for button in row] for row in self.buttons],
        }
        if self.file is not None:
            data["file"] = {
                "file_name": self.file.file_name,
                "mime_type": self.file.mime_type,
                "size": len(self.file.data),
            }
            data["file_url"] = f"/control/files/{self.chat_id}/{self.message_id}"
        return data


@dataclass
class _Chat:
    user: JSONDict
    messages: list[SentMessage] = field(default_factory=list)
    user_messages: dict[int, JSONDict] = field(default_factory=dict)
    last_message_id: int = 0
    version: int = 0

    def bot_message(self, message_id: int) -> SentMessage | None:
        return next((m for m in self.messages if m.message_id == message_id), None)


@dataclass
class _Fault:
    method: str | None
    error_code: int
    remaining: int
    retry_after: int | None
    description: str | None


@dataclass
class _Call:
    method: str
    params: JSONDict
    files: dict[str, StoredFile]

    def get_int(self, name: str, default: int | None = None) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ApiError(400, f"Bad Request: invalid {name} specified")
        try:
            return int(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def get_str(self, name: str) -> str | None:
        value = self.params.get(name)
        return None if value is None else str(value)

    def get_bool(self, name: str) -> bool:
        return self.params.get(name) in (True, "true", "True", 1, "1")


class _Pulse:
    """A broadcast wake-up: waiters re-check their own predicate, so nobody busy-polls."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                return predicate()
        return True


def _decode_param(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return str(value) if name in STRING_FIELDS and isinstance(value, int | float) else value
    if name in STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def _control_errors(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Turns malformed control requests into 400s instead of opaque 500s."""
    try:
        return await handler(request)
    except (KeyError, ValueError, TypeError) as error:
        if not request.path.startswith("/control/"):
            raise
        return _json_response({"error": f"{type(error).__name__}: {error}"}, 400)


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return 0, 0


class BotAPIEmulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        bot_username: str = "mentorship_companion_bot",
        bot_first_name: str = "Mentor companion",
        strict_ampersand: bool = True,
        round_robin: bool = False,
    ) -> None:
        self.host = host
        # Acting as a load balancer too: every setWebhook adds its URL as one more
        # worker, and updates go to the workers in turn (see `_deliver_to_webhook`).
        self.round_robin = round_robin
        self.webhook_urls: list[str] = []
        # Which worker URL each delivered update went to, in delivery order.
        self.deliveries: list[tuple[int, str]] = []
        self._requested_port = port
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.strict_ampersand = strict_ampersand
        self.bot_id = 123456789
        # Well-formed tokens Telegram no longer knows (revoked in @BotFather): 401 Unauthorized.
        self.revoked_tokens: set[str] = set()
        self.calls: list[tuple[str, JSONDict]] = []
        self.callback_answers: dict[str, JSONDict] = {}
        self.updates_served = 0
        self.rejected_429 = 0
        # Bot API calls being answered right now (long polls aside), and the most at once.
        self.in_flight = 0
        self.most_in_flight = 0
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.descriptions: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, JSONDict] = {}
        self._users: dict[int, JSONDict] = {}
        self._chats: dict[int, _Chat] = {}
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._files: dict[str, StoredFile] = {}
        self._updates: list[JSONDict] = []
        self._allowed_updates: list[str] = []
        self._update_ids = itertools.count(1)
        # Telegram's query ids are unique across time; a fresh random start per
        # emulator keeps them unique across emulators in one process too.
        self._callback_ids = itertools.count(
            7_000_000_000_000_000_001 + secrets.randbelow(10**15) * 1000
        )
        self._file_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._poller: object | None = None
        self._updates_pulse = _Pulse()
        self._change_pulse = _Pulse()
        self._subscribers: list[asyncio.Queue[JSONDict | None]] = []
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._delays: dict[str | None, float] = {}
        self._rate_global: int | None = None
        self._rate_per_chat: int | None = None
        self._window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        # "_api_send_message" serves sendMessage; method names are matched case-insensitively.
        self._methods: dict[str, Callable[[_Call], Awaitable[Any]]] = {
            name.removeprefix("_api_").replace("_", ""): getattr(self, name)
            for name in dir(self)
            if name.startswith("_api_")
        }
        self.app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[_control_errors])
        self.app[EMULATOR_KEY] = self
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        self._add_control_routes()

    # -- lifecycle -------------------------------------------------------------------------

    def add_routes(self, register: Callable[[web.Application], None]) -> None:
        """Lets the sandbox mount its own pages; the router freezes once the server starts."""
        if self._runner is not None:
            raise RuntimeError("routes must be added before start()")
        register(self.app)

    async def start(self) -> None:
        self._closing = False
        # A short shutdown timeout: stop() wakes every waiter, anything still running is stuck.
        self._runner = web.AppRunner(self.app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._requested_port)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        self._updates_pulse.fire()
        self._change_pulse.fire()
        for queue in self._subscribers:
            queue.put_nowait(None)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("emulator is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/bot"

    # -- acting as users -------------------------------------------------------------------

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = "sv",
        last_name: str | None = None,
        username: str | None = None,
    ) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        for key, value in (
            ("last_name", last_name),
            ("username", username),
            ("language_code", language_code),
        ):
            if value is not None:
                user[key] = value
        self._users[user_id] = user
        if user_id in self._chats:
            self._chats[user_id].user = user
        else:
            self._chats[user_id] = _Chat(user=user)
        return user

    def users(self) -> list[JSONDict]:
        return list(self._users.values())

    def _chat_of(self, user_id: int) -> _Chat:
        # Users who speak first have started the bot, so they are created on the fly.
        if user_id not in self._chats:
            self.add_user(user_id, f"User {user_id}")
        return self._chats[user_id]

    @staticmethod
    def _chat_payload(chat: _Chat) -> JSONDict:
        payload: JSONDict = {"id": chat.user["id"], "type": "private"}
        payload.update(
            {k: chat.user[k] for k in ("first_name", "last_name", "username") if k in chat.user}
        )
        return payload

    def _queue_update(self, kind: str, payload: JSONDict) -> None:
        self._updates.append({"update_id": next(self._update_ids), kind: payload})
        self._updates_pulse.fire()

    async def send_text(self, user_id: int, text: str) -> JSONDict:
        chat = self._chat_of(user_id)
        chat.last_message_id += 1
        message: JSONDict = {
            "message_id": chat.last_message_id,
            "from": chat.user,
            "chat": self._chat_payload(chat),
            "date": int(time.time()),
            "text": text,
        }
        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\S)", text)
        if command:
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        chat.user_messages[message["message_id"]] = message
        self._queue_update("message", message)
        self._emit("user_message", {"chat_id": user_id, "message": message})
        return message

    async def press_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        chat = self._chat_of(user_id)
        target = chat.bot_message(message_id)
        if target is not None and not target.deleted:
            message = self._message_payload(target)
        else:
            # date 0 is how the Bot API marks a message the bot can no longer access.
            message = {"chat": self._chat_payload(chat), "message_id": message_id, "date": 0}
        query_id = str(next(self._callback_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": chat.user,
            "chat_instance": str(-user_id * 7919),
            "data": callback_data,
            "message": message,
        }
        self._queue_update("callback_query", query)
        self._emit("callback_query", {"chat_id": user_id, "callback_query": query})
        return query_id

    async def press(self, user_id: int, button_text: str, message_id: int | None = None) -> str:
        chat = self._chat_of(user_id)
        candidates = (
            [m for m in chat.messages if m.message_id == message_id]
            if message_id is not None
            else [m for m in reversed(chat.messages) if not m.deleted]
        )
        for message in candidates:
            for row in message.buttons:
                for text, data in row:
                    if text == button_text and data is not None:
                        return await self.press_button(user_id, message.message_id, data)
        shown = [[t for t, _ in row] for m in candidates for row in m.buttons]
        raise LookupError(f"no button {button_text!r} in chat {user_id}; buttons: {shown}")

    async def edit_text(self, user_id: int, message_id: int, text: str) -> JSONDict:
        """The person edits a message they sent: Telegram sends it again as `edited_message`."""
        chat = self._chat_of(user_id)
        original = chat.user_messages.get(message_id)
        if original is None:
            raise LookupError(f"user {user_id} sent no message {message_id}")
        edited: JSONDict = {**original, "text": text, "edit_date": int(time.time())}
        edited.pop("entities", None)
        command = re.match(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\S)", text)
        if command:
            edited["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}
            ]
        chat.user_messages[message_id] = edited
        self._queue_update("edited_message", edited)
        self._emit("user_edit", {"chat_id": user_id, "message": edited})
        return edited

    def set_bot_blocked(self, user_id: int, blocked: bool = True) -> JSONDict:
        """The person blocks (or unblocks) the bot, as in the Telegram app.

        Sends to them fail with 403 from now on (as `block_chat`), and the bot hears
        of it at once through a `my_chat_member` update, as from Telegram.
        """
        chat = self._chat_of(user_id)
        self.block_chat(user_id, blocked)
        bot = self._bot_user()
        was, now = ("member", "kicked") if blocked else ("kicked", "member")
        old_member: JSONDict = {"user": bot, "status": was}
        new_member: JSONDict = {"user": bot, "status": now}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
        change: JSONDict = {
            "chat": self._chat_payload(chat),
            "from": chat.user,
            "date": int(time.time()),
            "old_chat_member": old_member,
            "new_chat_member": new_member,
        }
        self._queue_update("my_chat_member", change)
        self._emit("my_chat_member", {"chat_id": user_id, "my_chat_member": change})
        return change

    # -- observing the bot -----------------------------------------------------------------

    def chat_messages(self, chat_id: int) -> list[SentMessage]:
        chat = self._chats.get(chat_id)
        return list(chat.messages) if chat else []

    def _describe_chat(self, chat_id: int) -> str:
        lines = [
            f"  #{m.message_id}{' (deleted)' if m.deleted else ''}: "
            f"{(m.text or m.caption or m.kind)[:120]!r} buttons={m.buttons}"
            for m in self.chat_messages(chat_id)
        ]
        return "\n".join(lines) or "  (no bot messages)"

    # The timeout parameters are part of the documented test API, hence the noqa.
    async def wait_for_messages(
        self,
        chat_id: int,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        if not await self._change_pulse.wait_until(
            lambda: len(self.chat_messages(chat_id)) >= count, timeout
        ):
            raise TimeoutError(
                f"chat {chat_id} has {len(self.chat_messages(chat_id))} bot "
                f"messages after {timeout}s, expected {count}:\n"
                f"{self._describe_chat(chat_id)}"
            )
        return self.chat_messages(chat_id)

    async def wait_for_change(
        self,
        chat_id: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        def version() -> int:
            chat = self._chats.get(chat_id)
            return chat.version if chat else 0

        start = version()
        if not await self._change_pulse.wait_until(lambda: version() != start, timeout):
            raise TimeoutError(
                f"chat {chat_id} did not change within {timeout}s:\n{self._describe_chat(chat_id)}"
            )
        return self.chat_messages(chat_id)

    def commands(
        self, language_code: str | None = None, scope: JSONDict | None = None
    ) -> list[JSONDict]:
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def pending_updates(self) -> int:
        return len(self._updates)

    def subscribe(self) -> asyncio.Queue[JSONDict | None]:
        """Events as {"event": name, "data": {...}}; None is put when the emulator stops."""
        queue: asyncio.Queue[JSONDict | None] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[JSONDict | None]) -> None:
        if queue in self._subscribers:
            self._subscribers.remove(queue)

    def _emit(self, event: str, data: JSONDict) -> None:
        for queue in self._subscribers:
            queue.put_nowait({"event": event, "data": data})

    def _changed(self, chat: _Chat, message: SentMessage) -> None:
        chat.version += 1
        self._change_pulse.fire()
        self._emit("message", {"chat_id": message.chat_id, "message": message.to_dict()})

    # -- faults ----------------------------------------------------------------------------

    def block_chat(self, chat_id: int, blocked: bool = True) -> None:
        (self._blocked.add if blocked else self._blocked.discard)(chat_id)

    def fail_next(
        self,
        method: str | None,
        error_code: int,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        self._faults.append(
            _Fault(method.lower() if method else None, error_code, count, retry_after, description)
        )

    def set_delay(self, seconds: float, method: str | None = None) -> None:
        self._delays[method.lower() if method else None] = seconds

    def set_rate_limit(
        self, per_second: int | None = 30, per_chat_per_second: int | None = None
    ) -> None:
        self._rate_global = per_second
        self._rate_per_chat = per_chat_per_second
        self._window.clear()
        self._chat_windows.clear()

    def reset_faults(self) -> None:
        self._blocked = set()
        self._faults = []
        self._delays = {}
        self._rate_global = None
        self._rate_per_chat = None
        self._window = deque()
        self._chat_windows = {}

    def _take_fault(self, method: str) -> ApiError | None:
        for fault in self._faults:
            if fault.method == method or (fault.method is None and method != "getupdates"):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                code = fault.error_code
                if code == 429:
                    retry = fault.retry_after or 1
                    return ApiError(
                        429, fault.description or f"Too Many Requests: retry after {retry}", retry
                    )
                try:
                    default = HTTPStatus(code).phrase
                except ValueError:
                    default = "Error"
                return ApiError(code, fault.description or default, fault.retry_after)
        return None

    def _check_rate(self, chat_id: int | None) -> None:
        now = time.monotonic()
        windows: list[tuple[deque[float], int]] = []
        if self._rate_global is not None:
            windows.append((self._window, self._rate_global))
        if self._rate_per_chat is not None and chat_id is not None:
            windows.append((self._chat_windows.setdefault(chat_id, deque()), self._rate_per_chat))
        for window, limit in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                self.rejected_429 += 1
                raise ApiError(429, "Too Many Requests: retry after 1", 1)
        for window, _ in windows:
            window.append(now)

    # -- HTTP: Bot API ---------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> tuple[JSONDict, dict[str, StoredFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, StoredFile] = {}
        if request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON object")
                raw.update(body)
            elif request.content_type in (
                "application/x-www-form-urlencoded",
                "multipart/form-data",
            ):
                for key, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files[key] = self._store_file(
                            value.filename, value.content_type, value.file.read()
                        )
                    else:
                        raw[key] = value.decode() if isinstance(value, bytes | bytearray) else value
        return {key: _decode_param(key, value) for key, value in raw.items()}, files

    def _store_file(self, name: str, mime: str, data: bytes) -> StoredFile:
        number = next(self._file_ids)
        stored = StoredFile(
            f"BQACAgEmu{number:08d}",
            f"AgADEmu{number:04d}",
            name,
            mime or "application/octet-stream",
            data,
        )
        self._files[stored.file_id] = stored
        return stored

    async def _handle_api(self, request: web.Request) -> web.Response:
        token_match = TOKEN_RE.fullmatch(request.match_info["token"])
        handler = self._methods.get(request.match_info["method"].lower())
        if token_match is None or handler is None:
            return _json_response(ApiError(404, "Not Found").payload(), 404)
        if request.match_info["token"] in self.revoked_tokens:
            return _json_response(ApiError(401, "Unauthorized").payload(), 401)
        self.bot_id = int(token_match.group(1))
        method = request.match_info["method"].lower()
        if method == "getupdates":
            return await self._answer_api(request, method, handler)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._answer_api(request, method, handler)
        finally:
            self.in_flight -= 1

    async def _answer_api(
        self, request: web.Request, method: str, handler: Callable[[_Call], Awaitable[Any]]
    ) -> web.Response:
        try:
            params, files = await self._read_params(request)
            recorded = dict(params)
            recorded.update(
                {
                    k: {"file_name": f.file_name, "mime_type": f.mime_type, "size": len(f.data)}
                    for k, f in files.items()
                }
            )
            self.calls.append((method, recorded))
            delay = self._delays.get(
                method, 0.0 if method == "getupdates" else self._delays.get(None, 0.0)
            )
            if delay > 0:
                await asyncio.sleep(delay)
            fault = self._take_fault(method)
            if fault is not None:
                raise fault
            call = _Call(method, params, files)
            if method in CHAT_BOUND:
                chat_id = self._chat_id(call)
                if chat_id in self._blocked:
                    raise ApiError(403, "Forbidden: bot was blocked by the user")
                if method in RATE_LIMITED:
                    self._check_rate(chat_id)
            result = await handler(call)
        except ApiError as error:
            return _json_response(error.payload(), error.code)
        return _json_response({"ok": True, "result": result})

    def _bot_user(self) -> JSONDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def _message_payload(self, message: SentMessage) -> JSONDict:
        payload: JSONDict = {
            "message_id": message.message_id,
            "from": self._bot_user(),
            "chat": self._chat_payload(self._chats[message.chat_id]),
            "date": message.date,
        }
        if message.edit_date is not None:
            payload["edit_date"] = message.edit_date
        if message.kind == "text":
            payload["text"] = message.text
            if message.entities:
                payload["entities"] = message.entities
        elif message.file is not None:
            stored = message.file
            if message.kind == "photo":
                width, height = _png_size(stored.data)
                payload["photo"] = [
                    {
                        "file_id": stored.file_id,
                        "file_unique_id": stored.file_unique_id,
                        "width": width,
                        "height": height,
                        "file_size": len(stored.data),
                    }
                ]
            else:
                payload["document"] = {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_name": stored.file_name,
                    "mime_type": stored.mime_type,
                    "file_size": len(stored.data),
                }
            if message.caption:
                payload["caption"] = message.caption
                if message.entities:
                    payload["caption_entities"] = message.entities
        if message.reply_markup and message.reply_markup.get("inline_keyboard"):
            payload["reply_markup"] = {"inline_keyboard": message.reply_markup["inline_keyboard"]}
        return payload

    @staticmethod
    def _chat_id(call: _Call) -> int | None:
        value = call.params.get("chat_id")
        if isinstance(value, str) and not re.fullmatch(r"-?\d+", value):
            return None  # an @username; private chats cannot be addressed that way
        return call.get_int("chat_id")

    def _target_chat(self, call: _Call) -> _Chat:
        if call.params.get("chat_id") in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = self._chat_id(call)
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _formatted(
        self, call: _Call, name: str, limit: int, too_long: str
    ) -> tuple[str, list[JSONDict], str | None]:
        """Returns (plain text, entities, raw HTML or None) for a text or caption field."""
        raw = call.get_str(name) or ""
        mode = call.get_str("parse_mode") or None
        entities_name = "entities" if name == "text" else "caption_entities"
        entities: list[JSONDict] = list(call.params.get(entities_name) or [])
        html: str | None = None
        if mode is not None and mode.lower() == "html":
            try:
                plain, entities = parse_html(raw, strict_ampersand=self.strict_ampersand)
            except EntityParseError as error:
                raise ApiError(400, f"Bad Request: can't parse entities: {error}") from None
            html = raw
        elif mode is not None and mode.lower() not in ("markdown", "markdownv2"):
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        else:
            plain, entities = _trim(raw, entities)
        if utf16_len(plain) > limit:
            raise ApiError(400, too_long)
        return plain, entities, html

    def _markup(self, call: _Call) -> JSONDict | None:
        markup = call.params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup.get("inline_keyboard")
        if rows is None:
            return markup
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise ApiError(
                400,
                'Bad Request: field "inline_keyboard" of the '
                "InlineKeyboardMarkup should be an Array of Arrays",
            )
        for button in (button for row in rows for button in row):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Field "
                    '"text" must be of type String',
                )
            if not button["text"].strip():
                raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            if "callback_data" in button:
                data = button["callback_data"]
                if not isinstance(data, str) or not 0 < len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            elif "url" in button:
                if not isinstance(button["url"], str) or not _LINK_RE.match(button["url"]):
                    raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
            elif not any(action in button for action in INLINE_ACTIONS):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
        return markup

    def _record(self, chat: _Chat, message: SentMessage) -> JSONDict:
        chat.messages.append(message)
        self._changed(chat, message)
        return self._message_payload(message)

    def _new_message(self, chat: _Chat, **fields: Any) -> SentMessage:
        chat.last_message_id += 1
        return SentMessage(
            message_id=chat.last_message_id,
            chat_id=chat.user["id"],
            date=int(time.time()),
            **fields,
        )

    def _editable(self, call: _Call) -> tuple[_Chat, SentMessage]:
        if call.params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._target_chat(call)
        message = chat.bot_message(call.get_int("message_id") or 0)
        if message is None or message.deleted:
            raise ApiError(400, "Bad Request: message to edit not found")
        return chat, message

    def _apply_edit(
        self, chat: _Chat, message: SentMessage, source: JSONDict, **changes: Any
    ) -> JSONDict:
        """``changes`` are compared with the message, ``source`` (raw html, parse mode) is not:
        Telegram compares the resulting content, so HTML that renders the same is no edit."""
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise ApiError(400, NOT_MODIFIED)
        for key, value in {**changes, **source}.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        self._changed(chat, message)
        return self._message_payload(message)

    async def _api_get_me(self, call: _Call) -> JSONDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_log_out(self, call: _Call) -> bool:
        return True

    async def _api_close(self, call: _Call) -> bool:
        return True

    async def _api_delete_webhook(self, call: _Call) -> bool:
        self.webhook_url = ""
        self.webhook_urls.clear()
        self.webhook_secret = None
        if call.get_bool("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_set_webhook(self, call: _Call) -> bool:
        # Like Telegram: getUpdates now conflicts and queued updates are POSTed to the URL.
        self.webhook_url = call.get_str("url") or ""
        self.webhook_secret = call.get_str("secret_token")
        if not self.round_robin:
            self.webhook_urls = [self.webhook_url] if self.webhook_url else []
        elif self.webhook_url and self.webhook_url not in self.webhook_urls:
            self.webhook_urls.append(self.webhook_url)
        if call.get_bool("drop_pending_updates"):
            self._updates.clear()
        if self.webhook_url and self._webhook_task is None:
            self._webhook_task = asyncio.create_task(self._deliver_to_webhook())
        return True

    async def _deliver_to_webhook(self) -> None:
        """Push queued updates one at a time; keep one until a worker answers 200.

        With several worker URLs (`round_robin`), each update goes to the next
        worker in turn; one that fails is skipped for that update, as a load
        balancer takes a dead backend out, and the update goes to the next.
        """
        turn = 0
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            while not self._closing:
                if not (self.webhook_urls and self._updates):
                    await self._updates_pulse.wait_until(
                        lambda: bool(self._closing or (self.webhook_urls and self._updates)), 1.0
                    )
                    continue
                update = self._updates[0]
                headers = {}
                if self.webhook_secret:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
                delivered = False
                for _ in range(len(self.webhook_urls)):
                    url = self.webhook_urls[turn % len(self.webhook_urls)]
                    turn += 1
                    try:
                        async with http.post(url, json=update, headers=headers) as answer:
                            delivered = answer.status == 200
                    except (aiohttp.ClientError, TimeoutError):
                        delivered = False
                    if delivered:
                        self.deliveries.append((int(update["update_id"]), url))
                        break
                if delivered:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self.updates_served += 1
                else:
                    await asyncio.sleep(0.2)

    async def _api_get_webhook_info(self, call: _Call) -> JSONDict:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _api_get_updates(self, call: _Call) -> list[JSONDict]:
        if self.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = call.get_int("offset", 0) or 0
        limit = min(max(call.get_int("limit", 100) or 100, 1), 100)
        timeout = max(call.get_int("timeout", 0) or 0, 0)
        allowed = call.params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = [str(kind) for kind in allowed]
        if offset < 0:
            del self._updates[:offset]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if self._allowed_updates:
            # Telegram drops updates of types the bot did not ask for rather than keeping them.
            self._updates = [
                u
                for u in self._updates
                if any(k in self._allowed_updates for k in u if k != "update_id")
            ]
        me = object()
        self._poller = me
        self._updates_pulse.fire()
        await self._updates_pulse.wait_until(
            lambda: bool(self._updates) or self._closing or self._poller is not me, timeout
        )
        if self._poller is not me:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure "
                "that only one bot instance is running",
            )
        self._poller = None
        batch = self._updates[:limit]
        self.updates_served += len(batch)
        return batch

    async def _api_send_message(self, call: _Call) -> JSONDict:
        chat = self._target_chat(call)
        text, entities, html = self._formatted(
            call, "text", MAX_TEXT, "Bad Request: message is too long"
        )
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        markup = self._markup(call)
        return self._record(
            chat,
            self._new_message(
                chat,
                text=text,
                html=html,
                parse_mode=call.get_str("parse_mode"),
                entities=entities,
                reply_markup=markup,
            ),
        )

    async def _send_file(self, call: _Call, kind: str) -> JSONDict:
        chat = self._target_chat(call)
        reference = call.get_str(kind) or ""
        stored = call.files.get(kind) or call.files.get(reference.removeprefix("attach://"))
        if stored is not None:
            if not stored.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
        elif reference in self._files:
            stored = self._files[reference]
        elif re.match(r"https?://", reference):
            # Telegram would download it; the sandbox has no network, so only the name is kept.
            stored = self._store_file(reference.rsplit("/", 1)[-1] or kind, "", b"")
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        caption, entities, html = self._formatted(
            call, "caption", MAX_CAPTION, "Bad Request: message caption is too long"
        )
        markup = self._markup(call)
        return self._record(
            chat,
            self._new_message(
                chat,
                kind=kind,
                caption=caption or None,
                html=html,
                parse_mode=call.get_str("parse_mode"),
                entities=entities,
                reply_markup=markup,
                file=stored,
            ),
        )

    async def _api_send_document(self, call: _Call) -> JSONDict:
        return await self._send_file(call, "document")

    async def _api_send_photo(self, call: _Call) -> JSONDict:
        return await self._send_file(call, "photo")

    async def _api_edit_message_text(self, call: _Call) -> JSONDict:
        chat, message = self._editable(call)
        if message.kind != "text":
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities, html = self._formatted(
            call, "text", MAX_TEXT, "Bad Request: MESSAGE_TOO_LONG"
        )
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        # Omitting reply_markup removes the keyboard on Telegram, a classic source of bugs.
        markup = self._markup(call)
        source = {"html": html, "parse_mode": call.get_str("parse_mode")}
        return self._apply_edit(
            chat, message, source, text=text, entities=entities, reply_markup=markup
        )

    async def _api_edit_message_caption(self, call: _Call) -> JSONDict:
        chat, message = self._editable(call)
        if message.kind == "text":
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities, html = self._formatted(
            call, "caption", MAX_CAPTION, "Bad Request: message caption is too long"
        )
        markup = self._markup(call)
        source = {"html": html, "parse_mode": call.get_str("parse_mode")}
        return self._apply_edit(
            chat,
            message,
            source,
            caption=caption or None,
            entities=entities,
            reply_markup=markup,
        )

    async def _api_edit_message_reply_markup(self, call: _Call) -> JSONDict:
        chat, message = self._editable(call)
        return self._apply_edit(chat, message, {}, reply_markup=self._markup(call))

    async def _api_delete_message(self, call: _Call) -> bool:
        chat = self._target_chat(call)
        message_id = call.get_int("message_id") or 0
        message = chat.bot_message(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            self._changed(chat, message)
            return True
        incoming = chat.user_messages.get(message_id)
        if incoming is not None and not incoming.get("deleted"):
            incoming["deleted"] = True
            return True
        raise ApiError(400, "Bad Request: message to delete not found")

    async def _api_answer_callback_query(self, call: _Call) -> bool:
        query_id = call.get_str("callback_query_id") or ""
        if query_id not in self._open_queries:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_queries.discard(query_id)
        answer = {k: v for k, v in call.params.items() if k != "callback_query_id"}
        self.callback_answers[query_id] = answer
        self._emit("callback_answer", {"callback_query_id": query_id, **answer})
        return True

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""

    async def _api_set_my_commands(self, call: _Call) -> bool:
        commands = call.params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(call.params.get("scope"), call.get_str("language_code"))
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_get_my_commands(self, call: _Call) -> list[JSONDict]:
        return self.commands(call.get_str("language_code"), call.params.get("scope"))

    async def _api_delete_my_commands(self, call: _Call) -> bool:
        key = self._commands_key(call.params.get("scope"), call.get_str("language_code"))
        self._commands.pop(key, None)
        return True

    async def _api_send_chat_action(self, call: _Call) -> bool:
        self._target_chat(call)
        return True

    async def _api_set_my_description(self, call: _Call) -> bool:
        key = ("description", call.get_str("language_code") or "")
        self.descriptions[key] = call.get_str("description") or ""
        return True

    async def _api_get_my_description(self, call: _Call) -> JSONDict:
        key = ("description", call.get_str("language_code") or "")
        return {"description": self.descriptions.get(key, "")}

    async def _api_set_my_short_description(self, call: _Call) -> bool:
        key = ("short_description", call.get_str("language_code") or "")
        self.descriptions[key] = call.get_str("short_description") or ""
        return True

    async def _api_get_my_short_description(self, call: _Call) -> JSONDict:
        key = ("short_description", call.get_str("language_code") or "")
        return {"short_description": self.descriptions.get(key, "")}

    async def _api_set_chat_menu_button(self, call: _Call) -> bool:
        button = call.params.get("menu_button")
        self.menu_buttons[call.get_int("chat_id")] = (
            button if isinstance(button, dict) else {"type": "default"}
        )
        return True

    async def _api_get_chat_menu_button(self, call: _Call) -> JSONDict:
        chat_id = call.get_int("chat_id")
        return self.menu_buttons.get(chat_id, self.menu_buttons.get(None, {"type": "commands"}))

    async def _api_get_chat(self, call: _Call) -> JSONDict:
        chat = self._target_chat(call)
        return {**self._chat_payload(chat), "accent_color_id": 0, "max_reaction_count": 11}

    # -- HTTP: control interface -----------------------------------------------------------

    def _add_control_routes(self) -> None:
        router = self.app.router
        router.add_post("/control/users", self._control_add_user)
        router.add_get("/control/users", self._control_users)
        router.add_post("/control/send", self._control_send)
        router.add_post("/control/press", self._control_press)
        router.add_post("/control/edit", self._control_edit)
        router.add_post("/control/blocked", self._control_blocked)
        router.add_get("/control/chats/{chat_id}/messages", self._control_messages)
        router.add_get("/control/files/{chat_id}/{message_id}", self._control_file)
        router.add_get("/control/commands", self._control_commands)
        router.add_post("/control/faults", self._control_faults)
        router.add_post("/control/reset_faults", self._control_reset_faults)
        router.add_get("/control/events", self._control_events)

    @staticmethod
    async def _body(request: web.Request) -> JSONDict:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(
                text='{"error":"expected a JSON object"}', content_type="application/json"
            )
        return body

    async def _control_add_user(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            user = self.add_user(
                int(body["user_id"]),
                str(body["first_name"]),
                language_code=body.get("language_code", "sv"),
                last_name=body.get("last_name"),
                username=body.get("username"),
            )
        except (KeyError, ValueError) as error:
            return _json_response({"error": f"bad user: {error}"}, 400)
        return _json_response(user)

    async def _control_users(self, request: web.Request) -> web.Response:
        return _json_response(self.users())

    async def _control_send(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return _json_response(await self.send_text(int(body["user_id"]), str(body["text"])))

    async def _control_press(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        user_id = int(body["user_id"])
        try:
            if "callback_data" in body:
                query_id = await self.press_button(
                    user_id, int(body["message_id"]), str(body["callback_data"])
                )
            else:
                message_id = body.get("message_id")
                query_id = await self.press(
                    user_id,
                    str(body["button_text"]),
                    None if message_id is None else int(message_id),
                )
        except LookupError as error:
            return _json_response({"error": str(error)}, 404)
        return _json_response({"callback_query_id": query_id})

    async def _control_edit(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        try:
            edited = await self.edit_text(
                int(body["user_id"]), int(body["message_id"]), str(body["text"])
            )
        except LookupError as error:
            return _json_response({"error": str(error)}, 404)
        return _json_response(edited)

    async def _control_blocked(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        return _json_response(
            self.set_bot_blocked(int(body["user_id"]), bool(body.get("blocked", True)))
        )

    async def _control_messages(self, request: web.Request) -> web.Response:
        messages = self.chat_messages(int(request.match_info["chat_id"]))
        return _json_response([message.to_dict() for message in messages])

    async def _control_file(self, request: web.Request) -> web.Response:
        chat = self._chats.get(int(request.match_info["chat_id"]))
        message = chat.bot_message(int(request.match_info["message_id"])) if chat else None
        if message is None or message.file is None:
            raise web.HTTPNotFound()
        stored = message.file
        return web.Response(
            body=stored.data,
            content_type=stored.mime_type,
            headers={"Content-Disposition": f'attachment; filename="{stored.file_name}"'},
        )

    async def _control_commands(self, request: web.Request) -> web.Response:
        scope = request.query.get("scope")
        return _json_response(
            self.commands(request.query.get("language_code"), json.loads(scope) if scope else None)
        )

    async def _control_faults(self, request: web.Request) -> web.Response:
        body = await self._body(request)
        if "block_chat" in body:
            self.block_chat(int(body["block_chat"]), bool(body.get("blocked", True)))
        if isinstance(body.get("fail_next"), dict):
            spec = body["fail_next"]
            self.fail_next(
                spec.get("method"),
                int(spec["error_code"]),
                int(spec.get("count", 1)),
                spec.get("retry_after"),
                spec.get("description"),
            )
        delay = body.get("delay")
        if isinstance(delay, dict):
            self.set_delay(float(delay["seconds"]), delay.get("method"))
        elif isinstance(delay, int | float):
            self.set_delay(float(delay))
        if isinstance(body.get("rate_limit"), dict):
            limits = body["rate_limit"]
            self.set_rate_limit(limits.get("per_second", 30), limits.get("per_chat_per_second"))
        return _json_response({"ok": True})

    async def _control_reset_faults(self, request: web.Request) -> web.Response:
        self.reset_faults()
        return _json_response({"ok": True})

    async def _control_events(self, request: web.Request) -> web.StreamResponse:
        queue = self.subscribe()
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        try:
            await response.prepare(request)
            # Sent at once so a client knows it is subscribed before it starts acting.
            await response.write(b": connected\n\n")
            while not self._closing:
                try:
                    event = await asyncio.wait_for(queue.get(), 15.0)
                except TimeoutError:
                    await response.write(b": ping\n\n")  # detects clients that went away
                    continue
                if event is None:
                    break
                data = json.dumps(event["data"], ensure_ascii=False)
                await response.write(f"event: {event['event']}\ndata: {data}\n\n".encode())
        except (ConnectionResetError, ConnectionError):
            pass
        finally:
            self.unsubscribe(queue)
        return response


EMULATOR_KEY = web.AppKey("bot_api_emulator", BotAPIEmulator)


async def _serve(args: argparse.Namespace) -> None:
    emulator = BotAPIEmulator(
        args.host,
        args.port,
        bot_username=args.bot_username,
        bot_first_name=args.bot_first_name,
        round_robin=args.round_robin,
    )
    for spec in args.user:
        user_id, _, rest = spec.partition(":")
        name, _, language = rest.partition(":")
        emulator.add_user(int(user_id), name or f"User {user_id}", language_code=language or "sv")
    await emulator.start()
    print(
        f"Bot API emulator: base_url={emulator.base_url} "
        f"control=http://{emulator.host}:{emulator.port}/control/",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Telegram Bot API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--bot-username", default="mentorship_companion_bot")
    parser.add_argument("--bot-first-name", default="Mentor companion")
    parser.add_argument(
        "--round-robin",
        action="store_true",
        help="every setWebhook adds a worker URL; updates go to the workers in turn",
    )
    parser.add_argument(
        "--user",
        action="append",
        default=[],
        metavar="ID:NAME[:LANG]",
        help="pre-register a user (repeatable)",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
