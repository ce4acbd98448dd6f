"""Throughput and latency of the bot against a bare PTB echo bot, on the same emulator.

    python benchmarks/throughput.py [--users 50] [--messages 10] [--database-url URL]

Both bots run in this process against one emulator, one after the other, so
the ratio says what our handlers, storage and persistence cost on top of PTB.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    asyncio.run(main(args.users, args.messages, args.database_url))
