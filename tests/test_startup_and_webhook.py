"""`mentorbot run` and `mentorbot webhook` as real processes: start-up failures end in one
line without the token, and the webhook takes updates only from whoever knows the secret."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import MAX_WEBHOOK_BODY
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from tests.conftest import TOKEN
from tests.harness import Person

SECRET = "s3cret-Token_for-tests"
TOKEN_SECRET_PART = TOKEN.split(":", 1)[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the bot process did not get there")
        await asyncio.sleep(0.05)


async def run_to_the_end(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run `mentorbot <args>` until it exits; its exit code and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, output.decode()


def assert_one_clear_line(output: str, *fragments: str) -> None:
    """Exactly one line of ours, no traceback, no error logged on top, and no token."""
    assert TOKEN not in output and TOKEN_SECRET_PART not in output, output
    assert "Traceback" not in output and " ERROR " not in output, output
    ours = [line for line in output.splitlines() if line.startswith("mentorbot:")]
    assert len(ours) == 1, output
    for fragment in fragments:
        assert fragment in ours[0], output


async def test_a_token_telegram_does_not_know_ends_run_with_one_line_and_exit_code_2(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database
) -> None:
    emulator.revoked_tokens.add(TOKEN)  # Telegram answers 401 Unauthorized
    code, output = await run_to_the_end(env_for_subprocess, "run")
    assert code == 2
    assert_one_clear_line(output, "BOT_TOKEN", "rejected by Telegram")
    assert emulator.calls == [], "refused at getMe, it asked for nothing more"


async def test_a_malformed_token_ends_the_webhook_with_one_line_and_exit_code_2(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database
) -> None:
    env = {**env_for_subprocess, "BOT_TOKEN": "mentor:not-a-token"}  # Telegram answers 404
    code, output = await run_to_the_end(
        env, "webhook", "--url", "https://bot.example.org/hook", "--secret-token", SECRET
    )
    assert code == 2
    assert_one_clear_line(output, "BOT_TOKEN", "rejected by Telegram")
    assert "not-a-token" not in output
    assert emulator.webhook_url == ""


async def test_an_unreachable_telegram_ends_run_with_one_line_and_exit_code_1(
    env_for_subprocess: dict[str, str], db: Database
) -> None:
    port = free_port()  # nothing listens there
    env = {**env_for_subprocess, "TELEGRAM_API_URL": f"http://127.0.0.1:{port}/bot"}
    code, output = await run_to_the_end(env, "run")
    assert code == 1
    assert_one_clear_line(output, "cannot reach Telegram", f"127.0.0.1:{port}")


async def test_the_webhook_refuses_to_start_without_a_secret(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database
) -> None:
    code, output = await run_to_the_end(
        env_for_subprocess, "webhook", "--url", "https://bot.example.org/hook"
    )
    assert code == 2
    assert_one_clear_line(output, "WEBHOOK_SECRET", "--insecure-no-secret")
    assert emulator.calls == [], "it stopped before talking to Telegram"


async def test_a_webhook_secret_telegram_would_refuse_is_a_setting_error(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database
) -> None:
    code, output = await run_to_the_end(
        env_for_subprocess,
        "webhook",
        "--url",
        "https://bot.example.org/hook",
        "--secret-token",
        "spaces are not allowed",
    )
    assert code == 2
    assert_one_clear_line(output, "WEBHOOK_SECRET")
    assert "spaces are not allowed" not in output


@asynccontextmanager
async def webhook_bot(
    env: dict[str, str], emulator: BotAPIEmulator, log: Path, *options: str
) -> AsyncIterator[str]:
    """`mentorbot webhook` on a free port; yields the URL it listens on."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/{TOKEN.split(':', 1)[0]}"
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "webhook", "--url", url,
            "--listen", "127.0.0.1", "--port", str(port), *options,
            env=env, stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        await until(lambda: bool(emulator.webhook_url) or process.returncode is not None)
        assert process.returncode is None, log.read_text()
        await until(lambda: _listening(port) or process.returncode is not None)
        yield url
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def start_update(update_id: int, user_id: int, name: str) -> dict[str, Any]:
    """A /start as Telegram would post it."""
    person = {"id": user_id, "is_bot": False, "first_name": name, "language_code": "sv"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "from": person,
            "chat": {"id": user_id, "type": "private", "first_name": name},
            "date": int(time.time()),
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


async def post(
    http: aiohttp.ClientSession, url: str, body: str, secret: str | None = None
) -> int | None:
    """The HTTP status, or None when the server closed the connection instead."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    try:
        async with http.post(url, data=body.encode(), headers=headers) as answer:
            return answer.status
    except aiohttp.ClientError:
        return None


async def test_the_webhook_takes_updates_only_with_the_right_secret_and_a_small_body(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    forger = Person(emulator, 9301, "Fanny", "sv")
    greta = Person(emulator, 9302, "Greta", "sv")
    hugo = Person(emulator, 9303, "Hugo", "sv")
    async with (
        webhook_bot(
            env_for_subprocess, emulator, tmp_path / "webhook.log", "--secret-token", SECRET
        ) as url,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http,
    ):
        assert emulator.webhook_secret == SECRET, "setWebhook carries the secret"
        forged = json.dumps(start_update(900_001, forger.user_id, "Fanny"))
        assert await post(http, url, forged) == 403
        assert await post(http, url, forged, secret="guessed-wrong") == 403
        # A body over 1 MiB is refused before it is read, even with the right secret.
        oversized = forged + " " * MAX_WEBHOOK_BODY
        assert await post(http, url, oversized, secret=SECRET) in (400, 413, None)
        # Telegram's own delivery (the emulator posts with the secret) goes through...
        assert "Hej Greta" in (await greta.ask("/start", timeout=15)).text
        # ...and so does a request that carries the secret and a normal body.
        genuine = json.dumps(start_update(900_002, hugo.user_id, "Hugo"))
        assert await post(http, url, genuine, secret=SECRET) == 200
        await emulator.wait_for_messages(hugo.user_id, 1, timeout=15)
        await asyncio.sleep(0.5)
    assert forger.messages == [], "no forged or oversized update reached the bot"
    assert TOKEN_SECRET_PART not in (tmp_path / "webhook.log").read_text()


async def test_insecure_no_secret_starts_the_webhook_without_one_when_asked_explicitly(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    ivan = Person(emulator, 9311, "Ivan", "sv")
    async with webhook_bot(
        env_for_subprocess, emulator, tmp_path / "webhook.log", "--insecure-no-secret"
    ):
        assert emulator.webhook_secret is None
        assert "Hej Ivan" in (await ivan.ask("/start", timeout=15)).text


@pytest.fixture
def env_for_subprocess(env_for_subprocess: dict[str, str]) -> dict[str, str]:
    # A WEBHOOK_SECRET from the developer's shell would hide the missing-secret refusal.
    return {k: v for k, v in env_for_subprocess.items() if not k.startswith("WEBHOOK_")}
