"""Throughput and latency of the bot against a bare PTB echo bot, on the same emulator.

    python benchmarks/throughput.py [--users 50] [--messages 10] [--database-url URL]
    python benchmarks/throughput.py --workers --database-url postgresql://...

Both bots run in this process against one emulator, one after the other, so
the ratio says what our handlers, storage and persistence cost on top of PTB.

`--workers` (PostgreSQL) runs real `mentorbot webhook` processes instead: one
worker, then two behind the emulator's round-robin delivery, on a database the
benchmark makes and drops, and prints their updates/s side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from common import TOKEN, echo_app
from telegram.ext import Application

from bot.app import build_application
from bot.sandbox.emulator import BotAPIEmulator
from bot.settings import Settings
from storage.crypto import KeyRing
from storage.db import Database, upgrade


async def _measure(
    emulator: BotAPIEmulator,
    app: Application[Any, Any, Any, Any, Any, Any],
    users: int,
    messages: int,
    first_user: int,
    text: str,
) -> tuple[float, list[float]]:
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=10)
    ids = range(first_user, first_user + users)
    for uid in ids:
        emulator.add_user(uid, f"User{uid}", language_code="sv")
    # Latency: one user at a time, a message and its reply.
    latencies = []
    for i, uid in enumerate(list(ids)[:20]):
        started = time.perf_counter()
        await emulator.send_text(uid, text)
        await emulator.wait_for_messages(uid, 1, timeout=10)
        latencies.append(time.perf_counter() - started)
        del i
    # Throughput: everyone at once.
    started = time.perf_counter()
    for _ in range(messages):
        for uid in ids:
            await emulator.send_text(uid, text)
    for uid in ids:
        expected = messages + (1 if uid < first_user + 20 else 0)
        await emulator.wait_for_messages(uid, expected, timeout=120)
    elapsed = time.perf_counter() - started
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    return users * messages / elapsed, latencies


def _report(name: str, rate: float, latencies: list[float]) -> None:
    p50 = statistics.median(latencies) * 1000
    p95 = sorted(latencies)[int(len(latencies) * 0.95) - 1] * 1000
    print(f"{name:<32} {rate:8.1f} updates/s   latency p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


async def main(users: int, messages: int, database_url: str | None) -> None:
    emulator = BotAPIEmulator()
    await emulator.start()
    try:
        echo_rate, echo_lat = await _measure(
            emulator, echo_app(emulator), users, messages, 10_000, "hej"
        )
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
            await asyncio.to_thread(upgrade, url)
            # A key of its own: PostgreSQL needs one given, SQLite would write one to ./data.
            settings = Settings(
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=url,
                MENTORBOT_DATA_DIR=tmp,
                ENCRYPTION_KEY=KeyRing.generate_key(),
            )
            # Without the limiter the ratio shows what our handlers cost; with it, the
            # bot is held to Telegram's ~30 messages/s on purpose.
            bare = build_application(
                settings, token=TOKEN, database=Database(url), rate_limit=False
            )
            limited = build_application(settings, token=TOKEN, database=Database(url))
            scenarios: list[tuple[str, Callable[[], Awaitable[tuple[float, list[float]]]]]] = [
                (
                    "mentorbot /start, no limiter",
                    lambda: _measure(emulator, bare, users, messages, 20_000, "/start"),
                ),
                (
                    "mentorbot /start, 30/s limiter",
                    lambda: _measure(emulator, limited, users, messages, 30_000, "/start"),
                ),
            ]
            results = [(name, *(await run())) for name, run in scenarios]
        print(
            f"{users} users x {messages} messages, database: {url.split('@')[-1].split('///')[0]}"
        )
        _report("bare PTB echo bot", echo_rate, echo_lat)
        for name, rate, lat in results:
            _report(name, rate, lat)
            print(
                f"{'':<32} ratio to echo: throughput {rate / echo_rate:.2f}x, "
                f"median latency {statistics.median(lat) / statistics.median(echo_lat):.2f}x"
            )
    finally:
        await emulator.stop()


# -- real worker processes -------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SECRET = "benchmark-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _workers_rate(
    server: str, count: int, users: int, messages: int, first_user: int
) -> tuple[float, list[float]]:
    """updates/s and reply latencies of `count` webhook workers on a fresh database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.ext.asyncio import create_async_engine

    from storage.db import async_url

    name = f"mentorbot_workers_{os.getpid()}_{count}"
    admin = create_async_engine(async_url(server), isolation_level="AUTOCOMMIT")
    async with admin.connect() as connection:
        await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    key = KeyRing.generate_key()
    await asyncio.to_thread(upgrade, url, keyring=KeyRing.from_strings(key))
    emulator = BotAPIEmulator(round_robin=True)
    await emulator.start()
    processes: list[asyncio.subprocess.Process] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "PYTEST"))
            }
            env.update(
                PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=emulator.base_url,
                DATABASE_URL=url,
                MENTORBOT_DATA_DIR=tmp,
                ENCRYPTION_KEY=key,
                LOG_LEVEL="WARNING",
            )
            for _ in range(count):
                port = _free_port()
                hook = f"http://127.0.0.1:{port}/{TOKEN.split(':', 1)[0]}"
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot.cli", "webhook", "--url", hook,
                    "--listen", "127.0.0.1", "--port", str(port), "--secret-token", SECRET,
                    cwd=ROOT, env=env,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )  # fmt: skip
                processes.append(process)
            started = time.perf_counter()
            while len(emulator.webhook_urls) < count:
                if time.perf_counter() - started > 90:
                    raise RuntimeError("the workers did not start")
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.0)  # both listening
            ids = range(first_user, first_user + users)
            for uid in ids:
                emulator.add_user(uid, f"User{uid}", language_code="sv")
            latencies = []
            for uid in list(ids)[:20]:
                started = time.perf_counter()
                await emulator.send_text(uid, "/start")
                await emulator.wait_for_messages(uid, 1, timeout=30)
                latencies.append(time.perf_counter() - started)
            started = time.perf_counter()
            for _ in range(messages):
                for uid in ids:
                    await emulator.send_text(uid, "/start")
            for uid in ids:
                expected = messages + (1 if uid < first_user + 20 else 0)
                await emulator.wait_for_messages(uid, expected, timeout=300)
            elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 30)
        await emulator.stop()
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()
    return users * messages / elapsed, latencies


async def workers_main(users: int, messages: int, server: str) -> None:
    one = await _workers_rate(server, 1, users, messages, 40_000)
    two = await _workers_rate(server, 2, users, messages, 50_000)
    print(f"{users} users x {messages} messages, mentorbot webhook workers on PostgreSQL")
    _report("1 worker", *one)
    _report("2 workers, round-robin", *two)
    print(f"{'':<32} ratio two / one: throughput {two[0] / one[0]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--workers", action="store_true", help="one and two webhook processes (PostgreSQL)"
    )
    args = parser.parse_args()
    if args.workers:
        if not (args.database_url or "").startswith("postgres"):
            parser.error("--workers needs --database-url postgresql://...")
        asyncio.run(workers_main(args.users, args.messages, args.database_url))
    else:
        asyncio.run(main(args.users, args.messages, args.database_url))
