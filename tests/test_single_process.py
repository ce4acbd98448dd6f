"""What stays one process says so: a second poller of the token (Telegram's 409 Conflict)
and a second worker on one SQLite file each end in one line and exit code 3."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from pathlib import Path

import aiohttp

from bot.cli import EXIT_CONFLICT
from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from tests.conftest import TOKEN
from tests.test_startup_and_webhook import (
    SECRET,
    assert_one_clear_line,
    free_port,
    run_to_the_end,
    until,
)


async def _poll_for_ever(emulator: BotAPIEmulator) -> None:
    """Another copy of the bot, long-polling the same token again and again."""
    url = f"{emulator.base_url}{TOKEN}/getUpdates"
    async with aiohttp.ClientSession() as http:
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.post(url, json={"timeout": 5}) as answer:
                    await answer.read()
            await asyncio.sleep(0.05)


async def test_run_against_a_bot_another_process_polls_ends_in_one_line_and_exit_code_3(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database
) -> None:
    other = asyncio.create_task(_poll_for_ever(emulator))
    try:
        code, output = await run_to_the_end(env_for_subprocess, "run")
    finally:
        other.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await other
    assert code == EXIT_CONFLICT == 3, output
    assert_one_clear_line(output, "another process already polls this bot", "409 Conflict")
    assert output.count("Conflict") == 1, "no retry loop logging each conflict"


async def test_a_second_webhook_worker_on_one_sqlite_file_is_refused_in_one_line(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], tmp_path: Path
) -> None:
    database = tmp_path / "one.sqlite3"
    env = {**env_for_subprocess, "DATABASE_URL": f"sqlite:///{database}"}

    def webhook(port: int) -> list[str]:
        url = f"http://127.0.0.1:{port}/{TOKEN.split(':', 1)[0]}"
        return ["webhook", "--url", url, "--listen", "127.0.0.1", "--port", str(port),
                "--secret-token", SECRET]  # fmt: skip

    log = tmp_path / "first.log"
    with log.open("ab") as sink:
        first = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *webhook(free_port()), env=env, stdout=sink,
            stderr=sink,
        )  # fmt: skip
    try:
        await until(lambda: bool(emulator.webhook_url) or first.returncode is not None, 60)
        assert first.returncode is None, log.read_text()
        code, output = await run_to_the_end(env, *webhook(free_port()))
        assert code == EXIT_CONFLICT, output
        assert_one_clear_line(output, "SQLite", str(database), "PostgreSQL")
        assert first.returncode is None, "the first worker carries on"
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 20)
