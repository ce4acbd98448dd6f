"""The bot's aiohttp client for the Bot API, against the real emulator over HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.app import AnyApplication
from bot.sandbox.emulator import BotAPIEmulator
from bot.telegram_http import AiohttpRequest
from bot.unit_of_work import CommittingRequest
from tests.conftest import TOKEN

pytestmark = [
    pytest.mark.asyncio,
    # RetryAfter.retry_after warns about its future timedelta type.
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]

ANNA = 1001


@pytest_asyncio.fixture
async def emu(emulator: BotAPIEmulator) -> BotAPIEmulator:
    emulator.add_user(ANNA, "Anna", username="anna")
    return emulator


def client(emu: BotAPIEmulator, request: AiohttpRequest | None = None) -> Bot:
    request = request or AiohttpRequest()
    return Bot(TOKEN, base_url=emu.base_url, request=request, get_updates_request=request)


@pytest_asyncio.fixture
async def bot(emu: BotAPIEmulator) -> AsyncIterator[Bot]:
    async with client(emu) as ours:
        yield ours


async def test_the_bot_sends_everything_through_aiohttp_and_replies_commit_first(
    bot_app: AnyApplication,
) -> None:
    requests = bot_app.bot._request  # (getUpdates, everything else), as PTB keeps them
    assert isinstance(requests[1], CommittingRequest)
    assert isinstance(requests[0], AiohttpRequest)
    assert not isinstance(requests[0], CommittingRequest)
    assert requests[0].read_timeout == 40 and requests[1].read_timeout == 10


async def test_text_with_markup_arrives_form_encoded(emu: BotAPIEmulator, bot: Bot) -> None:
    sent = await bot.send_message(ANNA, "Hej <b>Anna</b> &amp; «Åsa»", parse_mode="HTML")
    assert sent.text == "Hej Anna & «Åsa»"
    [stored] = emu.chat_messages(ANNA)
    assert stored.text == "Hej Anna & «Åsa»"


async def test_a_document_and_a_photo_arrive_with_their_bytes(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    calendar = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    message = await bot.send_document(
        ANNA, calendar, filename="möte.ics", caption="<b>Möte</b> på torsdag", parse_mode="HTML"
    )
    assert message.document is not None and message.document.file_name == "möte.ics"
    assert message.caption == "Möte på torsdag"
    png = bytes.fromhex("89504e470d0a1a0a0000000d494844520000000300000002080200000000")
    photo = await bot.send_photo(ANNA, png, caption="Diagram")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)

    document, picture = emu.chat_messages(ANNA)
    assert document.document is not None
    assert document.document.data == calendar
    assert document.document.file_name == "möte.ics"
    assert document.document.mime_type == "text/calendar"
    assert picture.photo == png


async def test_telegrams_errors_come_back_as_ptbs_errors(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(ANNA, "x")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(424242, "x")


async def test_a_slow_answer_times_out(emu: BotAPIEmulator, bot: Bot) -> None:
    emu.set_delay(1.0, "sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(ANNA, "x", read_timeout=0.1)


async def test_a_slow_get_updates_times_out_but_a_long_poll_does_not(
    emu: BotAPIEmulator, bot: Bot
) -> None:
    # PTB waits read_timeout + timeout for getUpdates: the long poll itself is not slow.
    assert await bot.get_updates(timeout=1, read_timeout=0.2) == ()
    emu.set_delay(1.0, "getUpdates")
    with pytest.raises(TimedOut):
        await bot.get_updates(timeout=0, read_timeout=0.1)


async def test_a_closed_port_is_a_network_error_not_a_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not isinstance(raised.value, TimedOut)
    assert "aiohttp.ClientConnectorError" in raised.value.message


async def test_the_pool_caps_the_requests_in_flight(emu: BotAPIEmulator) -> None:
    emu.set_delay(0.1, "sendMessage")
    async with client(emu, AiohttpRequest(connection_pool_size=2)) as bot:
        await asyncio.gather(*(bot.send_message(ANNA, f"#{n}") for n in range(6)))
    assert len(emu.chat_messages(ANNA)) == 6
    assert emu.most_in_flight == 2


async def test_shut_down_it_refuses_and_initialized_again_it_works(emu: BotAPIEmulator) -> None:
    request = AiohttpRequest()
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # one object may serve as both of a bot's requests
    # PTB wraps what the request raises, as it does for HTTPXRequest.
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{emu.base_url}{TOKEN}/getMe")
    await request.initialize()
    try:
        me = await request.post(f"{emu.base_url}{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert isinstance(me, dict) and me["is_bot"] is True
