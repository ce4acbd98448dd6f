"""The Bot API emulator, driven by real python-telegram-bot clients over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.sandbox.emulator import BotAPIEmulator, parse_html

pytestmark = [
    pytest.mark.asyncio,
    # RetryAfter.retry_after warns about its future timedelta type; seconds() handles both.
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

TOKEN = "123:abc"
ANNA = 1001


@pytest_asyncio.fixture
async def emu() -> AsyncIterator[BotAPIEmulator]:
    emulator = BotAPIEmulator()
    await emulator.start()
    emulator.add_user(ANNA, "Anna", username="anna")
    yield emulator
    await emulator.stop()


@pytest_asyncio.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=emu.base_url) as client:
        yield client


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d) for t, d in buttons]])


def seconds(value: int | dtm.timedelta) -> float:
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


async def test_get_me_uses_the_token_id_and_configured_names(bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (
        123,
        True,
        "mentorship_companion_bot",
        "Mentor companion",
    )
    assert me.can_join_groups is True and me.supports_inline_queries is False


async def test_html_is_parsed_into_plain_text_and_utf16_entities(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    html = '<b>Hej 😀</b> &lt;Anna&gt; <a href="https://example.se">länk</a> <code>x</code>'
    message = await bot.send_message(ANNA, html, parse_mode="HTML")

    assert message.text == "Hej 😀 <Anna> länk x"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [
        ("bold", 0, 6),
        ("text_link", 14, 4),
        ("code", 19, 1),
    ]
    sent = emu.chat_messages(ANNA)[0]
    assert (sent.text, sent.html, sent.parse_mode) == (message.text, html, "HTML")
    assert sent.message_id == message.message_id
    assert message.from_user is not None and message.from_user.is_bot


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("Q&A", 'Character "&" must be escaped as "&amp;" at byte offset 1'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
    ],
)
async def test_invalid_html_is_rejected_with_telegrams_wording(
    emu: BotAPIEmulator, bot: Bot, html: str, expected: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(ANNA, html, parse_mode="HTML")
    assert caught.value.message == f"Can't parse entities: {expected}".capitalize()
    form = {"chat_id": str(ANNA), "text": html, "parse_mode": "HTML"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{emu.base_url}{TOKEN}/sendMessage", data=form) as response,
    ):
        assert response.status == 400
        assert await response.json() == {
            "ok": False,
            "error_code": 400,
            "description": f"Bad Request: can't parse entities: {expected}",
        }
    assert emu.chat_messages(ANNA) == []


async def test_html_parser_matches_tdlib_byte_offsets() -> None:
    with pytest.raises(ValueError, match="Unexpected end of name token at byte offset 27"):
        parse_html("🏟 🏟&lt;<i    aba  =  190azAz-.,")
    assert parse_html(
        '<pre><code class="language-py">x</code></pre> <tg-spoiler>s</tg-spoiler>'
    ) == (
        "x s",
        [
            {"offset": 0, "length": 1, "type": "pre", "language": "py"},
            {"offset": 2, "length": 1, "type": "spoiler"},
        ],
    )


async def test_length_and_emptiness_are_checked_after_parsing(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANNA, "x" * 4097)
    # Tags do not count, so this fits exactly; a supplementary-plane emoji counts twice.
    await bot.send_message(ANNA, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(ANNA, "😀" * 2049)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(ANNA, "<b> </b>", parse_mode="HTML")


async def test_long_polling_answers_as_soon_as_a_user_writes(emu: BotAPIEmulator, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await asyncio.sleep(0.1)
    assert not poll.done()
    started = time.monotonic()
    await emu.send_text(ANNA, "/start@mentorship_companion_bot hej")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 0.5
    message = updates[0].message
    assert message is not None and message.text == "/start@mentorship_companion_bot hej"
    assert [(e.type, e.offset, e.length) for e in message.entities] == [("bot_command", 0, 31)]
    assert message.from_user is not None and message.from_user.first_name == "Anna"
    assert message.chat.id == ANNA


async def test_offset_confirms_updates_and_limit_caps_the_batch(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    for text in ("one", "two", "three"):
        await emu.send_text(ANNA, text)
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    again = await bot.get_updates()  # unconfirmed updates are delivered again
    assert len(again) == 3
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0) == ()
    assert emu.pending_updates() == 0 and emu.updates_served == 6


async def test_application_handles_commands_and_buttons(emu: BotAPIEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            "<b>Välkommen</b>",
            parse_mode="HTML",
            reply_markup=keyboard(("Ja", "yes:1")),
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Sparat", show_alert=True)
        await query.edit_message_text(f"Du valde {query.data}")

    app = Application.builder().token(TOKEN).base_url(emu.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        await emu.send_text(ANNA, "/start")
        [welcome] = await emu.wait_for_messages(ANNA, 1)
        assert welcome.text == "Välkommen" and welcome.buttons == [[("Ja", "yes:1")]]

        query_id = await emu.press(ANNA, "Ja")
        await emu.wait_for_change(ANNA)
        [edited] = emu.chat_messages(ANNA)
        assert edited.text == "Du valde yes:1" and edited.edit_date is not None
        assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
        assert emu.callback_answers[query_id] == {"text": "Sparat", "show_alert": True}
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def test_edits_apply_in_place_and_fail_like_telegram(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(ANNA, "a", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_text(
        "<i>b</i>", ANNA, sent.message_id, parse_mode="HTML", reply_markup=keyboard(("B", "b"))
    )
    [message] = emu.chat_messages(ANNA)
    assert (message.text, message.html, message.buttons) == ("b", "<i>b</i>", [[("B", "b")]])

    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<em>b</em>",
            ANNA,
            sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard(("B", "b")),
        )
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("c", ANNA, 999)
    assert await bot.delete_message(ANNA, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(ANNA, sent.message_id)
    assert emu.chat_messages(ANNA)[0].deleted


async def test_stale_buttons_and_invalid_markup(emu: BotAPIEmulator, bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(ANNA, "x", reply_markup=keyboard(("A", "x" * 65)))
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(4242, "hello?")
    sent = await bot.send_message(ANNA, "x", reply_markup=keyboard(("A", "a")))
    await bot.delete_message(ANNA, sent.message_id)
    query_id = await emu.press_button(ANNA, sent.message_id, "forged")
    [update] = await bot.get_updates()
    assert update.callback_query is not None and update.callback_query.data == "forged"
    assert update.callback_query.id == query_id and query_id.isdigit()
    assert update.callback_query.message is not None
    assert not update.callback_query.message.is_accessible
    assert await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(LookupError):
        await emu.press(ANNA, "A")


async def test_blocked_chat_is_forbidden(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.block_chat(ANNA)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "hej")
    emu.block_chat(ANNA, blocked=False)
    await bot.send_message(ANNA, "hej")


async def test_injected_failures(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ANNA, "x")
    assert seconds(caught.value.retry_after) == 7
    emu.fail_next(None, 500, count=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_chat_action(ANNA, "typing")
    await bot.send_message(ANNA, "ok")
    assert [m.text for m in emu.chat_messages(ANNA)] == ["ok"]

    emu.set_delay(0.3, "sendMessage")
    started = time.monotonic()
    await bot.send_message(ANNA, "slow")
    assert time.monotonic() - started >= 0.3


async def test_rate_limit_rejects_the_31st_send_within_a_second(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    emu.set_rate_limit(per_second=30)
    for number in range(30):
        await bot.send_message(ANNA, str(number))
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(ANNA, "one too many")
    assert seconds(caught.value.retry_after) == 1
    assert emu.rejected_429 == 1 and len(emu.chat_messages(ANNA)) == 30
    assert emu.chat_messages(ANNA)[7].text == "7"  # "7" stays a string, not a JSON number


async def test_documents_are_stored_and_served(emu: BotAPIEmulator, bot: Bot) -> None:
    payload = b"namn;datum\nAnna;2024-05-01\n"
    message = await bot.send_document(
        ANNA, payload, filename="rapport.csv", caption="<b>Rapport</b>", parse_mode="HTML"
    )
    assert message.document is not None and message.document.file_name == "rapport.csv"
    assert message.caption == "Rapport"
    [stored] = emu.chat_messages(ANNA)
    assert stored.kind == "document" and stored.document is not None
    assert stored.document.data == payload and stored.document.mime_type == "text/csv"
    again = await bot.send_document(ANNA, message.document.file_id)
    assert again.document is not None and again.document.file_name == "rapport.csv"

    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(ANNA, b"x", filename="a.txt", caption="x" * 1025)
    url = f"http://127.0.0.1:{emu.port}/control/chats/{ANNA}/messages"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as response:
            listed = await response.json()
        assert listed[0]["file"] == {
            "file_name": "rapport.csv",
            "mime_type": "text/csv",
            "size": len(payload),
        }
        async with http.get(f"http://127.0.0.1:{emu.port}{listed[0]['file_url']}") as response:
            assert await response.read() == payload
            assert response.content_type == "text/csv"
            assert 'filename="rapport.csv"' in response.headers["Content-Disposition"]


async def test_commands_are_stored_per_language_and_scope(emu: BotAPIEmulator, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Börja")], language_code="sv")
    await bot.set_my_commands(
        [BotCommand("start", "Begin"), BotCommand("help", "Help")], language_code="en"
    )
    assert emu.commands("sv") == [{"command": "start", "description": "Börja"}]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start", "help"]
    assert emu.commands() == []
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start!", "x")])
    await bot.delete_my_commands(language_code="sv")
    assert emu.commands("sv") == []


async def test_json_bodies_and_string_fields_decode_like_telegram(emu: BotAPIEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{emu.base_url}{TOKEN}/SENDMESSAGE",
            json={
                "chat_id": ANNA,
                "text": "[1, 2]",
                "reply_markup": json.dumps(
                    {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]}
                ),
            },
        ) as response:
            body = await response.json()
        assert body["ok"] and body["result"]["text"] == "[1, 2]"
        assert emu.chat_messages(ANNA)[0].buttons == [[("a", "1")]]
        async with http.get(f"{emu.base_url}{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
    assert emu.calls[0] == (
        "sendmessage",
        {
            "chat_id": ANNA,
            "text": "[1, 2]",
            "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]},
        },
    )


async def test_control_interface_and_event_stream(emu: BotAPIEmulator, bot: Bot) -> None:
    control = f"http://127.0.0.1:{emu.port}/control"
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{control}/users", json={"user_id": 2002, "first_name": "Erik", "language_code": "en"}
        ) as response:
            assert response.status == 200
        async with http.get(f"{control}/events") as events:
            assert await events.content.readline() == b": connected\n"

            async def next_event() -> tuple[str, dict[str, object]]:
                lines: list[str] = []
                while True:
                    line = (await asyncio.wait_for(events.content.readline(), 2)).decode()
                    if line == "\n" and lines:
                        break
                    lines.append(line.rstrip("\n"))
                name = next(x for x in lines if x.startswith("event: "))[7:]
                data = json.loads(next(x for x in lines if x.startswith("data: "))[6:])
                return name, data

            async with http.post(f"{control}/send", json={"user_id": 2002, "text": "hi"}):
                pass
            name, data = await next_event()
            assert name == "user_message" and data["chat_id"] == 2002
            [update] = await bot.get_updates()
            assert update.effective_user is not None
            assert update.effective_user.language_code == "en"

            await bot.send_message(
                2002, "<b>svar</b>", parse_mode="HTML", reply_markup=keyboard(("OK", "ok"))
            )
            name, data = await next_event()
            assert name == "message" and data["message"]["text"] == "svar"  # type: ignore[index]

            async with http.post(
                f"{control}/press", json={"user_id": 2002, "button_text": "OK"}
            ) as response:
                assert "callback_query_id" in await response.json()
            async with http.post(f"{control}/faults", json={"block_chat": 2002}):
                pass
            with pytest.raises(Forbidden):
                await bot.send_message(2002, "x")
            async with http.post(f"{control}/reset_faults"):
                pass
            async with http.get(f"{control}/chats/2002/messages") as response:
                [listed] = await response.json()
            assert listed["html"] == "<b>svar</b>" and listed["buttons"] == [[["OK", "ok"]]]
            async with http.post(f"{control}/send", json={"text": "no user"}) as response:
                assert response.status == 400

            # stop() must end an open event stream promptly instead of hanging on it.
            started = time.monotonic()
            await emu.stop()
            assert time.monotonic() - started < 1.5
            rest = await asyncio.wait_for(events.content.read(), 2)  # returns only at EOF
            assert b"event: callback_query" in rest and b"event: callback_answer" not in rest


async def test_per_chat_limit_and_competing_pollers(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.add_user(2002, "Erik")
    emu.set_rate_limit(per_second=None, per_chat_per_second=1)
    await bot.send_message(ANNA, "first")
    with pytest.raises(RetryAfter):
        await bot.send_message(ANNA, "second")
    await bot.send_message(2002, "other chat is fine")

    # Two bot instances polling at once: Telegram ends the older request with 409.
    async with Bot(TOKEN, base_url=emu.base_url) as second_instance:
        older = asyncio.create_task(bot.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        newer = asyncio.create_task(second_instance.get_updates(timeout=5))
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(older, 1)
        await emu.send_text(ANNA, "hej")
        assert len(await asyncio.wait_for(newer, 1)) == 1


async def test_photos_and_waiting_diagnostics(emu: BotAPIEmulator, bot: Bot) -> None:
    png = bytes.fromhex("89504e470d0a1a0a0000000d494844520000000300000002080200000000")
    message = await bot.send_photo(ANNA, png, caption="Bild")
    assert (message.photo[-1].width, message.photo[-1].height) == (3, 2)
    assert emu.chat_messages(ANNA)[0].photo == png
    with pytest.raises(TimeoutError, match=r"has 1 bot messages.*\n  #1: 'Bild'"):
        await emu.wait_for_messages(ANNA, 2, timeout=0.1)
