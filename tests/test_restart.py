"""`mentorbot run` as a real process: it starts against the emulator and survives kill -9."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from sqlmodel import select

from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.models import ConversationState, User
from tests.harness import Person


async def _until(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the bot process did not get ready")
        await asyncio.sleep(0.05)


@asynccontextmanager
async def running_bot(
    env: dict[str, str], emulator: BotAPIEmulator, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    polls_before = sum(1 for method, _ in emulator.calls if method == "getupdates")
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=sink, stderr=sink
        )
    try:
        # Ready once it polls: menus are registered before polling starts.
        await _until(
            lambda: (
                sum(1 for method, _ in emulator.calls if method == "getupdates") > polls_before
                or process.returncode is not None
            )
        )
        assert process.returncode is None, log.read_text()
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()


async def test_run_registers_menus_and_answers_in_both_languages(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    async with running_bot(env_for_subprocess, emulator, tmp_path / "bot.log"):
        assert any(method == "getme" for method, _ in emulator.calls)
        assert emulator.commands(language_code="sv") and emulator.commands(language_code="en")
        sv = Person(emulator, 501, "Astrid", "sv")
        en = Person(emulator, 502, "Alan", "en")
        assert "Hej Astrid" in (await sv.ask("/start")).text
        assert "Hi Alan" in (await en.ask("/start")).text
    log = (tmp_path / "bot.log").read_text()
    assert "123456:" not in log, "the token must never be logged"


async def test_kill_9_mid_conversation_loses_nothing_acknowledged(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    kim = Person(emulator, 777, "Kim", "en")
    log = tmp_path / "bot.log"
    async with running_bot(env_for_subprocess, emulator, log) as process:
        await kim.ask("/settings")
        await kim.press("Svenska")
        question = await kim.reply()  # acknowledged: the language is saved, next step asked
        assert "tidszon" in question.text
        process.send_signal(signal.SIGKILL)
        await process.wait()

    async with db.session() as session:
        states = (await session.exec(select(ConversationState))).all()
    assert [(s.name, s.state) for s in states] == [("settings", '"timezone"')]

    async with running_bot(env_for_subprocess, emulator, log):
        saved = await kim.ask("Helsinki", timeout=15)
        assert "Tidszon sparad: Europe/Helsinki" in saved.text

    async with db.session() as session:
        user = (await session.exec(select(User).where(User.telegram_id == 777))).one()
    assert (user.language, user.timezone) == ("sv", "Europe/Helsinki")


async def test_webhook_mode_receives_updates_with_the_secret_token(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "webhook.log"
    with log.open("ab") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "webhook",
            "--url", f"http://127.0.0.1:{port}/123456",
            "--listen", "127.0.0.1", "--port", str(port), "--secret-token", "s3cret-Token",
            env=env_for_subprocess, stdout=sink, stderr=sink,
        )  # fmt: skip
    try:
        await _until(lambda: bool(emulator.webhook_url) or process.returncode is not None)
        assert emulator.webhook_url == f"http://127.0.0.1:{port}/123456", log.read_text()
        assert emulator.webhook_secret == "s3cret-Token"
        greta = Person(emulator, 901, "Greta", "sv")
        assert "Hej Greta" in (await greta.ask("/start", timeout=15)).text
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 20)
