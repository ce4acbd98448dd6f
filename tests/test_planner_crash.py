"""kill -9 of `mentorbot run` in the middle of a check-in pass over thousands of pairs:
after a restart every check-in is opened once, each with exactly one prompt and one
reminder, and none of them was ever committed without its messages."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from sqlalchemy import text

from bot.sandbox.emulator import BotAPIEmulator
from storage.db import Database
from storage.planning import BATCH
from storage.types import utcnow
from tests.planning_data import days, many_pairs

PAIRS = 5000
OPENED_AND_QUEUED = text(
    "SELECT (SELECT count(*) FROM checkins),"
    " (SELECT count(*) FROM outbox WHERE kind = 'checkin_prompt'),"
    " (SELECT count(*) FROM outbox WHERE kind = 'checkin_reminder')"
)


async def _start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env, stdout=sink, stderr=sink
        )


async def _progress(db: Database) -> tuple[int, int, int]:
    """(check-ins, prompts, reminders), read in one statement: one snapshot of all three."""
    async with db.engine.connect() as conn:
        opened, prompts, reminders = (await conn.execute(OPENED_AND_QUEUED)).one()
    return int(opened), int(prompts), int(reminders)


async def test_a_planner_killed_mid_pass_leaves_whole_batches_and_the_restart_plans_the_rest_once(
    emulator: BotAPIEmulator, env_for_subprocess: dict[str, str], db: Database, tmp_path: Path
) -> None:
    # Started a month and three days ago: period 1 is due for all 10,000 people.
    await many_pairs(db, PAIRS, started_at=utcnow() - days(33), first_telegram_id=60_000)
    env = dict(
        env_for_subprocess,
        PLANNING_DELAY_SECONDS="1",
        # Nobody to send to: the dispatcher stays out of the planner's way.
        QUIET_HOURS_START="00:00",
        QUIET_HOURS_END="23:59",
    )
    log = tmp_path / "bot.log"

    first = await _start(env, log)
    try:
        # A liveness bound: two batches take seconds, a loaded machine many more.
        deadline = asyncio.get_running_loop().time() + 240
        while (await _progress(db))[0] < 2 * BATCH:
            assert first.returncode is None, log.read_text()[-3000:]
            assert asyncio.get_running_loop().time() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.01)
    finally:
        # Killed whatever happened: a bot left running would hold the SQLite file's lock
        # and every later test that starts a bot process would be refused.
        if first.returncode is None:
            first.send_signal(signal.SIGKILL)
            await first.wait()
    opened, prompts, reminders = await _progress(db)
    assert opened < 2 * PAIRS, "the kill must land mid-pass"
    # Whole batches only: every check-in committed came with both its messages.
    assert opened % (2 * BATCH) == 0
    assert prompts == reminders == opened

    second = await _start(env, log)
    try:
        # A liveness bound, not a speed target: a loaded CI machine takes minutes.
        deadline = asyncio.get_running_loop().time() + 300
        while (await _progress(db))[0] < 2 * PAIRS:
            assert second.returncode is None, log.read_text()[-3000:]
            assert asyncio.get_running_loop().time() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
    finally:
        # Killed as well: what it planned is committed, so a crash now loses nothing.
        if second.returncode is None:
            second.send_signal(signal.SIGKILL)
            await second.wait()

    assert await _progress(db) == (2 * PAIRS, 2 * PAIRS, 2 * PAIRS)
    async with db.engine.connect() as conn:
        per_checkin = (
            await conn.execute(
                text(
                    "SELECT c.id, count(o.id) FROM checkins c"
                    " LEFT JOIN outbox o ON o.checkin_id = c.id"
                    " GROUP BY c.id HAVING count(o.id) <> 2"
                )
            )
        ).all()
        periods = (await conn.execute(text("SELECT DISTINCT period FROM checkins"))).scalars().all()
    assert per_checkin == [], "each check-in has exactly its prompt and its reminder"
    assert list(periods) == [1]
