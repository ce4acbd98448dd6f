"""The sandbox's emulated Bot API answers the bot on loopback, never another site."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.server import DEFAULT_PEOPLE, SANDBOX_TOKEN, SandboxServer
from bot.settings import Settings
from tests.harness import Person


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


async def test_other_sites_cannot_use_the_emulated_bot_api(
    sandbox: SandboxServer, http: aiohttp.ClientSession
) -> None:
    api = f"{sandbox.url}bot{SANDBOX_TOKEN}"
    astrid = DEFAULT_PEOPLE[0].user_id
    calls_before = len(sandbox.emulator.calls)
    # DNS rebinding: a foreign host name resolving to 127.0.0.1 may not read the chats.
    async with http.get(f"{api}/getMe", headers={"Host": f"evil.example:{sandbox.port}"}) as answer:
        assert answer.status == 403
    # Another site may not post as the bot...
    message: dict[str, str | int] = {"chat_id": astrid, "text": "a message from another site"}
    async with http.post(
        f"{api}/sendMessage", json=message, headers={"Origin": "https://evil.example"}
    ) as answer:
        assert answer.status == 403
    # ...nor send through a GET (an <img>, which carries no Origin).
    async with http.get(
        f"{api}/sendMessage", params=message, headers={"Sec-Fetch-Site": "cross-site"}
    ) as answer:
        assert answer.status == 403
    assert sandbox.emulator.chat_messages(astrid) == []
    assert len(sandbox.emulator.calls) - calls_before == sum(
        1 for method, _ in sandbox.emulator.calls[calls_before:] if method == "getupdates"
    ), "only the bot's own polling got through"

    # The bot itself, on loopback and without an Origin, is served as before.
    async with http.get(f"{api}/getMe") as answer:
        assert answer.status == 200
    person = Person(sandbox.emulator, astrid, "Astrid", "sv")
    assert "Hej Astrid" in (await person.ask("/start", timeout=10)).text
